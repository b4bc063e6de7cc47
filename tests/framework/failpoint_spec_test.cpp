// Tests of the FAULTLINE_FAILPOINTS parser: every valid shape, round trips, every error.
#include <faultline/failpoint_spec.hpp>

#include <gtest/gtest.h>

#include <ostream>
#include <string>
#include <string_view>
#include <vector>

#include "support/spec_rejects.hpp"

namespace faultline {
// Internal linkage, still found by ADL: failures print the spec text, not bytes.
[[maybe_unused]] static void PrintTo(const failpoint_task& t, std::ostream* os) {
  *os << to_string(t);
}
[[maybe_unused]] static void PrintTo(const failpoint_config& c, std::ostream* os) {
  *os << to_string(c);
}
}  // namespace faultline

namespace {

using namespace std::chrono_literals;
using faultline::failpoint_action;
using faultline::failpoint_config;
using faultline::failpoint_spec_error;
using faultline::failpoint_task;
using faultline::parse_failpoints;

failpoint_task only_task(std::string_view spec) {
  auto fps = parse_failpoints(spec);
  if (fps.size() != 1 || fps[0].tasks.size() != 1) {
    ADD_FAILURE() << "expected one failpoint with one task from " << spec;
    return {};
  }
  return fps[0].tasks[0];
}

using faultline_test::rejects;

TEST(FailpointSpec, EmptyEntriesGiveNoFailpoints) {
  EXPECT_TRUE(parse_failpoints("").empty());
  EXPECT_TRUE(parse_failpoints(" ; ;\n;").empty());
  EXPECT_EQ(parse_failpoints(";a=off;;").size(), 1u);
}

TEST(FailpointSpec, EachActionParses) {
  EXPECT_EQ(only_task("a=off").action, failpoint_action::off);
  EXPECT_EQ(only_task("a=hang").action, failpoint_action::hang);
  EXPECT_EQ(only_task("a=cancel").action, failpoint_action::cancel);

  const auto delay = only_task("a=delay(250)");
  EXPECT_EQ(delay.action, failpoint_action::delay);
  EXPECT_EQ(delay.delay, 250ms);
  EXPECT_EQ(only_task("a=delay(0)").delay, 0ms);

  EXPECT_EQ(only_task("a=throw").action, failpoint_action::throw_exception);
  EXPECT_EQ(only_task("a=throw").arg, "");
  EXPECT_EQ(only_task("a=throw()").arg, "");
  EXPECT_EQ(only_task("a=throw(disk full)").arg, "disk full");

  const auto named = only_task("a=error(connection_refused)");
  EXPECT_EQ(named.action, failpoint_action::error);
  EXPECT_EQ(named.arg, "connection_refused");
  EXPECT_EQ(only_task("a=error(111)").arg, "111");
  EXPECT_EQ(only_task("a=error(007)").arg, "7");
}

TEST(FailpointSpec, ActionsDefaultToAlwaysAndForever) {
  const auto t = only_task("a=hang");
  EXPECT_EQ(t.probability, 100.0);
  EXPECT_FALSE(t.count.has_value());
}

TEST(FailpointSpec, ProbabilityAndCountAreStored) {
  const auto both = only_task("a=12.5%3*delay(10)");
  EXPECT_EQ(both.probability, 12.5);
  EXPECT_EQ(both.count, 3u);
  EXPECT_EQ(both.delay, 10ms);

  EXPECT_EQ(only_task("a=50%off").probability, 50.0);
  EXPECT_FALSE(only_task("a=50%off").count.has_value());
  EXPECT_EQ(only_task("a=2*hang").count, 2u);
  EXPECT_EQ(only_task("a=2*hang").probability, 100.0);
  EXPECT_EQ(only_task("a=0%cancel").probability, 0.0);
  EXPECT_EQ(only_task("a=100.0%cancel").probability, 100.0);
  EXPECT_EQ(only_task("a=18446744073709551615*off").count, 18446744073709551615u);
}

TEST(FailpointSpec, ChainKeepsTaskOrder) {
  const auto fps = parse_failpoints("db.commit=2*error(timed_out)->10%delay(5)->off");
  ASSERT_EQ(fps.size(), 1u);
  ASSERT_EQ(fps[0].tasks.size(), 3u);
  EXPECT_EQ(fps[0].tasks[0].action, failpoint_action::error);
  EXPECT_EQ(fps[0].tasks[0].count, 2u);
  EXPECT_EQ(fps[0].tasks[1].action, failpoint_action::delay);
  EXPECT_EQ(fps[0].tasks[1].probability, 10.0);
  EXPECT_EQ(fps[0].tasks[2].action, failpoint_action::off);
}

TEST(FailpointSpec, EntriesKeepSpecOrderAndFullNameAlphabet) {
  const auto fps = parse_failpoints("zeta=off;rpc/send:v2-retry.x_Y9=hang;alpha=cancel;");
  ASSERT_EQ(fps.size(), 3u);
  EXPECT_EQ(fps[0].name, "zeta");
  EXPECT_EQ(fps[1].name, "rpc/send:v2-retry.x_Y9");
  EXPECT_EQ(fps[2].name, "alpha");
  EXPECT_EQ(fps[1].tasks[0].action, failpoint_action::hang);
}

TEST(FailpointSpec, WhitespaceAroundTokensIsIgnored) {
  EXPECT_EQ(parse_failpoints(" a = 25 % 2 * delay ( 10 ) -> throw (  bad thing ) ;\n\tb=cancel "),
            parse_failpoints("a=25%2*delay(10)->throw(bad thing);b=cancel"));
  EXPECT_EQ(only_task("a=error( eof )").arg, "eof");
}

TEST(FailpointSpec, ThrowMessageMayHoldBalancedParensSemicolonsAndArrows) {
  const auto fps = parse_failpoints("a=throw(f(x); y->z)->off;b=hang");
  ASSERT_EQ(fps.size(), 2u);
  ASSERT_EQ(fps[0].tasks.size(), 2u);
  EXPECT_EQ(fps[0].tasks[0].arg, "f(x); y->z");
  EXPECT_EQ(fps[1].name, "b");
}

TEST(FailpointSpec, ToStringIsCanonical) {
  EXPECT_EQ(to_string(parse_failpoints(" a = 25.0 % 2 * delay ( 10 ) -> off ")[0]),
            "a=25%2*delay(10)->off");
  EXPECT_EQ(to_string(parse_failpoints("a=100%throw()->12.50%error(0042)")[0]),
            "a=throw->12.5%error(42)");
  EXPECT_EQ(to_string(failpoint_action::throw_exception), std::string_view("throw"));
}

TEST(FailpointSpec, ToStringParsesBackToTheSameConfig) {
  const char* specs[] = {
      "a=off",
      "a=hang",
      "a=cancel",
      "a=delay(0)",
      "a=delay(9223372036854)",
      "a=throw",
      "a=throw(boom (again); x->y)",
      "a=error(broken_pipe)",
      "a=error(2147483647)",
      "a=0.1%off",
      "a=0.00001%off",
      "a=33.333333333333336%hang",
      "a=0%1*cancel",
      "a=99.99%18446744073709551615*delay(7)",
      "x.y:z/w-v=5*error(timed_out)->50%throw(t)->2*delay(3)->off",
  };
  for (const char* spec : specs) {
    SCOPED_TRACE(spec);
    const auto fps = parse_failpoints(spec);
    ASSERT_EQ(fps.size(), 1u);
    const std::string text = to_string(fps[0]);
    EXPECT_EQ(parse_failpoints(text), fps) << text;
  }
}

TEST(FailpointSpec, ErrorReportQuotesTheTokenAndPointsAtIt) {
  try {
    parse_failpoints("db.commit=explode");
    FAIL() << "no error";
  } catch (const std::invalid_argument& base) {
    const auto* e = dynamic_cast<const failpoint_spec_error*>(&base);
    ASSERT_NE(e, nullptr);
    EXPECT_STREQ(e->what(),
                 "faultline: bad FAULTLINE_FAILPOINTS at column 10: expected an action (off, "
                 "delay, throw, error, hang, cancel), found \"explode\"\n"
                 "  db.commit=explode\n"
                 "            ^");
    EXPECT_EQ(e->position(), 10u);
    EXPECT_EQ(e->expected(), "an action (off, delay, throw, error, hang, cancel)");
    EXPECT_EQ(e->found(), "\"explode\"");
    EXPECT_EQ(e->spec(), "db.commit=explode");
  }
}

// The offending bytes are quoted as a fault schedule quotes them (one shared definition): a byte
// outside printable ASCII as \xHH, so a lone byte of a UTF-8 sequence never lands raw in a message.
TEST(FailpointSpec, ErrorReportShowsBytesOutsideAsciiAsHex) {
  const auto found = [](std::string_view spec) -> std::string {
    try {
      parse_failpoints(spec);
    } catch (const failpoint_spec_error& e) {
      return e.found();
    }
    return "accepted";
  };
  EXPECT_EQ(found("caf\xc3\xa9=hang"), "\"\\xc3\"");
  EXPECT_EQ(found("a=error(\x7f)"), "\"\\x7f\"");
}

TEST(FailpointSpec, CaretStaysAlignedPastNewlinesAndTabs) {
  try {
    parse_failpoints("a=off;\n\tb=zap");
    FAIL() << "no error";
  } catch (const failpoint_spec_error& e) {
    EXPECT_EQ(e.position(), 10u);
    const std::string what = e.what();
    EXPECT_EQ(what.substr(what.find('\n')), "\n  a=off;  b=zap\n            ^");
  }
}

TEST(FailpointSpec, RejectsUnknownActions) {
  EXPECT_TRUE(rejects("db.commit=explode", 10, "expected an action (off, delay, throw, error, "
                                                "hang, cancel), found \"explode\""));
  EXPECT_TRUE(rejects("a=Delay(1)", 2, "found \"Delay\""));
  EXPECT_TRUE(rejects("a=return", 2, "found \"return\""));
  EXPECT_TRUE(rejects("a=", 2, "expected an action (off, delay, throw, error, hang, cancel), "
                               "found end of spec"));
  EXPECT_TRUE(rejects("a=;b=off", 2, "expected an action"));
  EXPECT_TRUE(rejects("a=off->", 7, "expected an action"));
  EXPECT_TRUE(rejects("a=off->->hang", 7, "found \"->\""));
  EXPECT_TRUE(rejects("a=50%", 5, "expected an action"));
}

TEST(FailpointSpec, RejectsBadNames) {
  EXPECT_TRUE(rejects("db.commit", 9, "expected '=' after failpoint name \"db.commit\", "
                                      "found end of spec"));
  EXPECT_TRUE(rejects("db commit=off", 3, "expected '=' after failpoint name \"db\", "
                                          "found \"commit\""));
  EXPECT_TRUE(rejects("db$x=off", 2, "found \"$\""));
  EXPECT_TRUE(rejects("=off", 0, "expected a failpoint name ([A-Za-z0-9_.:/-]+), found \"=\""));
  EXPECT_TRUE(rejects("a=off; =hang", 7, "expected a failpoint name"));
}

TEST(FailpointSpec, RejectsDuplicateNames) {
  EXPECT_TRUE(rejects("a=off; b=hang; a=cancel", 15,
                      "expected each failpoint set once, found a duplicate \"a\" "
                      "(first set at column 0)"));
}

TEST(FailpointSpec, RejectsBadProbabilities) {
  EXPECT_TRUE(rejects("a=100.5%off", 2, "expected a probability from 0 to 100, found \"100.5\""));
  EXPECT_TRUE(rejects("a=off;b=101%off", 8, "expected a probability from 0 to 100"));
  EXPECT_TRUE(rejects("a=12.%off", 4, "expected '%' or '*' after the number \"12\", found \".\""));
}

TEST(FailpointSpec, RejectsBadCounts) {
  const std::string_view want = "expected a count from 1 to 18446744073709551615";
  EXPECT_TRUE(rejects("a=0*off", 2,
                      "expected a count from 1 to 18446744073709551615, found \"0\""));
  EXPECT_TRUE(rejects("a=18446744073709551616*off", 2, want));
  EXPECT_TRUE(rejects("a=1.5*off", 2, "found \"1.5\""));
  EXPECT_TRUE(rejects("a=50%0*off", 5, want));
  EXPECT_TRUE(rejects("a=5 off", 4, "expected '%' or '*' after the number \"5\", found \"off\""));
  EXPECT_TRUE(rejects("a=50%3 off", 7, "expected '*' after the count \"3\", found \"off\""));
}

TEST(FailpointSpec, RejectsDelayWithoutMilliseconds) {
  const std::string_view want = "expected a non-negative whole number of milliseconds";
  EXPECT_TRUE(rejects("a=delay", 7, "expected '(' after delay: a non-negative whole number of "
                                    "milliseconds, at most 9223372036854 (about 292 years), as in "
                                    "delay(100), found end of spec"));
  EXPECT_TRUE(rejects("a=delay;b=off", 7, "expected '(' after delay"));
  EXPECT_TRUE(rejects("a=delay()", 8, "found \")\""));
  EXPECT_TRUE(rejects("a=delay(  )", 10, want));
  EXPECT_TRUE(rejects("a=delay(-5)", 8, "found \"-5\""));
  EXPECT_TRUE(rejects("a=delay( 1.5)", 9, "found \"1.5\""));
  EXPECT_TRUE(rejects("a=delay(10ms)", 8, "found \"10ms\""));
  EXPECT_TRUE(rejects("a=delay(9223372036854775808)", 8, want));
}

TEST(FailpointSpec, RejectsBadErrorCodes) {
  const std::string_view want =
      "expected an error name ([a-z_]+) or an error number from 1 to 2147483647";
  EXPECT_TRUE(rejects("a=error", 7, "expected '(' after error: an error name"));
  EXPECT_TRUE(rejects("a=error()", 8, want));
  EXPECT_TRUE(rejects("a=error(0)", 8, "found \"0\""));
  EXPECT_TRUE(rejects("a=error(2147483648)", 8, want));
  EXPECT_TRUE(rejects("a=error(ECONNREFUSED)", 8, "found \"ECONNREFUSED\""));
  EXPECT_TRUE(rejects("a=error( conn-refused )", 9, "found \"conn-refused\""));
}

TEST(FailpointSpec, RejectsArgumentsOnActionsThatTakeNone) {
  EXPECT_TRUE(rejects("a=hang(1)", 6, "expected '->', ';' or end of spec (hang takes no "
                                      "argument), found \"(1)\""));
  EXPECT_TRUE(rejects("a=off()", 5, "(off takes no argument)"));
  EXPECT_TRUE(rejects("a=cancel (now)", 9, "(cancel takes no argument), found \"(now)\""));
}

TEST(FailpointSpec, RejectsUnbalancedParens) {
  EXPECT_TRUE(rejects("a=throw(oops", 12, "expected ')' to close the '(' at column 7, "
                                          "found end of spec"));
  EXPECT_TRUE(rejects("a=throw((x);b=off", 17, "to close the '(' at column 7"));
  EXPECT_TRUE(rejects("a=throw(x))", 10, "found an unbalanced \")\""));
  EXPECT_TRUE(rejects("a=off)", 5, "found an unbalanced \")\""));
}

TEST(FailpointSpec, RejectsTrailingJunkAfterATask) {
  EXPECT_TRUE(rejects("a=off x", 6, "expected '->', ';' or end of spec, found \"x\""));
  EXPECT_TRUE(rejects("a=delay(1)2*off", 10, "found \"2\""));
  EXPECT_TRUE(rejects("a=off,b=off", 5, "found \",\""));
}

// Every prefix of a rich spec is either valid or rejected at a column
// inside it; nothing else escapes the parser.
TEST(FailpointSpec, EveryTruncationIsValidOrAPositionedError) {
  const std::string spec =
      " db.commit = 12.5%3*delay( 10 )->throw(f(x);y)->error(timed_out) ; rpc=2*hang->cancel;";
  for (std::size_t n = 0; n <= spec.size(); ++n) {
    const std::string_view prefix = std::string_view(spec).substr(0, n);
    try {
      parse_failpoints(prefix);
    } catch (const failpoint_spec_error& e) {
      EXPECT_LE(e.position(), n) << prefix;
      EXPECT_EQ(e.spec(), prefix);
    }
  }
}

}  // namespace
