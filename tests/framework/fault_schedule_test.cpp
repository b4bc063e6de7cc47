// Tests of fault schedules as text: every schedule prints to text that parses back to it, and bad text is refused.
#include <faultline/chaos.hpp>

#include <boost/asio/error.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <string>
#include <vector>

namespace faultline {
// Internal linkage, still found by ADL: failures print the schedule text.
[[maybe_unused]] static void PrintTo(const fault& f, std::ostream* os) { *os << f.to_string(); }
[[maybe_unused]] static void PrintTo(const fault_schedule& s, std::ostream* os) { *os << s.to_string(); }
}  // namespace faultline

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using faultline::fault;
using faultline::fault_kind;
using faultline::fault_schedule;
using faultline::schedule_error;
using ::testing::HasSubstr;

fault make(std::string point, std::uint64_t call, fault_kind kind) {
  fault f;
  f.point = std::move(point);
  f.call = call;
  f.kind = kind;
  if (kind == fault_kind::error) f.error_code = make_error_code(faultline::error::injected_fault);
  return f;
}

fault make_error(std::string point, std::uint64_t call, boost::system::error_code ec) {
  fault f = make(std::move(point), call, fault_kind::error);
  f.error_code = ec;
  return f;
}

fault make_latency(std::string point, std::uint64_t call, faultline::sim_clock::duration d) {
  fault f = make(std::move(point), call, fault_kind::latency);
  f.latency = d;
  return f;
}

// Succeeds if `text` is refused at column `position` with `part` in the message.
testing::AssertionResult refuses(std::string_view text, std::size_t position, std::string_view part) {
  try {
    const auto s = fault_schedule::parse(text);
    return testing::AssertionFailure() << "\"" << text << "\" parsed as \"" << s.to_string() << "\"";
  } catch (const schedule_error& e) {
    const std::string what = e.what();
    if (e.position() != position || what.find(part) == std::string::npos)
      return testing::AssertionFailure() << "\"" << text << "\" was refused at column " << e.position() << " (want "
                                         << position << ") with\n"
                                         << what << "\n(want \"" << part << "\")";
    return testing::AssertionSuccess();
  }
}

// Succeeds if `s` prints to `text` and `text` parses back to `s`.
testing::AssertionResult round_trips(const fault_schedule& s, std::string_view text) {
  const std::string printed = s.to_string();
  if (printed != text) return testing::AssertionFailure() << "printed as " << printed << ", want " << text;
  try {
    if (!(fault_schedule::parse(printed) == s))
      return testing::AssertionFailure() << printed << " parsed to a different schedule: "
                                         << fault_schedule::parse(printed).to_string();
  } catch (const schedule_error& e) {
    return testing::AssertionFailure() << printed << " does not parse: " << e.what();
  }
  return testing::AssertionSuccess();
}

TEST(FaultScheduleText, CommonSchedulesPrintExactlyAsBefore) {
  const std::string text = "fetch#0=hang;fetch#2=error(timed_out);db.commit#1=latency(250ms)";
  EXPECT_EQ(fault_schedule::parse(text).to_string(), text);
  EXPECT_EQ(fault_schedule::parse("rpc/send#3=cancel;a.b:c-d_e#0=exception;x#1=error").to_string(),
            "rpc/send#3=cancel;a.b:c-d_e#0=exception;x#1=error");
  // Whitespace around entries is fine and not printed.
  EXPECT_EQ(fault_schedule::parse(" fetch#0=hang ;\n fetch#1 = cancel ;;").to_string(), "fetch#0=hang;fetch#1=cancel");
}

