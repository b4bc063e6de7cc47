// faultline demo: a retry with backoff and a timeout, run under injected faults in virtual time.
#include <faultline/faultline.hpp>

#include <boost/asio/experimental/awaitable_operators.hpp>

#include <chrono>
#include <iostream>
#include <string>

namespace asio = boost::asio;
using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;
using fetch_fn = faultline::async_fake<std::string(std::string)>;

// The code under test: what a service would ship. It only sees a callable
// returning asio::awaitable<std::string> and faultline's timer.
template <class Fetch>
asio::awaitable<std::string> fetch_with_retry(Fetch& fetch, std::string url, int attempts) {
  auto backoff = std::chrono::milliseconds(1000);
  for (int attempt = 1;; ++attempt) {
    try {
      co_return co_await fetch(url);
    } catch (const boost::system::system_error&) {
      if (attempt == attempts) throw;
    }
    co_await faultline::sleep_for(backoff);
    backoff *= 2;
  }
}

template <class Fetch>
asio::awaitable<std::string> fetch_with_timeout(Fetch& fetch, std::string url, std::chrono::seconds limit) {
  auto r = co_await (fetch(url) || faultline::sleep_for(limit));
  if (r.index() == 1) throw std::runtime_error("timed out after " + std::to_string(limit.count()) + "s");
  co_return std::get<0>(r);
}

namespace {

int failures = 0;
faultline::sim_clock::duration simulated{};

void check(bool ok, const std::string& what) {
  std::cout << (ok ? "  ok    " : "  WRONG ") << what << "\n";
  if (!ok) ++failures;
}

void scenario_retry() {
  std::cout << "\n1. a flaky dependency: two refused connections, then success\n";
  faultline::sim_context sim;
  fetch_fn fetch(sim, "fetch");
  fetch.on_call().after(100ms).fails(asio::error::connection_refused).times(2).then().after(100ms).returns("<html>");
  auto r = sim.run(fetch_with_retry(fetch, "/index", 4));
  std::cout << sim.trace().timeline();
  check(r.has_value() && r.value() == "<html>", "the retry succeeds: " + r.describe());
  simulated += sim.now().time_since_epoch();
  check(fetch.calls().size() == 3 && fetch.calls()[1].started == faultline::at(1100ms) &&
            fetch.calls()[2].started == faultline::at(3200ms),
        "attempts start at t=0.000s, t=1.100s, t=3.200s (100ms latency + 1s, then 2s backoff)");
}

void scenario_timeout() {
  std::cout << "\n2. a dependency that hangs, behind a 5s timeout\n";
  faultline::sim_context sim;
  fetch_fn fetch(sim, "fetch");
  fetch.on_call().hangs();
  auto r = sim.run(fetch_with_timeout(fetch, "/slow", 5s));
  std::cout << sim.trace().timeline();
  simulated += sim.now().time_since_epoch();
  check(r.has_exception() && r.completed_at() == faultline::at(5s), "the timeout fires at exactly t=5.000s: " + r.describe());
  check(fetch.calls()[0].status == faultline::call_status::cancelled, "the hanging call was cancelled, not leaked");
}

void scenario_stall() {
  std::cout << "\n3. the same hang without a timeout: the sim reports it instead of hanging the test\n";
  faultline::sim_context sim;
  fetch_fn fetch(sim, "fetch");
  fetch.on_call().hangs();
  try {
    sim.run(fetch_with_retry(fetch, "/slow", 4));
    check(false, "a stall was reported");
  } catch (const faultline::stall_error& e) {
    std::cout << e.what() << "\n";
    check(e.pending().size() == 2, "the stall report names the task and the hanging call");
  }
}

}  // namespace

int main() {
  std::cout << "faultline demo: each scenario runs in virtual time on a faultline::sim_context\n";
  const auto wall_start = std::chrono::steady_clock::now();
  scenario_retry();
  scenario_timeout();
  scenario_stall();
  const auto wall = std::chrono::steady_clock::now() - wall_start;
  std::cout << "\n" << faultline::to_string(simulated) << " of virtual time simulated in "
            << std::chrono::duration_cast<std::chrono::microseconds>(wall).count() << " us of wall time\n";
  if (failures) {
    std::cout << failures << " scenario check(s) failed\n";
    return 1;
  }
  std::cout << "all 3 scenarios behaved as expected\n";
  return 0;
}
