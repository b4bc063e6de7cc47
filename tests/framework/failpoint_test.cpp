// Tests of failpoints: inert unless armed, every action at exact instants, chains, seeded draws, per-sim arming.
#include <faultline/failpoint.hpp>

#include <faultline/gtest.hpp>
#include <faultline/steady_timer.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/system/system_error.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdlib>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using boost::system::error_code;
using faultline::at;
using ::testing::HasSubstr;

// Sets (or, with nullptr, unsets) an environment variable for a scope and
// restores what was there.
class scoped_env {
 public:
  scoped_env(const char* name, const char* value) : name_(name) {
    if (const char* old = std::getenv(name)) old_ = old;
    if (value)
      ::setenv(name, value, 1);
    else
      ::unsetenv(name);
  }
  ~scoped_env() {
    if (old_)
      ::setenv(name_, old_->c_str(), 1);
    else
      ::unsetenv(name_);
  }
  scoped_env(const scoped_env&) = delete;
  scoped_env& operator=(const scoped_env&) = delete;

 private:
  const char* name_;
  std::optional<std::string> old_;
};

// Every test starts from an environment that arms nothing, whatever the
// shell running the tests has set.
class Failpoint : public ::testing::Test {
  scoped_env clean_{"FAULTLINE_FAILPOINTS", nullptr};
};

enum class form { co_await_call, macro };

// User code with one failpoint, in either form.
asio::awaitable<void> commit(form f) {
  if (f == form::macro) {
    FAULTLINE_FAILPOINT("db.commit");
  } else {
    co_await faultline::failpoint("db.commit");
  }
}

asio::awaitable<void> commit_after(std::chrono::milliseconds d) {
  co_await faultline::sleep_for(d);
  co_await faultline::failpoint("db.commit");
}

// The failpoint's outcome for each of `n` commits in a row, as described by
// outcome::describe(), one sim run each.
std::vector<std::string> commits(faultline::sim_context& sim, int n, form f = form::co_await_call) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(sim.run(commit(f)).describe());
  return out;
}

std::string what_of(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return x.what();
  }
}

// -- inert unless armed ------------------------------------------------------------

TEST_F(Failpoint, IsInertInASimWhereNothingIsArmed) {
  faultline::sim_context sim;
  EXPECT_EQ(commits(sim, 2, form::co_await_call), (std::vector<std::string>(2, "returned at t=0.000s")));
  EXPECT_EQ(commits(sim, 2, form::macro), (std::vector<std::string>(2, "returned at t=0.000s")));
  EXPECT_FALSE(faultline::failpoints(sim).any_armed());
  EXPECT_EQ(faultline::failpoints(sim).hits("db.commit"), 0u);
  for (const auto& e : sim.trace().events()) EXPECT_NE(e.kind, faultline::event_kind::failpoint);
}

TEST_F(Failpoint, IsInertWhenOnlyOtherFailpointsAreArmed) {
  faultline::sim_context sim;
  faultline::failpoints(sim).arm("db.other", "error(eof)");
  EXPECT_EQ(commits(sim, 1, form::co_await_call), (std::vector<std::string>{"returned at t=0.000s"}));
  EXPECT_EQ(commits(sim, 1, form::macro), (std::vector<std::string>{"returned at t=0.000s"}));
  EXPECT_EQ(faultline::failpoints(sim).hits("db.commit"), 0u);
  EXPECT_EQ(faultline::failpoints(sim).unreached(), std::vector<std::string>{"db.other=error(eof)"});
}

TEST_F(Failpoint, IsInertOutsideASimEvenWhenASimOnTheSameThreadHasItArmed) {
  faultline::sim_context sim;
  faultline::failpoints(sim).arm("db.commit", "error(eof)");
  asio::io_context io;
  int passed = 0;
  for (form f : {form::co_await_call, form::macro}) {
    asio::co_spawn(io, commit(f), [&](std::exception_ptr e) {
      EXPECT_FALSE(e);
      ++passed;
    });
  }
  io.run();
  EXPECT_EQ(passed, 2);
  EXPECT_EQ(faultline::failpoints(sim).hits("db.commit"), 0u);
  EXPECT_EQ(faultline::failpoints(sim).unreached(), std::vector<std::string>{"db.commit=error(eof)"});
}

