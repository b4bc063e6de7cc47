// Tests that a double's pending calls honour every kind of Asio cancellation at exact instants.
#include <faultline/fake.hpp>

#include <faultline/gtest.hpp>
#include <faultline/steady_timer.hpp>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/cancellation_signal.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <gtest/gtest.h>

#include <optional>

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace ex = boost::asio::experimental;
using faultline::at;
using faultline::call_status;
using fetch_fake = faultline::async_fake<std::string(std::string)>;

struct Case {
  const char* name;
  asio::cancellation_type type;
  bool hanging;  // else: cancelled during its latency
};
void PrintTo(const Case& c, std::ostream* os) { *os << c.name; }

class FakeCancellation : public ::testing::TestWithParam<Case> {};

TEST_P(FakeCancellation, EndsThePendingCallWithOperationAbortedAtTheInstantOfEmission) {
  faultline::sim_context sim;
  fetch_fake fetch(sim, "fetch");
  if (GetParam().hanging)
    fetch.on_call().hangs();
  else
    fetch.on_call().after(1h).returns("late");
  asio::cancellation_signal sig;
  std::optional<boost::system::error_code> got;
  fetch.async_call("/a", asio::bind_cancellation_slot(sig.slot(), [&](boost::system::error_code ec, std::string) {
                     got = ec;
                   }));
  faultline::steady_timer t(sim, 40ms);
  t.async_wait([&](boost::system::error_code) { sig.emit(GetParam().type); });
  sim.run();
  EXPECT_EQ(got, asio::error::operation_aborted);
  EXPECT_EQ(sim.now(), at(40ms));
  ASSERT_EQ(fetch.call_count(), 1u);
  EXPECT_EQ(fetch.calls()[0].status, call_status::cancelled);
  EXPECT_EQ(fetch.calls()[0].ended, at(40ms));
}

INSTANTIATE_TEST_SUITE_P(
    AllTypes, FakeCancellation,
    ::testing::Values(Case{"TerminalHanging", asio::cancellation_type::terminal, true},
                      Case{"PartialHanging", asio::cancellation_type::partial, true},
                      Case{"TotalHanging", asio::cancellation_type::total, true},
                      Case{"TerminalInLatency", asio::cancellation_type::terminal, false},
                      Case{"PartialInLatency", asio::cancellation_type::partial, false},
                      Case{"TotalInLatency", asio::cancellation_type::total, false}),
    [](const auto& info) { return std::string(info.param.name); });

TEST(FakeRace, ATimeoutRacedWithOrCancelsTheCallAtTheDeadline) {
  using namespace ex::awaitable_operators;
  faultline::sim_context sim;
  fetch_fake fetch(sim, "fetch");
  fetch.on_call().after(5s).returns("slow");
  auto r = sim.run([&]() -> asio::awaitable<std::size_t> {
    auto v = co_await (fetch("/a") || faultline::sleep_for(2s));
    co_return v.index();
  });
  EXPECT_EQ(r.value(), 1u);
  EXPECT_EQ(r.completed_at(), at(2s));
  EXPECT_EQ(fetch.calls()[0].status, call_status::cancelled);
  EXPECT_EQ(fetch.calls()[0].ended, at(2s));
}

TEST(FakeRace, TheCallWinsOrWhenItIsFaster) {
  using namespace ex::awaitable_operators;
  faultline::sim_context sim;
  fetch_fake fetch(sim, "fetch");
  fetch.on_call().after(300ms).returns("fast");
  auto r = sim.run([&]() -> asio::awaitable<std::string> {
    auto v = co_await (fetch("/a") || faultline::sleep_for(2s));
    co_return std::get<0>(v);
  });
  EXPECT_EQ(r.value(), "fast");
  EXPECT_EQ(r.completed_at(), at(300ms));
}

// Each parallel_group wait condition reaches the double's pending calls.

auto group_of_calls(fetch_fake& f) {
  return ex::make_parallel_group(f.async_call_ex("/fast-fail", asio::deferred),
                                 f.async_call_ex("/ok", asio::deferred),
                                 f.async_call_ex("/slow", asio::deferred));
}

void script(fetch_fake& f) {
  f.on_call("/fast-fail").after(10ms).throws(std::runtime_error("x"));
  f.on_call("/ok").after(20ms).returns("ok");
  f.on_call("/slow").after(90ms).returns("slow");
}

std::string statuses(const fetch_fake& f) {
  std::string s;
  for (const auto& c : f.calls()) {
    s += std::get<0>(c.args) + ":" + faultline::to_string(c.status) + "@" +
         (c.ended ? faultline::to_string(*c.ended) : std::string("-")) + " ";
  }
  return s;
}

TEST(FakeGroup, WaitForAllLetsEveryCallFinish) {
  faultline::sim_context sim;
  fetch_fake f(sim, "fetch");
  script(f);
  sim.run([&]() -> asio::awaitable<void> {
    co_await group_of_calls(f).async_wait(ex::wait_for_all(), asio::use_awaitable);
  });
  EXPECT_EQ(statuses(f), "/fast-fail:threw@t=0.010s /ok:returned@t=0.020s /slow:returned@t=0.090s ");
}

