// Tests that what faultline prints for replay replays: schedules of awkward point names, and the shell-quoted command.
#include <faultline/gtest/chaos.hpp>

#include <faultline/chaos.hpp>
#include <faultline/fake.hpp>
#include <faultline/failpoint.hpp>
#include <faultline/failpoint_spec.hpp>
#include <faultline/sim_context.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <cstdio>
#include <deque>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using faultline::fault_schedule;
using ::testing::HasSubstr;

using fake = faultline::async_fake<int(int)>;

const std::vector<std::string> awkward_names = {"kv=get", "a;b", "GET /x?id=1", "it's \"odd\" \\ #1", "caf\xc3\xa9"};

// Calls every fake 20 times, each caught; returns how each call ended.
asio::awaitable<std::string> call_all(std::deque<fake>& fakes) {
  std::string out;
  for (int i = 0; i < 20; ++i) {
    for (auto& f : fakes) {
      try {
        out += std::to_string(co_await f(i));
      } catch (const boost::system::system_error& e) {
        out += e.code().to_string();
      }
      out += ' ';
    }
  }
  co_return out;
}

struct run_result {
  std::string outcomes;
  fault_schedule injected;
};

run_result run(const faultline::chaos_plan* plan, const fault_schedule* schedule) {
  faultline::sim_context sim({.seed = 7});
  std::deque<fake> fakes;  // doubles do not move
  for (const auto& n : awkward_names) {
    fakes.emplace_back(sim, n);
    fakes.back().on_call().after(1ms).returns(1).repeatedly();
  }
  if (plan) faultline::chaos(sim).use(*plan);
  if (schedule) faultline::chaos(sim).replay(*schedule);
  run_result r;
  r.outcomes = sim.run(call_all(fakes)).value();
  r.injected = faultline::chaos(sim).injected();
  return r;
}

// Issue 11, item 4: for every schedule the framework produces,
// parse(to_string(s)) == s, whatever the point names hold.
TEST(ReplayText, SchedulesOfAwkwardPointNamesPrintParseAndReplay) {
  faultline::chaos_plan plan(faultline::fault_rates()
                                 .error(0.2, boost::system::error_code(2, boost::system::system_category()))
                                 .cancel(0.1)
                                 .latency(faultline::latency_dist::uniform(1ms, 9ms, 0.5)));
  const run_result seeded = run(&plan, nullptr);
  ASSERT_GE(seeded.injected.size(), 20u);
  const std::string text = seeded.injected.to_string();
  EXPECT_THAT(text, HasSubstr("\"kv=get\"#"));
  EXPECT_THAT(text, HasSubstr("\"a;b\"#"));
  EXPECT_THAT(text, HasSubstr("\"GET /x?id=1\"#"));
  EXPECT_THAT(text, HasSubstr("\"it's \\\"odd\\\" \\\\ #1\"#"));
  EXPECT_THAT(text, HasSubstr("\"caf\\xc3\\xa9\"#"));
  EXPECT_THAT(text, HasSubstr("=error(system:2)"));
  const fault_schedule parsed = fault_schedule::parse(text);
  EXPECT_EQ(parsed, seeded.injected);
  // Replaying the printed text gives the same calls, the same faults.
  const run_result replayed = run(nullptr, &parsed);
  EXPECT_EQ(replayed.outcomes, seeded.outcomes);
  EXPECT_EQ(replayed.injected, seeded.injected);
}

// Issue 11, item 5: a failpoint armed with delay(1e13 ms) overflowed and hit at t=0.
TEST(ReplayText, AFailpointDelayBeyondTheSimClockIsRefusedWhenArmed) {
  faultline::sim_context sim;
  try {
    faultline::failpoints(sim).arm("db.commit", "delay(10000000000000)");
    FAIL() << "armed a delay the sim clock cannot hold";
  } catch (const faultline::failpoint_spec_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("at most 9223372036854"));
    EXPECT_THAT(e.found(), "\"10000000000000\"");
  }
  EXPECT_FALSE(faultline::failpoints(sim).is_armed("db.commit"));
}

// Exposes the single-fault sweep so a test can run one under a failure collector.
class sweep_runner : public faultline::testing::chaos_test {
 public:
  void TestBody() override {}
  using chaos_test::run_single_faults;
};

std::string self_path() {
  char buf[4096];
  const auto n = ::readlink("/proc/self/exe", buf, sizeof buf - 1);
  return n > 0 ? std::string(buf, static_cast<std::size_t>(n)) : std::string();
}

// Runs `script` with /bin/sh and returns what it printed.
std::string shell(const std::string& script) {
  const std::string cmd = "/bin/sh -c '" + [&] {
    std::string q;
    for (char c : script) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
    return q;
  }() + "'";
  std::string out;
  if (FILE* p = ::popen(cmd.c_str(), "r")) {
    char buf[512];
    for (std::size_t n; (n = std::fread(buf, 1, sizeof buf, p)) > 0;) out.append(buf, n);
    ::pclose(p);
  }
  return out;
}

// The replay command is shell-quoted: pasted into a shell, it hands the test
// exactly the schedule, even for a point named with ', ", spaces, $ and ;.
TEST(ReplayText, TheReplayCommandIsShellQuoted) {
  const std::string name = "it's \"$HOME\" a;b `x`";
  sweep_runner t;
  ::testing::TestPartResultArray results;
  {
    ::testing::ScopedFakeTestPartResultReporter collect(
        ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &results);
    t.run_single_faults({}, [&]() -> asio::awaitable<void> {
      faultline::async_fake<int()> f(t.sim(), name);
      f.on_call().returns(1).repeatedly();
      co_await f();
    });
  }
  std::string out;
  for (int i = 0; i < results.size(); ++i) out += std::string(results.GetTestPartResult(i).message()) + "\n";
  const auto at = out.find("replay: ");
  ASSERT_NE(at, std::string::npos) << out;
  const std::string command = out.substr(at + 8, out.find('\n', at) - at - 8);
  EXPECT_THAT(command, HasSubstr(R"(FAULTLINE_SCHEDULE='"it'\''s \"$HOME\" a;b `x`"#0=error' FAULTLINE_SEED=)"));
  // Run the command with the test binary replaced by a function that prints
  // what the binary would see.
  const std::string path = self_path();
  const auto p = command.find(" " + path + " ");
  ASSERT_NE(p, std::string::npos) << command;
  const std::string script = "show() { printf '%s\\n%s\\n' \"$FAULTLINE_SCHEDULE\" \"$1\"; }; " + command.substr(0, p) +
                             " show " + command.substr(p + path.size() + 2);
  const std::string seen = shell(script);
  const fault_schedule want({[&] {
    faultline::fault f;
    f.point = name;
    f.kind = faultline::fault_kind::error;
    return f;
  }()});
  EXPECT_EQ(seen, want.to_string() + "\n--gtest_filter=ReplayText.TheReplayCommandIsShellQuoted\n") << script;
  EXPECT_EQ(fault_schedule::parse(seen.substr(0, seen.find('\n'))), want);
}

}  // namespace