// -- the actions, at exact instants ---------------------------------------------------

TEST_F(Failpoint, OffPassesAndCountsTheHit) {
  faultline::sim_context sim;
  auto& fps = faultline::failpoints(sim);
  fps.arm("db.commit", "off");
  EXPECT_EQ(sim.run(commit_after(10ms)).describe(), "returned at t=0.010s");
  EXPECT_EQ(fps.hits("db.commit"), 1u);
}

TEST_F(Failpoint, DelayIsAVirtualSleepOnAPendingTimer) {
  faultline::sim_context sim;
  faultline::failpoints(sim).arm("db.commit", "delay(100)");
  auto t = sim.spawn("commit", commit_after(10ms));
  sim.run_for(50ms);
  auto p = sim.pending();
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[1].describe(), "timer#2 (timer) waiting since t=0.010s until t=0.110s");
  sim.run();
  EXPECT_EQ(t.result().describe(), "returned at t=0.110s");
}

TEST_F(Failpoint, ACancelledDelayThrowsOperationAbortedAtTheInstantOfCancellation) {
  using namespace asio::experimental::awaitable_operators;
  faultline::sim_context sim;
  faultline::failpoints(sim).arm("db.commit", "delay(100)");
  auto r = sim.run([]() -> asio::awaitable<int> {
    auto v = co_await (faultline::failpoint("db.commit") || faultline::sleep_for(30ms));
    co_return static_cast<int>(v.index());
  });
  EXPECT_EQ(r.value(), 1);  // the timeout won
  EXPECT_EQ(r.completed_at(), at(30ms));
}

TEST_F(Failpoint, ThrowThrowsFailpointErrorWithTheMessageOrADefault) {
  faultline::sim_context sim;
  faultline::failpoints(sim).arm("db.commit", "1*throw(disk full)->throw");
  auto a = sim.run(commit_after(10ms));
  EXPECT_EQ(a.describe(), "threw faultline::failpoint_error: failpoint db.commit: disk full at t=0.010s");
  try {
    a.value();
    FAIL() << "expected failpoint_error";
  } catch (const faultline::failpoint_error& e) {
    EXPECT_EQ(e.name(), "db.commit");
  }
  EXPECT_EQ(sim.run(commit_after(5ms)).describe(),
            "threw faultline::failpoint_error: failpoint db.commit: injected fault at t=0.015s");
}

struct error_case {
  const char* arg;
  error_code code;
};
void PrintTo(const error_case& c, std::ostream* os) { *os << c.arg; }

class FailpointError : public Failpoint, public ::testing::WithParamInterface<error_case> {};

TEST_P(FailpointError, ThrowsSystemErrorWithTheNamedCodeAtTheHitInstant) {
  faultline::sim_context sim;
  faultline::failpoints(sim).arm("db.commit", std::string("error(") + GetParam().arg + ")");
  auto r = sim.run(commit_after(20ms));
  ASSERT_FALSE(r.has_value());  // operation_aborted counts as cancelled, the rest as exceptions
  EXPECT_EQ(r.completed_at(), at(20ms));
  try {
    r.value();
    FAIL() << "expected system_error";
  } catch (const boost::system::system_error& e) {
    EXPECT_EQ(e.code(), GetParam().code);
    EXPECT_EQ(std::string(e.what()), "failpoint db.commit: " + GetParam().code.what());
  }
}

