// Misuse of doubles and failpoints that used to pass silently or hang: each is now reported.
#include <faultline/fake.hpp>

#include <faultline/gtest/fixture.hpp>

#include <boost/asio/bind_executor.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <stdexcept>
#include <string>

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using ::testing::HasSubstr;
using fetch_fake = faultline::async_fake<std::string(std::string)>;

std::string what_of(const std::exception_ptr& e) {
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return x.what();
  }
}

// -- hold::release after the sim is gone (issue 11, item 8) ----------------------

TEST(HoldAfterSim, ReleaseSaysTheSimIsGone) {
  auto sim = std::make_unique<faultline::sim_context>();
  fetch_fake fetch(*sim, "fetch");
  fetch.on_call().returns("ok");
  auto h = fetch.hold_next();
  sim->spawn("caller", fetch("/a"));
  sim->run_for(1ms);
  ASSERT_TRUE(h.was_reached());
  sim.reset();
  try {
    h.release();
    ADD_FAILURE() << "release() after the sim was destroyed did not throw";
  } catch (const std::logic_error& e) {
    EXPECT_STREQ(e.what(),
                 "faultline: hold::release on fetch: the sim_context this double belongs to was destroyed; keep the "
                 "sim alive longer than its doubles");
  }
  EXPECT_THROW(h.release_with("x"), std::logic_error);
  EXPECT_THROW(h.fail(asio::error::timed_out), std::logic_error);
  // The test has seen what is left: the step and the hold never released.
  EXPECT_EQ(fetch.unmet().size(), 2u);
}

// -- doubles destroyed with unmet script steps (item 9) -------------------------

TEST(UnmetAtDestruction, APlainTestWithSimRunFails) {
  // The README's setup: a sim and a double local to a TEST, driven by sim.run.
  EXPECT_NONFATAL_FAILURE(
      {
        faultline::sim_context sim;
        fetch_fake fetch(sim, "fetch");
        fetch.on_call().returns("a").then().returns("b");
        EXPECT_EQ(sim.run(fetch("/x")).value(), "a");
      },
      "faultline: 1 scripted expectation never happened (fetch was destroyed with it unmet):\n"
      "  fetch.on_call(any) step 2 returns \"b\" (used 0 of 1): never used up\n"
      "make the code under test reach them, or remove them from the script");
}

TEST(UnmetAtDestruction, AnUnreachedHoldFails) {
  EXPECT_NONFATAL_FAILURE(
      {
        faultline::sim_context sim;
        fetch_fake fetch(sim, "fetch");
        auto h = fetch.hold_next();
      },
      "fetch: a hold was set (hold_next) but no call reached it");
}

TEST(UnmetAtDestruction, IsLocatedWhereTheDoubleWasCreated) {
  ::testing::TestPartResultArray failures;
  int line = 0;
  {
    ::testing::ScopedFakeTestPartResultReporter reporter(
        ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &failures);
    faultline::sim_context sim;
    line = __LINE__ + 1;
    fetch_fake fetch(sim, "fetch");
    fetch.on_call().returns("a");
  }
  ASSERT_EQ(failures.size(), 1);
  EXPECT_EQ(failures.GetTestPartResult(0).line_number(), line);
  EXPECT_THAT(failures.GetTestPartResult(0).file_name(), HasSubstr("fake_teardown_test.cpp"));
}

TEST(UnmetAtDestruction, ADoubleThatOutlivesItsSimStillReports) {
  EXPECT_NONFATAL_FAILURE(
      {
        auto sim = std::make_unique<faultline::sim_context>();
        fetch_fake fetch(*sim, "fetch");
        fetch.on_call().returns("a");
        sim.reset();
      },
      "1 scripted expectation never happened (fetch was destroyed with it unmet)");
}

