// Tests of sim_context: driving, drain-before-advance, ordering, bounds.
#include <faultline/sim_context.hpp>

#include <faultline/gtest.hpp>
#include <faultline/steady_timer.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <gtest/gtest.h>

#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using faultline::at;

TEST(SimContext, TimerFiresAtItsDeadline) {
  faultline::sim_context sim;
  auto r = sim.run([]() -> asio::awaitable<int> {
    co_await faultline::sleep_for(10ms);
    co_return 42;
  }());
  ASSERT_TRUE(r.has_value());
  EXPECT_EQ(r.value(), 42);
  EXPECT_EQ(r.completed_at(), at(10ms));
  EXPECT_EQ(sim.now(), at(10ms));
}

}  // namespace