INSTANTIATE_TEST_SUITE_P(
    Names, FailpointError,
    ::testing::Values(error_case{"connection_refused", asio::error::connection_refused},
                      error_case{"connection_reset", asio::error::connection_reset},
                      error_case{"connection_aborted", asio::error::connection_aborted},
                      error_case{"timed_out", asio::error::timed_out},
                      error_case{"operation_aborted", asio::error::operation_aborted},
                      error_case{"eof", asio::error::eof},
                      error_case{"host_unreachable", asio::error::host_unreachable},
                      error_case{"network_unreachable", asio::error::network_unreachable},
                      error_case{"broken_pipe", asio::error::broken_pipe},
                      error_case{"not_connected", asio::error::not_connected},
                      error_case{"would_block", asio::error::would_block},
                      error_case{"try_again", asio::error::try_again},
                      error_case{"address_in_use", asio::error::address_in_use},
                      error_case{"no_buffer_space", asio::error::no_buffer_space},
                      error_case{"shut_down", asio::error::shut_down},
                      error_case{"host_not_found", asio::error::host_not_found},
                      error_case{"not_found", asio::error::not_found},
                      error_case{"111", error_code(111, boost::system::system_category())}));

TEST_F(Failpoint, TheErrorMessageNamesTheFailpointAndTheCode) {
  faultline::sim_context sim;
  faultline::failpoints(sim).arm("db.commit", "error(eof)");
  EXPECT_EQ(sim.run(commit(form::co_await_call)).describe(),
            "threw boost::system::system_error: failpoint db.commit: End of file [asio.misc:2] at t=0.000s");
}

TEST_F(Failpoint, CancelCompletesAsCancelledAtTheHitInstant) {
  faultline::sim_context sim;
  faultline::failpoints(sim).arm("db.commit", "cancel");
  auto r = sim.run(commit_after(7ms));
  EXPECT_EQ(r.describe(), "was cancelled at t=0.007s");
  EXPECT_EQ(what_of(r.exception()), "failpoint db.commit: " + error_code(asio::error::operation_aborted).what());
}

TEST_F(Failpoint, HangIsNamedInAStallReport) {
  faultline::sim_context sim;
  faultline::failpoints(sim).arm("db.commit", "hang");
  try {
    sim.run(commit_after(10ms));
    FAIL() << "expected a stall";
  } catch (const faultline::stall_error& e) {
    EXPECT_EQ(e.at(), at(10ms));
    ASSERT_EQ(e.pending().size(), 2u);
    EXPECT_EQ(e.pending()[0].name, "main");
    EXPECT_EQ(e.pending()[1].describe(),
              "failpoint db.commit (hanging failpoint) waiting since t=0.010s until cancelled");
    EXPECT_THAT(e.what(), HasSubstr("\n  failpoint db.commit (hanging failpoint) waiting since t=0.010s"));
  }
}

TEST_F(Failpoint, HangEndsWhenATimeoutCancelsIt) {
  using namespace asio::experimental::awaitable_operators;
  faultline::sim_context sim;
  faultline::failpoints(sim).arm("db.commit", "hang");
  auto r = sim.run([]() -> asio::awaitable<int> {
    co_await faultline::sleep_for(10ms);
    auto v = co_await (faultline::failpoint("db.commit") || faultline::sleep_for(5s));
    co_return static_cast<int>(v.index());
  });
  EXPECT_EQ(r.value(), 1);
  EXPECT_EQ(r.completed_at(), at(5010ms));
  EXPECT_TRUE(sim.pending().empty());
}

class FailpointHangCancellation : public Failpoint, public ::testing::WithParamInterface<asio::cancellation_type> {};

TEST_P(FailpointHangCancellation, EndsWithOperationAbortedAtTheInstantOfEmission) {
  faultline::sim_context sim;
  faultline::failpoints(sim).arm("db.commit", "hang");
  auto t = sim.spawn("commit", []() -> asio::awaitable<void> {
    // Let every type through (coroutines take only terminal by default).
    co_await asio::this_coro::reset_cancellation_state(asio::enable_total_cancellation());
    FAULTLINE_FAILPOINT("db.commit");
  });
  faultline::steady_timer killer(sim, 40ms);
  killer.async_wait([&](error_code) { t.cancel(GetParam()); });
  sim.run();
  EXPECT_EQ(t.result().describe(), "was cancelled at t=0.040s");
  EXPECT_EQ(what_of(t.result().exception()),
            "failpoint db.commit: " + error_code(asio::error::operation_aborted).what());
  EXPECT_TRUE(sim.pending().empty());
}