TEST(FakeGroup, WaitForOneCancelsTheOthersAtTheFirstCompletion) {
  faultline::sim_context sim;
  fetch_fake f(sim, "fetch");
  script(f);
  sim.run([&]() -> asio::awaitable<void> {
    co_await group_of_calls(f).async_wait(ex::wait_for_one(), asio::use_awaitable);
  });
  EXPECT_EQ(statuses(f), "/fast-fail:threw@t=0.010s /ok:cancelled@t=0.010s /slow:cancelled@t=0.010s ");
}

TEST(FakeGroup, WaitForOneErrorCancelsTheOthersAtTheFirstError) {
  faultline::sim_context sim;
  fetch_fake f(sim, "fetch");
  f.on_call("/fast-fail").after(30ms).throws(std::runtime_error("x"));
  f.on_call("/ok").after(20ms).returns("ok");
  f.on_call("/slow").after(90ms).returns("slow");
  sim.run([&]() -> asio::awaitable<void> {
    co_await group_of_calls(f).async_wait(ex::wait_for_one_error(), asio::use_awaitable);
  });
  EXPECT_EQ(statuses(f), "/fast-fail:threw@t=0.030s /ok:returned@t=0.020s /slow:cancelled@t=0.030s ");
}

TEST(FakeGroup, WaitForOneSuccessCancelsTheOthersAtTheFirstSuccess) {
  faultline::sim_context sim;
  fetch_fake f(sim, "fetch");
  script(f);
  sim.run([&]() -> asio::awaitable<void> {
    co_await group_of_calls(f).async_wait(ex::wait_for_one_success(), asio::use_awaitable);
  });
  EXPECT_EQ(statuses(f), "/fast-fail:threw@t=0.010s /ok:returned@t=0.020s /slow:cancelled@t=0.020s ");
}

TEST(FakeLifetime, CoSpawnCancellationReachesAHangingCall) {
  faultline::sim_context sim;
  fetch_fake fetch(sim, "fetch");
  fetch.on_call().hangs();
  auto t = sim.spawn("caller", fetch("/a"));
  sim.run_for(3s);
  t.cancel();
  sim.run();
  EXPECT_TRUE(t.result().was_cancelled());
  EXPECT_EQ(t.result().completed_at(), at(3s));
}

TEST(FakeLifetime, DestroyingTheDoubleCancelsItsPendingCalls) {
  faultline::sim_context sim;
  std::optional<faultline::task<std::string>> t;
  {
    fetch_fake fetch(sim, "fetch");
    fetch.on_call().hangs();
    t = sim.spawn("caller", fetch("/a"));
    sim.run_for(1s);
  }
  sim.run();
  EXPECT_TRUE(t->result().was_cancelled());
  EXPECT_EQ(t->result().completed_at(), at(1s));
}

TEST(FakeLifetime, DestroyingTheSimFreesHangingCallsWithoutRunningThem) {
  bool resumed = false;
  auto sim = std::make_unique<faultline::sim_context>();
  fetch_fake fetch(*sim, "fetch");
  fetch.on_call().hangs();
  sim->spawn("caller", [&]() -> asio::awaitable<void> {
    co_await fetch("/a");
    resumed = true;
  });
  sim->run_for(1s);
  sim.reset();
  EXPECT_FALSE(resumed);
  EXPECT_THROW(fetch.on_call().returns("x"); fetch.hold_next(), std::logic_error);
  EXPECT_EQ(fetch.unmet().size(), 1u);  // the step added after the sim was gone
}

}  // namespace

namespace {

// Two calls due at the same instant: the first one's completion cancels the
// second, whose latency has run out and whose completion is already queued.
// The queued completion wins; cancelling must not queue the call twice
// (it did once: a use-after-free found by the task_group sample).
TEST(FakeRace, CancellingACallWhoseLatencyJustEndedLetsItsCompletionWin) {
  faultline::sim_context sim;
  faultline::async_fake<int()> a(sim, "a");
  faultline::async_fake<int()> b(sim, "b");
  a.on_call().after(100ms).returns(1);
  b.on_call().after(100ms).fails(asio::error::connection_reset);
  asio::cancellation_signal sig;
  boost::system::error_code b_ec;
  a.async_call([&](boost::system::error_code, int) { sig.emit(asio::cancellation_type::terminal); });
  b.async_call(asio::bind_cancellation_slot(sig.slot(), [&](boost::system::error_code ec, int) { b_ec = ec; }));
  sim.run();
  EXPECT_EQ(b_ec, asio::error::connection_reset);
  EXPECT_EQ(b.calls()[0].status, call_status::failed);
  EXPECT_EQ(*b.calls()[0].ended, at(100ms));
}

}  // namespace
