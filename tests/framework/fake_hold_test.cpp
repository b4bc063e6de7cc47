// Tests of async_fake's token forms and hold points.
#include <faultline/fake.hpp>

#include <faultline/gtest.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_future.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <optional>

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using boost::system::error_code;
using faultline::at;
using faultline::call_status;
using ::testing::HasSubstr;
using fetch_fake = faultline::async_fake<std::string(std::string)>;

TEST(FakeTokens, CallbackNeverRunsInsideTheCall) {
  faultline::sim_context sim;
  fetch_fake fetch(sim, "fetch");
  fetch.on_call().returns("now").repeatedly();
  std::optional<std::string> got;
  fetch.async_call("/a", [&](error_code ec, std::string v) {
    EXPECT_FALSE(ec);
    got = v;
  });
  EXPECT_FALSE(got.has_value());
  sim.poll();
  EXPECT_EQ(got, "now");
  EXPECT_EQ(sim.now(), at(0ms));
}

TEST(FakeTokens, ErrorCodeFormDeliversScriptedFailuresAsCodes) {
  faultline::sim_context sim;
  fetch_fake fetch(sim, "fetch");
  fetch.on_call().fails(asio::error::connection_refused)
      .then().throws(boost::system::system_error(asio::error::host_unreachable))
      .then().throws(std::runtime_error("not a code"));
  std::vector<error_code> codes;
  for (int i = 0; i < 4; ++i) fetch.async_call("/a", [&](error_code ec, std::string) { codes.push_back(ec); });
  sim.run();
  EXPECT_EQ(codes, (std::vector<error_code>{asio::error::connection_refused, asio::error::host_unreachable,
                                             faultline::error::exception_not_representable,
                                             faultline::error::unscripted_call}));
  EXPECT_EQ(error_code(faultline::error::unscripted_call).category().name(), std::string("faultline"));
}

TEST(FakeTokens, ExceptionFormCarriesTheScriptedException) {
  faultline::sim_context sim;
  fetch_fake fetch(sim, "fetch");
  fetch.on_call().after(2ms).throws(std::invalid_argument("bad"));
  std::exception_ptr got;
  fetch.async_call_ex("/a", [&](std::exception_ptr e, std::string) { got = e; });
  sim.run();
  EXPECT_EQ(faultline::detail::describe_exception(got), "std::invalid_argument: bad");
}

TEST(FakeTokens, DeferredUseFutureAsTupleAndRedirectError) {
  faultline::sim_context sim;
  fetch_fake fetch(sim, "fetch");
  fetch.on_call().after(1ms).returns("v").times(3).then().after(1ms).fails(asio::error::eof);

  auto op = fetch.async_call("/deferred", asio::deferred);
  std::string from_deferred;
  std::move(op)([&](error_code, std::string v) { from_deferred = v; });
  sim.run();
  EXPECT_EQ(from_deferred, "v");
  EXPECT_EQ(fetch.calls()[0].started, at(0ms));  // the deferred op started when it was launched

  std::future<std::string> fut = fetch.async_call_ex("/future", asio::use_future);
  sim.run();
  EXPECT_EQ(fut.get(), "v");

  auto r = sim.run([&]() -> asio::awaitable<int> {
    auto [ec, v] = co_await fetch.async_call("/tuple", asio::as_tuple(asio::use_awaitable));
    EXPECT_EQ(v, "v");
    error_code redirected;
    co_await fetch.async_call("/redirect", asio::redirect_error(asio::use_awaitable, redirected));
    co_return redirected == asio::error::eof ? 1 : 0;
  });
  EXPECT_EQ(r.value(), 1);
  EXPECT_EQ(r.completed_at(), at(4ms));
}