INSTANTIATE_TEST_SUITE_P(AllTypes, FailpointHangCancellation,
                         ::testing::Values(asio::cancellation_type::terminal, asio::cancellation_type::partial,
                                           asio::cancellation_type::total),
                         [](const auto& info) {
                           switch (info.param) {
                             case asio::cancellation_type::terminal: return std::string("Terminal");
                             case asio::cancellation_type::partial: return std::string("Partial");
                             default: return std::string("Total");
                           }
                         });

TEST_F(Failpoint, ASimDestroyedWithAHangPendingFreesIt) {
  auto owned = std::make_shared<int>(0);
  std::weak_ptr<int> alive = owned;
  {
    faultline::sim_context sim;
    faultline::failpoints(sim).arm("db.commit", "hang");
    sim.spawn("commit", [](std::shared_ptr<int>) -> asio::awaitable<void> {
      co_await faultline::failpoint("db.commit");
    }(std::move(owned)));
    sim.run_for(1s);
    EXPECT_FALSE(alive.expired());  // held by the suspended coroutine
  }
  EXPECT_TRUE(alive.expired());  // the coroutine was destroyed with the sim, not leaked
}

// -- counts and chains ----------------------------------------------------------------

TEST_F(Failpoint, ACountServesThatManyHitsThenTheNextTaskTakesOver) {
  faultline::sim_context sim;
  auto& fps = faultline::failpoints(sim);
  fps.arm("db.commit", "2*off->error(eof)");
  EXPECT_EQ(commits(sim, 4),
            (std::vector<std::string>{
                "returned at t=0.000s", "returned at t=0.000s",
                "threw boost::system::system_error: failpoint db.commit: End of file [asio.misc:2] at t=0.000s",
                "threw boost::system::system_error: failpoint db.commit: End of file [asio.misc:2] at t=0.000s"}));
  EXPECT_EQ(fps.hits("db.commit"), 4u);
}

TEST_F(Failpoint, AChainThatRunsOutPassesEveryLaterHit) {
  faultline::sim_context sim;
  faultline::failpoints(sim).arm("db.commit", "1*delay(10)->2*throw(x)");
  EXPECT_EQ(commits(sim, 5),
            (std::vector<std::string>{"returned at t=0.010s",
                                      "threw faultline::failpoint_error: failpoint db.commit: x at t=0.010s",
                                      "threw faultline::failpoint_error: failpoint db.commit: x at t=0.010s",
                                      "returned at t=0.010s", "returned at t=0.010s"}));
  EXPECT_EQ(faultline::failpoints(sim).hits("db.commit"), 5u);
}

TEST_F(Failpoint, ReArmingReplacesTheTasksAndTheirCountsAndDisarmMakesItInert) {
  faultline::sim_context sim;
  auto& fps = faultline::failpoints(sim);
  fps.arm("db.commit", "1*cancel");
  EXPECT_EQ(commits(sim, 2), (std::vector<std::string>{"was cancelled at t=0.000s", "returned at t=0.000s"}));
  fps.arm("db.commit", "1*cancel");
  EXPECT_EQ(commits(sim, 1), (std::vector<std::string>{"was cancelled at t=0.000s"}));
  EXPECT_TRUE(fps.disarm("db.commit"));
  EXPECT_FALSE(fps.disarm("db.commit"));
  EXPECT_FALSE(fps.is_armed("db.commit"));
  EXPECT_FALSE(fps.any_armed());
  fps.arm("db.commit", "cancel");
  EXPECT_EQ(commits(sim, 1), (std::vector<std::string>{"was cancelled at t=0.000s"}));
  fps.disarm_all();
  EXPECT_EQ(commits(sim, 1), (std::vector<std::string>{"returned at t=0.000s"}));
  EXPECT_EQ(fps.hits("db.commit"), 4u);  // reached while armed, across re-arming
}