TEST(UnmetAtDestruction, LinesTheTestHasSeenAreNotReportedAgain) {
  faultline::sim_context sim;
  fetch_fake checked(sim, "checked");
  checked.on_call().returns("a");
  EXPECT_EQ(checked.unmet().size(), 1u);
  fetch_fake verified(sim, "verified");
  verified.on_call().returns("a");
  EXPECT_THROW(verified.verify(), faultline::script_error);
  fetch_fake listed(sim, "listed");
  listed.on_call().returns("a");
  EXPECT_EQ(sim.unmet_expectations().size(), 3u);  // the fixture's teardown check reads this
  // A step added after the check is news again; the one seen is not.
  std::optional<fetch_fake> changed;
  changed.emplace(sim, "changed");
  changed->on_call().returns("a");
  EXPECT_EQ(changed->unmet().size(), 1u);
  changed->on_call().returns("b");
  EXPECT_NONFATAL_FAILURE(changed.reset(),
                          "1 scripted expectation never happened (changed was destroyed with it unmet):\n"
                          "  changed.on_call(any) step 1 returns \"b\" (used 0 of 1): never used up\n");
}

TEST(UnmetAtDestruction, AQuietScopeDropsTheReport) {
  // What chaos runs use: faults cut scenarios short, so unused steps are expected.
  const faultline::quiet_self_reports quiet;
  faultline::sim_context sim;
  fetch_fake fetch(sim, "fetch");
  fetch.on_call().returns("a");
}

// -- a double awaited from the wrong executor (item 12) -------------------------

TEST(WrongExecutor, AwaitingADoubleFromAnIoContextFailsAtTheCall) {
  faultline::sim_context sim;
  fetch_fake fetch(sim, "fetch");
  fetch.on_call().returns("ok").repeatedly();
  asio::io_context io;
  std::exception_ptr error;
  std::string value = "untouched";
  asio::co_spawn(io, fetch("/a"), [&](std::exception_ptr e, std::string v) {
    error = e;
    value = v;
  });
  io.run();  // used to wait in real time for a completion the sim never delivers
  ASSERT_TRUE(error);
  EXPECT_EQ(what_of(error),
            "faultline: fetch was called from a coroutine (or handler) running on an io_context (or another "
            "execution context that is not a sim), not on the sim_context fetch was created with, whose queue alone "
            "completes its calls: the call would never complete; run the caller on the double's sim (sim.run(...), or "
            "co_spawn on sim.get_executor()), or create the double on the sim the caller runs on");
  EXPECT_EQ(fetch.call_count(), 0u);
}

TEST(WrongExecutor, AwaitingADoubleFromAnotherSimFailsAtTheCall) {
  faultline::sim_context sim;
  faultline::sim_context other;
  fetch_fake fetch(sim, "fetch");
  fetch.on_call().returns("ok").repeatedly();
  auto r = other.run(fetch("/a"));  // used to stall with an unnamed "main (task)"
  ASSERT_TRUE(r.has_exception());
  EXPECT_THAT(what_of(r.exception()), HasSubstr("faultline: fetch was called from a coroutine (or handler) running on "
                                                "another sim_context, not on the sim_context fetch was created with"));
  std::optional<boost::system::error_code> code;
  fetch.async_call("/c", asio::bind_executor(other.get_executor(), [&](boost::system::error_code ec, std::string) {
                     code = ec;
                   }));
  other.run();
  EXPECT_EQ(code, boost::system::error_code(asio::error::operation_not_supported));  // the error_code form
  EXPECT_EQ(fetch.call_count(), 0u);
}

TEST(WrongExecutor, CallbacksAndTheSystemExecutorStillWork) {
  faultline::sim_context sim;
  fetch_fake fetch(sim, "fetch");
  fetch.on_call().returns("ok").repeatedly();
  std::string got;
  fetch.async_call("/a", [&](boost::system::error_code, std::string v) { got = v; });
  auto f = fetch.async_call_ex("/b", asio::use_future);  // completes through the system executor
  sim.run();
  EXPECT_EQ(got, "ok");
  EXPECT_EQ(f.get(), "ok");
}

}  // namespace