TEST(FakeHold, HoldsTheNextCallUntilReleasedWithAValue) {
  faultline::sim_context sim;
  fetch_fake fetch(sim, "fetch");
  auto h = fetch.hold_next();
  auto caller = sim.spawn("caller", fetch("/a"));
  std::optional<faultline::sim_clock::time_point> reached_at;
  sim.spawn("test", [&]() -> asio::awaitable<void> {
    co_await faultline::sleep_for(0ms);
    co_await h.reached();
    reached_at = faultline::sim_clock::now();
    co_await faultline::sleep_for(250ms);
    h.release_with("released");
  });
  sim.run();
  EXPECT_EQ(reached_at, at(0ms));
  EXPECT_EQ(caller.result().value(), "released");
  EXPECT_EQ(caller.result().completed_at(), at(250ms));
  EXPECT_TRUE(fetch.calls()[0].held);
}

TEST(FakeHold, ReachedWaitsForACallMadeLater) {
  faultline::sim_context sim;
  fetch_fake fetch(sim, "fetch");
  auto h = fetch.hold_next();
  auto waiter = sim.spawn("waiter", h.reached());
  sim.run_for(1s);
  EXPECT_FALSE(waiter.done());
  EXPECT_FALSE(h.was_reached());
  auto caller = sim.spawn("caller", fetch("/a"));
  sim.run_for(0ms);
  EXPECT_TRUE(waiter.done());
  EXPECT_EQ(waiter.result().completed_at(), at(1s));
  h.fail(asio::error::connection_reset);
  sim.run();
  EXPECT_EQ(fetch.calls()[0].status, call_status::failed);
  EXPECT_EQ(caller.result().completed_at(), at(1s));
}

TEST(FakeHold, ReleaseFollowsTheScriptFromTheMomentOfRelease) {
  faultline::sim_context sim;
  fetch_fake fetch(sim, "fetch");
  fetch.on_call().after(100ms).returns("scripted");
  auto h = fetch.hold_next();
  auto caller = sim.spawn("caller", fetch("/a"));
  sim.run_for(2s);
  h.release();
  sim.run();
  EXPECT_EQ(caller.result().value(), "scripted");
  EXPECT_EQ(caller.result().completed_at(), at(2100ms));
}

TEST(FakeHold, FailWithAnExceptionAndAStallNamesTheHeldCall) {
  faultline::sim_context sim;
  fetch_fake fetch(sim, "fetch");
  auto h = fetch.hold_next();
  auto caller = sim.spawn("caller", fetch("/a"));
  try {
    sim.run();
    FAIL() << "a held call nobody releases is a stall";
  } catch (const faultline::stall_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("fetch(\"/a\") (held call) waiting since t=0.000s until the test releases it"));
  }
  h.fail(std::runtime_error("refused"));
  sim.run();
  EXPECT_EQ(caller.result().describe(), "threw std::runtime_error: refused at t=0.000s");
}

TEST(FakeHold, MisuseIsNamed) {
  faultline::sim_context sim;
  fetch_fake fetch(sim, "fetch");
  auto h = fetch.hold_next();
  try {
    h.release_with("early");
    FAIL();
  } catch (const std::logic_error& e) {
    EXPECT_STREQ(e.what(),
                 "faultline: fetch: hold::release_with: no call has reached this hold yet; co_await h.reached() first");
  }
  sim.spawn("caller", fetch("/a"));
  sim.poll();
  h.release_with("once");
  try {
    h.release_with("twice");
    FAIL();
  } catch (const std::logic_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("this hold was already released; a hold releases one call"));
  }
  sim.run();
}

TEST(FakeHold, UnmetListsHoldsNeverReachedOrReleased) {
  faultline::sim_context sim;
  fetch_fake fetch(sim, "fetch");
  auto a = fetch.hold_next();
  auto b = fetch.hold_next();
  sim.spawn("caller", fetch("/a"));
  sim.poll();
  EXPECT_THAT(fetch.unmet(), ::testing::ElementsAre("fetch: a hold on call #0 was never released",
                                                    "fetch: a hold was set (hold_next) but no call reached it"));
  a.release_with("x");
  sim.run();
  EXPECT_THAT(fetch.unmet(), ::testing::ElementsAre("fetch: a hold was set (hold_next) but no call reached it"));
}

}  // namespace