// -- seeded probabilities ---------------------------------------------------------------

// Which of `n` hits of "db.commit=25%error(eof)" fired, in a sim with `seed`.
std::vector<bool> fires(std::uint64_t seed, int n, form f = form::co_await_call) {
  faultline::sim_options o;
  o.seed = seed;
  faultline::sim_context sim(o);
  faultline::failpoints(sim).arm("db.commit", "25%error(eof)");
  std::vector<bool> out;
  for (int i = 0; i < n; ++i) out.push_back(sim.run(commit(f)).has_exception());
  return out;
}

TEST_F(Failpoint, TheSameSeedFiresOnTheSameHits) {
  EXPECT_EQ(fires(7, 200), fires(7, 200));
}

TEST_F(Failpoint, ADifferentSeedFiresOnDifferentHits) {
  EXPECT_NE(fires(7, 200), fires(8, 200));
}

TEST_F(Failpoint, TheObservedRateMatchesTheProbability) {
  const auto f = fires(1, 1000);
  const auto n = std::count(f.begin(), f.end(), true);
  EXPECT_GE(n, 200);  // 25% of 1000, +- about 3.5 standard deviations
  EXPECT_LE(n, 300);
}

TEST_F(Failpoint, ATaskThatLosesItsDrawOffersTheHitToTheNext) {
  faultline::sim_context sim;
  faultline::failpoints(sim).arm("db.commit", "50%throw(a)->throw(b)");
  int a = 0, b = 0;
  for (int i = 0; i < 200; ++i) {
    const std::string what = what_of(sim.run(commit(form::macro)).exception());
    a += what == "failpoint db.commit: a";
    b += what == "failpoint db.commit: b";
  }
  EXPECT_EQ(a + b, 200);
  EXPECT_GT(a, 60);
  EXPECT_GT(b, 60);
}

TEST_F(Failpoint, ProbabilitiesZeroAndHundredNeverAndAlwaysFire) {
  faultline::sim_context sim;
  faultline::failpoints(sim).arm("db.commit", "0%cancel->100%1*throw->off");
  EXPECT_EQ(commits(sim, 3),
            (std::vector<std::string>{"threw faultline::failpoint_error: failpoint db.commit: injected fault at t=0.000s",
                                      "returned at t=0.000s", "returned at t=0.000s"}));
}

// -- per-sim arming ----------------------------------------------------------------------

TEST_F(Failpoint, ArmingOneSimLeavesAnotherUntouched) {
  faultline::sim_context armed, clean;
  faultline::failpoints(armed).arm("db.commit", "cancel");
  EXPECT_EQ(commits(clean, 1), (std::vector<std::string>{"returned at t=0.000s"}));
  EXPECT_EQ(commits(armed, 1), (std::vector<std::string>{"was cancelled at t=0.000s"}));
  EXPECT_FALSE(faultline::failpoints(clean).is_armed("db.commit"));
}

TEST_F(Failpoint, SimsInParallelThreadsNeverSeeEachOthersFaults) {
  constexpr int n = 2000;
  int armed_threw = 0, clean_threw = 0;
  std::thread a([&] {
    faultline::sim_context sim;
    faultline::failpoints(sim).arm("db.commit", "error(eof)");
    for (int i = 0; i < n; ++i) armed_threw += sim.run(commit(form::macro)).has_exception();
  });
  std::thread b([&] {
    faultline::sim_context sim;
    for (int i = 0; i < n; ++i) clean_threw += sim.run(commit(form::macro)).has_exception();
  });
  a.join();
  b.join();
  EXPECT_EQ(armed_threw, n);
  EXPECT_EQ(clean_threw, 0);
}

// -- the environment and the spec --------------------------------------------------------

