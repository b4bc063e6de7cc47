// faultline::steady_timer has asio::steady_timer's whole API: one function template uses every
// member of asio::basic_waitable_timer and is instantiated for Asio's timer on an io_context and
// for faultline's on a sim and on an io_context; all three must behave alike.
#include <faultline/steady_timer.hpp>

#include <faultline/sim_context.hpp>

#include <boost/asio/deferred.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

struct api_log {
  std::vector<std::string> calls;        // synchronous results, in call order
  std::vector<std::string> completions;  // how each wait ended, sorted
};

template <class Timer, class Context>
api_log exercise_every_member(Context& ctx, bool blocking_wait) {
  using clock = typename Timer::clock_type;
  using duration = typename Timer::duration;
  using time_point = typename Timer::time_point;
  using narrow_timer = typename Timer::template rebind_executor<typename Context::executor_type>::other;
  static_assert(std::is_same_v<typename Timer::traits_type, asio::wait_traits<clock>>);
  static_assert(std::is_same_v<duration, typename clock::duration>);
  static_assert(std::is_same_v<time_point, typename clock::time_point>);
  static_assert(!std::is_copy_constructible_v<Timer> && !std::is_copy_assignable_v<Timer>);

  api_log log;
  // Timers whose waits must outlive the posted function: moved here, pending
  // waits and all.
  std::optional<Timer> keep_b, keep_e;
  auto note = [&log](std::string what) {
    return [&log, what](boost::system::error_code ec) {
      log.completions.push_back(what + (ec == asio::error::operation_aborted ? " aborted" : ec ? " failed" : " fired"));
    };
  };
  auto n = [&log](const char* call, std::size_t count) { log.calls.push_back(call + (" " + std::to_string(count))); };

  asio::post(ctx, [&] {
    typename Timer::executor_type ex = ctx.get_executor();
    // Every constructor.
    Timer a(ex);
    Timer b(ctx);
    Timer c(ex, clock::now() + 1h);
    Timer d(ctx, clock::now() + 1h);
    Timer e(ex, duration(0));
    Timer f(ctx, duration(1h));
    narrow_timer narrow(ctx);
    Timer widened(std::move(narrow));  // converting move
    Timer moved(std::move(b));         // move
    b = std::move(moved);              // move assignment
    widened = narrow_timer(ctx);       // converting move assignment
    log.calls.push_back(a.get_executor() == ex ? "get_executor same" : "get_executor differs");

    // cancel_one ends the oldest wait only; cancel ends the rest.
    c.async_wait(note("c first"));
    c.async_wait(note("c second"));
    c.async_wait(note("c third"));
    n("cancel_one", c.cancel_one());
    n("cancel", c.cancel());
    n("cancel_one on none", c.cancel_one());
    n("cancel on none", c.cancel());

    e.async_wait(note("e"));  // already expired: fires
    f.async_wait(note("f"));
    n("expires_at", f.expires_at(f.expiry()));  // ends f's wait
    n("expires_after", d.expires_after(duration(0)));
    log.calls.push_back(d.expiry() <= clock::now() ? "expiry reached" : "expiry ahead");

    if (blocking_wait) {
      d.wait();
      boost::system::error_code ec = asio::error::eof;
      d.wait(ec);
      log.calls.push_back("wait " + ec.message());
    }

#if !defined(BOOST_ASIO_NO_DEPRECATED)
    boost::system::error_code ec = asio::error::eof;
    a.expires_from_now(duration(1h));
    a.async_wait(note("a"));
    n("cancel(ec)", a.cancel(ec));
    n("cancel_one(ec)", a.cancel_one(ec));
    log.calls.push_back("ec " + std::string(ec ? "set" : "clear"));
    n("expires_at(t, ec)", a.expires_at(clock::now() + 2h, ec));
    log.calls.push_back(a.expires_at() == a.expiry() ? "expires_at() is expiry()" : "expires_at() differs");
    log.calls.push_back(a.expires_from_now() > duration(1h) ? "expires_from_now ahead" : "expires_from_now wrong");
    n("expires_from_now(d, ec)", a.expires_from_now(duration(0), ec));
#endif

    // Every completion token form goes through async_initiate; a deferred one too.
    b.expires_after(duration(0));
    b.async_wait(asio::deferred)(note("b deferred"));
    keep_b.emplace(std::move(b));
    keep_e.emplace(std::move(e));
  });
  ctx.run();
  std::sort(log.completions.begin(), log.completions.end());
  return log;
}

const std::vector<std::string> expected_calls = {
    "get_executor same", "cancel_one 1", "cancel 2", "cancel_one on none 0", "cancel on none 0",
    "expires_at 1", "expires_after 0", "expiry reached",
#if !defined(BOOST_ASIO_NO_DEPRECATED)
    "cancel(ec) 1", "cancel_one(ec) 0", "ec clear", "expires_at(t, ec) 0", "expires_at() is expiry()",
    "expires_from_now ahead", "expires_from_now(d, ec) 0",
#endif
};

const std::vector<std::string> expected_completions = {
#if !defined(BOOST_ASIO_NO_DEPRECATED)
    "a aborted",
#endif
    "b deferred fired", "c first aborted", "c second aborted", "c third aborted", "e fired", "f aborted",
};

TEST(SteadyTimerApi, AsioTimerOnAnIoContextIsTheReference) {
  asio::io_context io;
  auto log = exercise_every_member<asio::steady_timer>(io, false);
  EXPECT_EQ(log.calls, expected_calls);
  EXPECT_EQ(log.completions, expected_completions);
}

TEST(SteadyTimerApi, FaultlineTimerOnASimBehavesTheSame) {
  faultline::sim_context sim;
  auto log = exercise_every_member<faultline::steady_timer>(sim, false);
  EXPECT_EQ(log.calls, expected_calls);
  EXPECT_EQ(log.completions, expected_completions);
  EXPECT_EQ(sim.now(), faultline::at(0ms));
}

TEST(SteadyTimerApi, FaultlineTimerOnAnIoContextBehavesTheSame) {
  asio::io_context io;
  auto log = exercise_every_member<faultline::steady_timer>(io, true);
  auto expected = expected_calls;
  expected.insert(expected.begin() + 8, "wait Success");
  EXPECT_EQ(log.calls, expected);
  EXPECT_EQ(log.completions, expected_completions);
}

TEST(SteadyTimerApi, CancelOneEndsTheOldestWaitAtTheInstantItIsCalled) {
  faultline::sim_context sim;
  std::vector<std::string> ended;
  faultline::steady_timer t(sim, 1s);
  for (const char* name : {"first", "second"})
    t.async_wait([&ended, name](boost::system::error_code ec) {
      ended.push_back(std::string(name) + (ec ? " aborted at " : " fired at ") + faultline::to_string(faultline::sim_clock::now()));
    });
  sim.run_for(300ms);
  EXPECT_EQ(t.cancel_one(), 1u);
  sim.run();
  EXPECT_THAT(ended, ElementsAre("first aborted at t=0.300s", "second fired at t=1.000s"));
}

TEST(SteadyTimerApi, ABlockingWaitOnASimIsRejectedWithTheFix) {
  faultline::sim_context sim;
  faultline::steady_timer t(sim, 1s);
  try {
    t.wait();
    ADD_FAILURE() << "expected std::logic_error";
  } catch (const std::logic_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("faultline: steady_timer::wait() blocks the thread"));
    EXPECT_THAT(e.what(), HasSubstr("use async_wait"));
  }
  boost::system::error_code ec;
  EXPECT_THROW(t.wait(ec), std::logic_error);
}

}  // namespace