// Issue 11, item 4: a point named kv=get, a;b or GET /x?id=1 printed a
// schedule that did not parse.
TEST(FaultScheduleText, PointNamesThatNeedItAreQuotedAndParseBack) {
  EXPECT_TRUE(round_trips(fault_schedule({make("kv=get", 0, fault_kind::hang)}), R"("kv=get"#0=hang)"));
  EXPECT_TRUE(round_trips(fault_schedule({make("a;b", 1, fault_kind::cancel)}), R"("a;b"#1=cancel)"));
  EXPECT_TRUE(round_trips(fault_schedule({make("GET /x?id=1", 2, fault_kind::error)}), R"("GET /x?id=1"#2=error)"));
  EXPECT_TRUE(round_trips(fault_schedule({make(R"(say "hi" \o/)", 0, fault_kind::hang)}),
                          R"("say \"hi\" \\o/"#0=hang)"));
  // Non-ASCII and control bytes are escaped: a printed schedule is plain ASCII on one line.
  EXPECT_TRUE(round_trips(fault_schedule({make("caf\xc3\xa9", 0, fault_kind::hang)}), R"("caf\xc3\xa9"#0=hang)"));
  EXPECT_TRUE(round_trips(fault_schedule({make("a\nb\t\x7f", 0, fault_kind::hang)}), R"("a\x0ab\x09\x7f"#0=hang)"));
  EXPECT_TRUE(round_trips(fault_schedule({make(std::string("nul\0x", 5), 0, fault_kind::hang)}), R"("nul\x00x"#0=hang)"));
  EXPECT_TRUE(round_trips(fault_schedule({make("", 0, fault_kind::hang)}), R"(""#0=hang)"));
  EXPECT_TRUE(round_trips(fault_schedule({make(" padded ", 0, fault_kind::hang)}), R"(" padded "#0=hang)"));
  // '#' needs no quotes: the call index follows the last one.
  EXPECT_TRUE(round_trips(fault_schedule({make("faulty_stream#1", 4, fault_kind::cancel)}), "faulty_stream#1#4=cancel"));
  EXPECT_TRUE(round_trips(fault_schedule({make("#", 0, fault_kind::hang), make("x#", 7, fault_kind::hang)}),
                          "##0=hang;x##7=hang"));
  // Everything else printable is bare, ' ( ) included (the replay command is shell-quoted).
  EXPECT_TRUE(round_trips(fault_schedule({make("it's(f)", 0, fault_kind::hang)}), "it's(f)#0=hang"));
  // A quoted name may be written with raw UTF-8 by hand, and upper-case hex.
  EXPECT_EQ(fault_schedule::parse("\"caf\xc3\xa9\"#0=hang").faults()[0].point, "caf\xc3\xa9");
  EXPECT_EQ(fault_schedule::parse(R"("\x4A"#0=hang)").faults()[0].point, "J");
}

// Issue 11, item 4: error(N) went through atoi.
TEST(FaultScheduleText, ErrorNumbersAreWholeNonZeroAndInRange) {
  EXPECT_TRUE(refuses("fetch#0=error(0)", 14, "unknown error \"0\""));
  EXPECT_TRUE(refuses("fetch#0=error(2garbage)", 14, "unknown error \"2garbage\""));
  EXPECT_TRUE(refuses("fetch#0=error(99999999999999999999)", 14, "unknown error \"99999999999999999999\""));
  EXPECT_TRUE(refuses("fetch#0=error(2147483648)", 14, "positive error number up to 2147483647, or category:number"));
  EXPECT_TRUE(refuses("fetch#0=error(-2)", 14, "unknown error \"-2\""));
  EXPECT_TRUE(refuses("fetch#0=error(system:0)", 14, "unknown error \"system:0\""));
  EXPECT_TRUE(refuses("fetch#0=error(nosuch:2)", 14, "unknown error \"nosuch:2\""));
  EXPECT_TRUE(refuses("fetch#0=error(system:)", 14, "unknown error \"system:\""));
  EXPECT_EQ(fault_schedule::parse("fetch#0=error(2147483647)").faults()[0].error_code.value(), 2147483647);
}

// Issue 11, item 4: error(2) printed as error(system:2), which did not parse.
TEST(FaultScheduleText, CodesWithoutANamePrintAsCategoryColonNumberAndParseBack) {
  const auto s = fault_schedule::parse("fetch#0=error(2)");
  EXPECT_EQ(s.faults()[0].error_code, boost::system::error_code(2, boost::system::system_category()));
  EXPECT_TRUE(round_trips(s, "fetch#0=error(system:2)"));
  EXPECT_TRUE(round_trips(fault_schedule({make_error("f", 0, {5, boost::system::generic_category()})}),
                          "f#0=error(generic:5)"));
  EXPECT_TRUE(round_trips(fault_schedule({make_error("f", 0, {-7, boost::system::system_category()})}),
                          "f#0=error(system:-7)"));
  EXPECT_TRUE(round_trips(fault_schedule({make_error("f", 0, asio::error::eof)}), "f#0=error(eof)"));
  EXPECT_TRUE(round_trips(fault_schedule({make_error("f", 0, asio::error::host_not_found)}), "f#0=error(host_not_found)"));
  EXPECT_TRUE(round_trips(fault_schedule({make_error("f", 0, {99, asio::error::get_misc_category()})}),
                          "f#0=error(asio.misc:99)"));
  EXPECT_TRUE(round_trips(fault_schedule({make_error("f", 0, faultline::error::unscripted_call)}),
                          "f#0=error(unscripted_call)"));
  EXPECT_TRUE(round_trips(fault_schedule({make_error("f", 0, {77, faultline::error_category()})}),
                          "f#0=error(faultline:77)"));
  // A named code is printed by its name, however it was written.
  EXPECT_EQ(fault_schedule::parse("f#0=error(system:110)").to_string(), "f#0=error(timed_out)");
  EXPECT_EQ(fault_schedule::parse("f#0=error(injected_fault)").to_string(), "f#0=error");
}

class private_category : public boost::system::error_category {
 public:
  const char* name() const noexcept override { return "mine"; }
  std::string message(int) const override { return "my failure"; }
};

TEST(FaultScheduleText, CodesAScheduleCannotNameAreRefusedWhereTheFaultIsBuilt) {
  static const private_category mine;
  try {
    fault_schedule({make("ok", 0, fault_kind::hang), make_error("fetch", 3, {7, mine})});
    FAIL() << "a schedule took a code it cannot print";
  } catch (const schedule_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("fault 1 (\"fetch\"#3) has the error code mine:7 (\"my failure\"), which a "
                                    "schedule cannot name"));
  }
  try {
    faultline::chaos_plan().point("fetch", faultline::fault_rates().error(0.5, {7, mine}));
    FAIL() << "a plan took a code its schedules cannot print";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr("fetch: the error code mine:7 (\"my failure\") cannot be written in a fault schedule"));
  }
  EXPECT_THROW(faultline::chaos_plan().otherwise(faultline::fault_rates().error(0.5, {7, mine})), std::invalid_argument);
  // A success code means the default, injected_fault, as it always has.
  const fault_schedule s({make_error("f", 0, {})});
  EXPECT_TRUE(round_trips(s, "f#0=error"));
}