TEST_F(Failpoint, EachSimArmsItselfFromTheEnvironment) {
  scoped_env env("FAULTLINE_FAILPOINTS", "db.commit=1*error(timed_out)->off; rpc.send=25%delay(5)");
  faultline::sim_context sim;
  auto& fps = faultline::failpoints(sim);
  EXPECT_TRUE(fps.is_armed("db.commit"));
  EXPECT_TRUE(fps.is_armed("rpc.send"));
  EXPECT_EQ(fps.spec(), "db.commit=1*error(timed_out)->off;rpc.send=25%delay(5)");
  auto r = sim.run(commit(form::co_await_call));
  ASSERT_TRUE(r.has_exception());
  EXPECT_EQ(what_of(r.exception()), "failpoint db.commit: " + error_code(asio::error::timed_out).what());
  faultline::sim_context other;  // a second sim arms itself too, with fresh counts
  EXPECT_TRUE(sim.run(commit(form::macro)).has_value());
  EXPECT_TRUE(other.run(commit(form::macro)).has_exception());
  // Every name the environment arms must be reached by some sim of the run,
  // or the program fails at exit (a typo in the spec).
  EXPECT_TRUE(other.run(faultline::failpoint("rpc.send")).has_value());
}

TEST_F(Failpoint, AMalformedEnvironmentSpecFailsTheSimConstructor) {
  scoped_env env("FAULTLINE_FAILPOINTS", "db.commit=explode");
  try {
    faultline::sim_context sim;
    FAIL() << "expected failpoint_spec_error";
  } catch (const faultline::failpoint_spec_error& e) {
    EXPECT_STREQ(e.what(),
                 "faultline: bad FAULTLINE_FAILPOINTS at column 10: expected an action (off, delay, throw, error, "
                 "hang, cancel), found \"explode\"\n"
                 "  db.commit=explode\n"
                 "            ^");
  }
}

constexpr const char* error_names =
    "an error name (access_denied, address_family_not_supported, address_in_use, already_connected, "
    "already_open, already_started, bad_descriptor, broken_pipe, connection_aborted, connection_refused, "
    "connection_reset, eof, fault, fd_set_failure, host_not_found, host_not_found_try_again, host_unreachable, "
    "in_progress, interrupted, invalid_argument, message_size, name_too_long, network_down, network_reset, "
    "network_unreachable, no_buffer_space, no_data, no_descriptors, no_memory, no_permission, "
    "no_protocol_option, no_recovery, no_such_device, not_connected, not_found, not_socket, operation_aborted, "
    "operation_not_supported, service_not_found, shut_down, socket_type_not_supported, timed_out, try_again, "
    "would_block) or a positive error number";

TEST_F(Failpoint, AnUnknownErrorNameIsRejectedWhenArmedAndNothingChanges) {
  faultline::sim_context sim;
  auto& fps = faultline::failpoints(sim);
  try {
    fps.arm("db.commit", "1*off->error( conection_refused )");
    FAIL() << "expected failpoint_spec_error";
  } catch (const faultline::failpoint_spec_error& e) {
    EXPECT_EQ(e.position(), 24u);
    EXPECT_EQ(e.expected(), error_names);
    EXPECT_EQ(e.found(), "the unknown error name \"conection_refused\"");
    EXPECT_EQ(std::string(e.what()), std::string("faultline: bad FAULTLINE_FAILPOINTS at column 24: expected ") +
                                         error_names +
                                         ", found the unknown error name \"conection_refused\"\n"
                                         "  db.commit=1*off->error( conection_refused )\n"
                                         "                          ^");
  }
  EXPECT_FALSE(fps.is_armed("db.commit"));
}

TEST_F(Failpoint, AnUnknownErrorNameInTheEnvironmentFailsTheSimConstructor) {
  scoped_env env("FAULTLINE_FAILPOINTS", "a=off;db.commit=error(nope)");
  EXPECT_THROW(faultline::sim_context sim, faultline::failpoint_spec_error);
}

