// Tests of the exhaustive sweeps' options (kinds, codes, latencies, points, the call bound) and of pairwise sweeps.
#include <faultline/sweep.hpp>

#include <faultline/fake.hpp>
#include <faultline/steady_timer.hpp>

#include <boost/asio/error.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <ios>
#include <stdexcept>
#include <string>

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using faultline::fault_kind;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using ::testing::Not;

using lookup_fake = faultline::async_fake<std::string(std::string)>;

// Reads a key from the cache, then the database. Retries a timed-out read
// once; a reset connection is not retried, a bug only that code shows.
faultline::chaos_scenario lookup_scenario(int* runs = nullptr) {
  return [runs](faultline::sim_context& sim) {
    if (runs) ++*runs;
    lookup_fake cache(sim, "cache");
    lookup_fake db(sim, "db");
    cache.on_call().after(1ms).returns("miss").repeatedly();
    db.on_call().after(5ms).returns("v").repeatedly();
    auto r = sim.run([&]() -> asio::awaitable<std::string> {
      try {
        co_await cache("k");
      } catch (const boost::system::system_error&) {
      }
      for (int attempt = 0;; ++attempt) {
        try {
          co_return co_await db("k");
        } catch (const boost::system::system_error& e) {
          if (e.code() != asio::error::timed_out || attempt == 1) throw;
        }
      }
    }());
    if (!r.has_value()) throw std::runtime_error("no value: " + r.describe() + "\nsecond line");
  };
}

std::vector<std::string> schedules(const faultline::single_fault_result& r) {
  std::vector<std::string> out;
  for (const auto& f : r.failures) out.push_back(f.schedule.to_string());
  return out;
}

TEST(FaultSweepOptions, CodesPointsAndExclusionsChooseTheFaults) {
  faultline::single_fault_options o;
  o.kinds = {fault_kind::error};
  o.error_codes = {asio::error::timed_out, asio::error::connection_reset};
  int runs = 0;
  const auto r = faultline::sweep_single_faults(o, lookup_scenario(&runs));
  // cache#0 (2 codes) and db#0 (2 codes): only the reset at the database breaks it.
  EXPECT_EQ(r.runs, 4u);
  EXPECT_EQ(runs, 5);  // and the fault-free run
  EXPECT_THAT(schedules(r), ElementsAre("db#0=error(connection_reset)"));
  EXPECT_THAT(r.failures[0].failure, HasSubstr("no value"));
  EXPECT_THAT(faultline::describe(r), HasSubstr("1 of 4 faulted runs failed:\n"));
  EXPECT_THAT(faultline::describe(r), Not(HasSubstr("second line")));  // first lines only

  o.excluded_points = {"db"};
  EXPECT_TRUE(faultline::sweep_single_faults(o, lookup_scenario()).failures.empty());
  o.excluded_points.clear();
  o.points = {"cache"};
  const auto cache_only = faultline::sweep_single_faults(o, lookup_scenario());
  EXPECT_EQ(cache_only.runs, 2u);
  EXPECT_TRUE(cache_only.failures.empty());
}

TEST(FaultSweepOptions, EveryFailureIsListedNotOnlyTheFirst) {
  faultline::single_fault_options o;
  o.kinds = {fault_kind::error, fault_kind::hang, fault_kind::cancel, fault_kind::latency};
  o.latencies = {1ms, 1h};
  const auto r = faultline::sweep_single_faults(o, lookup_scenario());
  // Hangs stall it (no timeout); every database fault but a timeout or a latency fails it.
  EXPECT_THAT(schedules(r), ElementsAre("cache#0=hang", "db#0=error", "db#0=hang", "db#0=cancel"));
  EXPECT_EQ(r.runs, 10u);
}

TEST(FaultSweepOptions, BadOptionsAreRejectedNamingTheFix) {
  faultline::single_fault_options o;
  o.kinds.clear();
  EXPECT_THAT([&] { faultline::sweep_single_faults(o, lookup_scenario()); },
              ::testing::ThrowsMessage<std::invalid_argument>(HasSubstr("options.kinds is empty")));
  o.kinds = {fault_kind::error};
  // A category a schedule cannot name: the sweep's schedules would not replay.
  o.error_codes = {boost::system::error_code(std::make_error_code(std::io_errc::stream))};
  EXPECT_THAT([&] { faultline::sweep_single_faults(o, lookup_scenario()); },
              ::testing::ThrowsMessage<std::invalid_argument>(::testing::AllOf(HasSubstr("options.error_codes holds "), HasSubstr("which a schedule cannot replay"))));
}

TEST(PairwiseSweep, FindsWhatNeedsTwoFaultsAndSkipsFaultsFailingAlone) {
  faultline::single_fault_options o;
  o.kinds = {fault_kind::error};
  o.error_codes = {asio::error::timed_out};
  // One timeout is retried; two in a row at the database exhaust the retry.
  EXPECT_TRUE(faultline::sweep_single_faults(o, lookup_scenario()).failures.empty());
  const auto r = faultline::sweep_fault_pairs(o, lookup_scenario());
  EXPECT_THAT(schedules(r), ElementsAre("db#0=error(timed_out);db#1=error(timed_out)"));
  EXPECT_TRUE(r.single_failures.empty());
  // Singles: cache#0, db#0; pairs: {cache#0, db#0}, then {db#0, db#1}, a call only the run with db#0 made.
  EXPECT_EQ(r.runs, 2u + 2u);

  o.error_codes.push_back(asio::error::connection_reset);
  const auto with_reset = faultline::sweep_fault_pairs(o, lookup_scenario());
  ASSERT_EQ(with_reset.single_failures.size(), 1u);
  EXPECT_EQ(with_reset.single_failures[0].schedule.to_string(), "db#0=error(connection_reset)");
  for (const auto& s : schedules(with_reset)) EXPECT_THAT(s, Not(HasSubstr("db#0=error(connection_reset)")));
  EXPECT_THAT(faultline::describe(with_reset), HasSubstr("1 single faults fail alone"));

  o.error_codes = {asio::error::timed_out};
  o.max_runs = 3;
  const auto cut = faultline::sweep_fault_pairs(o, lookup_scenario());
  EXPECT_TRUE(cut.truncated);
  EXPECT_EQ(cut.runs, 3u);
  EXPECT_THAT(faultline::describe(cut), HasSubstr("stopped after 3 runs (max_runs)"));
}

TEST(PairwiseSweep, MaxCallBoundsTheCallsTried) {
  faultline::single_fault_options o;
  o.kinds = {fault_kind::error};
  o.error_codes = {asio::error::timed_out};
  o.max_call = 1;
  // db#1 is out of bounds: the failing pair is never tried.
  const auto r = faultline::sweep_fault_pairs(o, lookup_scenario());
  EXPECT_TRUE(r.failures.empty());
  EXPECT_EQ(r.runs, 2u + 1u);
}

}  // namespace
