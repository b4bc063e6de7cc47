// A program with no test framework reporter: failures that belong to no call must still fail it.
// `unmet`: a double destroyed with an unused step. `env`: FAULTLINE_FAILPOINTS arms a name no sim reaches.
#include <faultline/fake.hpp>
#include <faultline/failpoint.hpp>

#include <cstring>
#include <string>

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  faultline::sim_context sim;
  if (mode == "unmet") {
    faultline::async_fake<int()> next(sim, "next");
    next.on_call().returns(1).then().returns(2);
    return sim.run(next()).value() == 1 ? 0 : 2;
  }
  if (mode == "env") {
    auto body = []() -> boost::asio::awaitable<void> { co_await faultline::failpoint("db.commit"); };
    return sim.run(body()).has_value() ? 0 : 2;
  }
  return 3;
}
