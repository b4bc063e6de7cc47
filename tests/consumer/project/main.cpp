// faultline consumer test: a user's program that sleeps 5 ms of virtual time on a sim.
#include <faultline/sim_context.hpp>
#include <faultline/steady_timer.hpp>

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <cstdio>
#include <exception>

namespace {

boost::asio::awaitable<int> sleep_then_seven() {
  co_await faultline::sleep_for(std::chrono::milliseconds(5));
  co_return 7;
}

}  // namespace

int main() {
  try {
    faultline::sim_context sim;
    auto r = sim.run(sleep_then_seven());
    if (r.value() != 7) {
      std::fprintf(stderr, "consumer: expected 7, got %d\n", r.value());
      return 1;
    }
    if (sim.now() != faultline::at(std::chrono::milliseconds(5))) {
      std::fprintf(stderr, "consumer: expected the sim at t=0.005s, it is at %s\n",
                   faultline::to_string(sim.now()).c_str());
      return 1;
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "consumer: %s\n", e.what());
    return 1;
  }
  std::puts("consumer: ok");
  return 0;
}
