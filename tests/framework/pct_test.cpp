// Tests of the PCT handler order (sim_options::perturb_mode = perturbation::pct).
#include <faultline/sim_context.hpp>

#include <faultline/gtest.hpp>

#include <boost/asio/post.hpp>
#include <gtest/gtest.h>

#include <set>
#include <stdexcept>
#include <string>

namespace {

namespace asio = boost::asio;

faultline::sim_options pct_options(std::uint64_t seed, std::uint32_t depth, std::uint64_t steps = 1000) {
  faultline::sim_options o;
  o.seed = seed;
  o.perturb = true;
  o.perturb_mode = faultline::perturbation::pct;
  o.pct_depth = depth;
  o.pct_steps = steps;
  return o;
}

// Three tasks, each taking four steps at t=0 (yielding through post between
// them); returns the order of the steps ("abcabcabcabc" under FIFO).
std::string pct_steps_of(const faultline::sim_options& o) {
  faultline::sim_context sim(o);
  std::string order;
  for (char name : std::string("abc"))
    sim.spawn(std::string(1, name), [&order, name]() -> asio::awaitable<void> {
      for (int i = 0; i < 4; ++i) {
        order += name;
        co_await asio::post(co_await asio::this_coro::executor, asio::use_awaitable);
      }
    });
  sim.run();
  return order;
}

TEST(Pct, DepthOneRunsEachThreadToTheEndInSeededPriorityOrder) {
  // No change points: the highest thread's steps (its continuations inherit
  // its priority) all run before the next thread's.
  std::set<std::string> seen;
  for (std::uint64_t seed = 1; seed <= 30; ++seed) {
    const std::string order = pct_steps_of(pct_options(seed, 1));
    ASSERT_EQ(order.size(), 12u);
    // Spawning queues each task with a fresh priority: the only freedom is
    // which thread goes first, second and third.
    EXPECT_TRUE(order == "aaaabbbbcccc" || order == "aaaaccccbbbb" || order == "bbbbaaaacccc" ||
                order == "bbbbccccaaaa" || order == "ccccaaaabbbb" || order == "ccccbbbbaaaa")
        << "seed " << seed << ": " << order;
    seen.insert(order);
  }
  EXPECT_EQ(seen.size(), 6u);  // every priority order occurs in 30 seeds
}

TEST(Pct, ChangePointsPreemptAThread) {
  // Two change points among the first 4 choices: some seeds interleave threads.
  std::set<std::string> seen;
  for (std::uint64_t seed = 1; seed <= 30; ++seed) seen.insert(pct_steps_of(pct_options(seed, 3, 4)));
  bool interleaved = false;
  for (const auto& order : seen)
    interleaved = interleaved || (order.substr(0, 4) != std::string(4, order[0]));
  EXPECT_TRUE(interleaved);
}

TEST(Pct, TheSeedReplaysTheOrder) {
  for (std::uint64_t seed = 1; seed <= 10; ++seed)
    EXPECT_EQ(pct_steps_of(pct_options(seed, 3, 6)), pct_steps_of(pct_options(seed, 3, 6))) << "seed " << seed;
}

TEST(Pct, WithoutPerturbTheOrderIsFifo) {
  auto o = pct_options(7, 3);
  o.perturb = false;
  EXPECT_EQ(pct_steps_of(o), "abcabcabcabc");
}

TEST(Pct, ZeroDepthOrStepsAreRejected) {
  auto expect_message = [](const faultline::sim_options& o, const std::string& text) {
    try {
      faultline::sim_context sim(o);
      ADD_FAILURE() << "accepted";
    } catch (const std::invalid_argument& e) {
      EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
    }
  };
  expect_message(pct_options(1, 0), "sim_options::pct_depth is 0; PCT needs a depth of at least 1");
  expect_message(pct_options(1, 3, 0), "sim_options::pct_steps is 0");
}

}  // namespace