// Issue 11, item 4: latency overflowed to negative values.
TEST(FaultScheduleText, LatenciesAreRangeCheckedAndEveryValueRoundTrips) {
  EXPECT_TRUE(refuses("db#0=latency(9223372037s)", 13, "beyond the largest, 9223372036854775807ns"));
  EXPECT_TRUE(refuses("db#0=latency(9223372036854775807ms)", 13, "\"9223372036854775807ms\", beyond the largest"));
  EXPECT_TRUE(refuses("db#0=latency(9223372036854775808ns)", 13, "beyond the largest"));
  EXPECT_TRUE(refuses("db#0=latency(99999999999999999999999ns)", 13, "beyond the largest"));
  EXPECT_TRUE(refuses("db#0=latency(-1ms)", 13, "not a whole, non-negative number"));
  EXPECT_TRUE(refuses("db#0=latency(5)", 14, "without a unit"));
  EXPECT_TRUE(refuses("db#0=latency(5 ms)", 14, "without a unit"));
  EXPECT_TRUE(refuses("db#0=latency", 5, "latency without a duration"));
  constexpr auto max = std::numeric_limits<std::int64_t>::max();
  for (const auto d : {faultline::sim_clock::duration(max), faultline::sim_clock::duration(max - 1),
                       faultline::sim_clock::duration(0), faultline::sim_clock::duration(1),
                       std::chrono::duration_cast<faultline::sim_clock::duration>(std::chrono::seconds(max / 1'000'000'000)),
                       faultline::sim_clock::duration(1'500'000), faultline::sim_clock::duration(999'999'999'000)}) {
    const fault_schedule s({make_latency("db", 0, d)});
    EXPECT_EQ(fault_schedule::parse(s.to_string()), s) << s.to_string();
  }
  EXPECT_EQ(fault_schedule({make_latency("db", 0, faultline::sim_clock::duration(max))}).to_string(),
            "db#0=latency(9223372036854775807ns)");
  EXPECT_EQ(fault_schedule::parse("db#0=latency(9223372036s)").faults()[0].latency, 9223372036s);
  try {
    fault_schedule({make_latency("db", 0, -1ms)});
    FAIL() << "a schedule took a negative latency";
  } catch (const schedule_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("has a negative latency (-1000000ns); use a latency >= 0"));
  }
}

// Issue 11, item 4: hang() and error() were accepted.
TEST(FaultScheduleText, KindsTakeExactlyTheArgumentsTheyHave) {
  EXPECT_TRUE(refuses("fetch#0=hang()", 12, "gives hang an argument \"\"; hang takes none"));
  EXPECT_TRUE(refuses("fetch#0=cancel(now)", 14, "gives cancel an argument \"now\""));
  EXPECT_TRUE(refuses("fetch#0=exception(x)", 17, "exception takes none"));
  EXPECT_TRUE(refuses("fetch#0=error()", 14, "has error() with no code"));
  EXPECT_TRUE(refuses("fetch#0=error(timed_out", 13, "opens '(' without closing it"));
  EXPECT_TRUE(refuses("fetch#0=explode", 8, "unknown fault kind \"explode\""));
  EXPECT_TRUE(refuses("fetch#0=", 8, "unknown fault kind \"\""));
  EXPECT_TRUE(refuses("fetch#0=hang x", 13, "is followed by \"x\" where ';' or the end belongs"));
}

TEST(FaultScheduleText, MalformedEntriesAreRefusedAtTheirColumn) {
  EXPECT_TRUE(refuses("a#0=hang;fetch=error", 9, "\"fetch=error\" is not of the form point#call=kind"));
  EXPECT_TRUE(refuses("#0=hang", 0, "is not of the form point#call=kind"));
  EXPECT_TRUE(refuses("fetch#x=error", 6, "has no call index after '#'"));
  EXPECT_TRUE(refuses("fetch#1a=error", 7, "has no call index after '#' (found \"a\")"));
  EXPECT_TRUE(refuses("fetch#18446744073709551616=hang", 6, "call index \"18446744073709551616\", beyond the largest"));
  EXPECT_EQ(fault_schedule::parse("fetch#18446744073709551615=hang").faults()[0].call,
            std::numeric_limits<std::uint64_t>::max());
  EXPECT_TRUE(refuses("GET /x#0=hang", 3, "has \" \" in a bare point name; quote the name"));
  EXPECT_TRUE(refuses("caf\xc3\xa9#0=hang", 3, "is not ASCII (\"\\xc3\") in a bare point name; quote the name"));
  EXPECT_TRUE(refuses("\"a;b#0=hang", 0, "opens a quoted point name without closing it"));
  EXPECT_TRUE(refuses("\"a\"=hang", 3, "'#' and the call index must follow the quoted name"));
  EXPECT_TRUE(refuses(R"("a\q"#0=hang)", 2, "in a quoted name; write \\\", \\\\ or \\xHH"));
  EXPECT_TRUE(refuses(R"("a\x4"#0=hang)", 2, "(two hex digits)"));
  EXPECT_TRUE(refuses("a#1=hang;a#1=cancel", 9, "second fault to the same call (the first is at column 0)"));
  EXPECT_TRUE(refuses(R"(a#1=hang;"a"#1=cancel)", 9, "second fault to the same call"));
  try {
    fault_schedule({make("a", 1, fault_kind::hang), make("a", 1, fault_kind::cancel)});
    FAIL() << "a schedule took two faults for one call";
  } catch (const schedule_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("faults 0 and 1 both hit call #1 of \"a\""));
  }
}

// Issue 11, item 6: the duplicate check was quadratic. ~95k faults, ~1 MB.
TEST(FaultScheduleText, AMegabyteScheduleParses) {
  std::string text;
  std::vector<fault> want;
  for (std::uint64_t i = 0; i < 95'000; ++i) {
    want.push_back(make("service.endpoint/" + std::to_string(i % 97), i, fault_kind::hang));
    if (i != 0) text += ';';
    text += want.back().to_string();
  }
  ASSERT_GT(text.size(), 1'000'000u);
  const auto s = fault_schedule::parse(text);
  ASSERT_EQ(s.size(), want.size());
  EXPECT_EQ(s, fault_schedule(want));
  EXPECT_EQ(s.to_string(), text);
  // A duplicate at the very end is found and placed.
  const std::string dup = text + ";service.endpoint/3#3=cancel";
  EXPECT_TRUE(refuses(dup, text.size() + 1, "second fault to the same call"));
}

// parse(print(x)) == x over many generated schedules: every kind, every
// awkward name, codes of every category a schedule can name.
TEST(FaultScheduleText, GeneratedSchedulesRoundTrip) {
  const std::vector<std::string> names = {
      "fetch", "db.commit", "kv=get", "a;b", "GET /x?id=1", "q\"uote", "back\\slash", "", " ", "#", "a#1",
      "caf\xc3\xa9", std::string("\0", 1), "\xff\xfe", "tab\there", "(paren)", "it's", "=", ";", "\"#0=hang"};
  const std::vector<boost::system::error_code> codes = {
      {}, asio::error::timed_out, asio::error::eof, asio::error::would_block,
      {2, boost::system::system_category()}, {9999, boost::system::generic_category()},
      {1, asio::error::get_netdb_category()}, {3, asio::error::get_addrinfo_category()},
      faultline::error::bad_release, {std::numeric_limits<int>::min(), boost::system::system_category()}};
  std::uint64_t state = 12345;
  auto next = [&state] {
    state = state * 6364136223846793005ull + 1442695040888963407ull;
    return state >> 33;
  };
  for (int round = 0; round < 300; ++round) {
    std::vector<fault> faults;
    const auto n = next() % 6;
    for (std::uint64_t i = 0; i < n; ++i) {
      fault f = make(names[next() % names.size()], (next() % 2) ? i : std::numeric_limits<std::uint64_t>::max() - i,
                     static_cast<fault_kind>(next() % faultline::fault_kind_count));
      if (f.kind == fault_kind::error) f.error_code = codes[next() % codes.size()];
      if (f.kind == fault_kind::latency)
        f.latency = faultline::sim_clock::duration(static_cast<std::int64_t>((next() << 31) ^ next()) &
                                                   std::numeric_limits<std::int64_t>::max());
      if (f.kind == fault_kind::clock) {
        // Wall-clock faults live at wall-clock reads: a step, a slew, or both for good.
        f.point = (next() % 2) ? "wall_clock" : "wall_clock@" + names[next() % names.size()] + "h";
        const auto signed_ns = [&] {
          const auto ns = static_cast<std::int64_t>(((next() << 31) ^ next()) & 0x3fffffffffffffffull) + 1;
          return faultline::sim_clock::duration((next() % 2) ? ns : -ns);
        };
        const auto form = next() % 3;
        if (form != 1) f.clock_step = signed_ns();
        if (form != 0) f.clock_ppm = static_cast<std::int64_t>(next() % 2'000'000) - 999'999;
        if (f.clock_ppm == 0) f.clock_ppm = 1;
        if (form == 1 && next() % 2) f.clock_for = faultline::sim_clock::duration(next());
      }
      faults.push_back(std::move(f));
    }
    const fault_schedule s(faults);
    const std::string text = s.to_string();
    ASSERT_EQ(fault_schedule::parse(text), s) << text;
    for (char c : text) ASSERT_TRUE(c >= 0x20 && c < 0x7f) << text;
  }
}

}  // namespace
