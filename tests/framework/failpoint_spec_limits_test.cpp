// Tests of the FAULTLINE_FAILPOINTS parser at its limits: out-of-range durations, megabyte specs, round trips.
#include <faultline/failpoint_spec.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <cstdint>
#include <limits>
#include <string>
#include <string_view>

#include "support/spec_rejects.hpp"

namespace {

using faultline::failpoint_action;
using faultline::failpoint_spec_error;
using faultline::parse_failpoints;

using faultline_test::rejects;

// Issue 11, item 5: delay(10000000000000) overflowed in the ms -> ns
// conversion (UBSan), and the hit completed at t=0.
TEST(FailpointSpecLimits, DelaysBeyondTheSimClockAreRejectedAtTheirColumn) {
  EXPECT_TRUE(rejects("db=delay(10000000000000)", 9,
                      "expected a non-negative whole number of milliseconds, at most 9223372036854 (about 292 "
                      "years), as in delay(100), found \"10000000000000\""));
  EXPECT_TRUE(rejects("db=delay(9223372036855)", 9, "found \"9223372036855\""));
  EXPECT_TRUE(rejects("db=delay( 99999999999999999999 )", 10, "found \"99999999999999999999\""));
  EXPECT_TRUE(rejects("a=off; db = 2*delay(9223372036854775807)", 20, "at most 9223372036854"));
  // The largest accepted delay converts to the sim clock's nanoseconds exactly.
  const auto fps = parse_failpoints("db=delay(9223372036854)");
  ASSERT_EQ(fps.size(), 1u);
  const auto d = fps[0].tasks[0].delay;
  EXPECT_EQ(d.count(), 9'223'372'036'854);
  const auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(d);
  EXPECT_EQ(ns.count(), 9'223'372'036'854'000'000);
  EXPECT_GT(ns.count(), 0);
  EXPECT_EQ(to_string(fps[0]), "db=delay(9223372036854)");
}

TEST(FailpointSpecLimits, OtherNumbersAreRangeChecked) {
  EXPECT_TRUE(rejects("db=18446744073709551616*off", 3, "a count from 1 to 18446744073709551615"));
  EXPECT_TRUE(rejects("db=0*off", 3, "a count from 1"));
  EXPECT_TRUE(rejects("db=error(2147483648)", 9, "an error number from 1 to 2147483647"));
  EXPECT_TRUE(rejects("db=error(0)", 9, "an error number from 1 to 2147483647"));
  EXPECT_TRUE(rejects("db=100.5%off", 3, "a probability from 0 to 100"));
  EXPECT_EQ(parse_failpoints("db=18446744073709551615*off")[0].tasks[0].count,
            std::numeric_limits<std::uint64_t>::max());
}

// Issue 11, item 6: the duplicate-name check was quadratic; a 1 MB spec
// with ~95k entries did not finish in 5 minutes under ASan.
TEST(FailpointSpecLimits, AMegabyteSpecParsesAndItsDuplicatesAreFound) {
  std::string spec;
  constexpr std::size_t n = 95'000;
  for (std::size_t i = 0; i < n; ++i) spec += "svc/p" + std::to_string(i) + "=25%2*delay(" + std::to_string(i) + ");";
  ASSERT_GT(spec.size(), 2'000'000u);
  const auto fps = parse_failpoints(spec);
  ASSERT_EQ(fps.size(), n);
  EXPECT_EQ(fps[0].name, "svc/p0");
  EXPECT_EQ(fps[n - 1].name, "svc/p94999");
  EXPECT_EQ(fps[n - 1].tasks[0].delay, std::chrono::milliseconds(94'999));
  EXPECT_EQ(fps[n - 1].tasks[0].probability, 25.0);
  EXPECT_EQ(fps[n - 1].tasks[0].count, 2u);
  // A name set again at the very end: found, with both columns.
  const std::string dup = spec + "svc/p17=off";
  const std::size_t first = spec.find("svc/p17=");
  EXPECT_TRUE(rejects(dup, spec.size(), "a duplicate \"svc/p17\" (first set at column " + std::to_string(first) + ")"));
}

// Whatever parses prints as text that parses to the same configs.
TEST(FailpointSpecLimits, EveryTaskShapeRoundTrips) {
  const std::string spec =
      "a=off;b=delay(0)->delay(9223372036854);c=12.5%throw( spaced ;-> message (nested) );d=0%error(eof);"
      "e=100%3*error(2147483647)->hang;f=0.0001%cancel;g=throw;h=1*throw()";
  const auto fps = parse_failpoints(spec);
  std::string printed;
  for (const auto& c : fps) printed += to_string(c) + ";";
  EXPECT_EQ(parse_failpoints(printed), fps) << printed;
  EXPECT_EQ(to_string(fps[2]), "c=12.5%throw(spaced ;-> message (nested))");
}

}  // namespace