TEST_F(Failpoint, ArmTakesOneFailpointsActionsAndArmAllAWholeSpec) {
  faultline::sim_context sim;
  auto& fps = faultline::failpoints(sim);
  try {
    fps.arm("db.commit", "off;rpc.send=hang");
    FAIL() << "expected failpoint_spec_error";
  } catch (const faultline::failpoint_spec_error& e) {
    EXPECT_EQ(e.position(), 13u);
    EXPECT_EQ(e.found(), "\";\"");
  }
  EXPECT_THROW(fps.arm("db commit", "off"), faultline::failpoint_spec_error);
  EXPECT_THROW(fps.arm("db.commit", ""), faultline::failpoint_spec_error);
  EXPECT_THROW(fps.arm_all("a=off;b=error(bogus)"), faultline::failpoint_spec_error);
  EXPECT_FALSE(fps.any_armed());  // all or nothing
  fps.arm_all("b=hang;a=2*off");
  fps.arm("c", "throw(x;y)");  // a ';' inside a message is the message's
  EXPECT_EQ(fps.spec(), "a=2*off;b=hang;c=throw(x;y)");
  EXPECT_EQ(fps.unreached().size(), 3u);
}

// -- both forms, and the trace ------------------------------------------------------------

TEST_F(Failpoint, TheMacroBehavesExactlyAsTheCoAwaitForm) {
  for (const char* spec : {"off", "delay(25)", "throw(m)", "error(connection_reset)", "cancel", "2*off->cancel",
                           "30%error(eof)->10%delay(3)"}) {
    std::vector<std::string> by_form[2];
    for (form f : {form::co_await_call, form::macro}) {
      faultline::sim_options o;
      o.seed = 42;
      faultline::sim_context sim(o);
      faultline::failpoints(sim).arm("db.commit", spec);
      by_form[f == form::macro] = commits(sim, 20, f);
      by_form[f == form::macro].push_back(std::to_string(sim.trace().hash()));
    }
    EXPECT_EQ(by_form[0], by_form[1]) << spec;
  }
}

// The macro is one statement: it can be an unbraced if's body, before an else.
asio::awaitable<int> branchy(bool hit) {
  if (hit)
    FAULTLINE_FAILPOINT("db.commit");
  else
    co_return 2;
  co_return 1;
}

TEST_F(Failpoint, TheMacroIsASingleStatement) {
  faultline::sim_context sim;
  faultline::failpoints(sim).arm("db.commit", "1*cancel");
  EXPECT_EQ(sim.run(branchy(false)).value(), 2);
  EXPECT_EQ(faultline::failpoints(sim).hits("db.commit"), 0u);
  EXPECT_TRUE(sim.run(branchy(true)).was_cancelled());
  EXPECT_EQ(sim.run(branchy(true)).value(), 1);
}

TEST_F(Failpoint, EveryHitThatDoesSomethingIsInTheTrace) {
  faultline::sim_context sim;
  faultline::failpoints(sim).arm("db.commit", "1*off->1*delay(5)->1*throw(boom)->1*error(connection_refused)->cancel");
  for (int i = 0; i < 5; ++i) sim.run(commit_after(10ms));
  std::vector<std::string> lines;
  for (const auto& e : sim.trace().events())
    if (e.kind == faultline::event_kind::failpoint) lines.push_back(e.describe());
  EXPECT_EQ(lines, (std::vector<std::string>{"t=0.020s db.commit failpoint hit: delay(5)",
                                             "t=0.035s db.commit failpoint hit: throw(boom)",
                                             "t=0.045s db.commit failpoint hit: error(connection_refused)",
                                             "t=0.055s db.commit failpoint hit: cancel"}));
}

TEST_F(Failpoint, TheSameSeedGivesTheSameTraceBitForBit) {
  auto run = [](std::uint64_t seed) {
    faultline::sim_options o;
    o.seed = seed;
    faultline::sim_context sim(o);
    faultline::failpoints(sim).arm("db.commit", "20%delay(7)->20%throw->20%cancel");
    for (int i = 0; i < 100; ++i) sim.run(commit_after(1ms));
    return sim.trace().hash();
  };
  EXPECT_EQ(run(3), run(3));
  EXPECT_NE(run(3), run(4));
}

}  // namespace
