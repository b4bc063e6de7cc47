// Texts of a double's calls are made when read (calls(), a timeline, a stall report), yet say what
// they would have said at the call: these pin that, and that the trace still names calls of a
// double that is gone.
#include <faultline/fake.hpp>

#include <faultline/gtest.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <memory>
#include <ostream>
#include <string>
#include <string_view>

namespace {

namespace asio = boost::asio;
using namespace std::chrono_literals;
using ::testing::HasSubstr;
using faultline::call_status;

// Prints what it points at: its text changes when the pointee does.
struct lazy_counter_ref {
  const int* n;
};
std::ostream& operator<<(std::ostream& os, const lazy_counter_ref& r) { return os << "count " << *r.n; }

TEST(FakeLazyText, AViewArgumentIsPrintedAsItWasAtTheCall) {
  faultline::sim_context sim;
  faultline::async_fake<int(std::string_view)> f(sim, "f");
  f.on_call().returns(1).repeatedly();
  std::string path = "/a";
  sim.run(f(path));
  path = "/changed";
  EXPECT_EQ(f.calls()[0].text, "f(\"/a\")");
  EXPECT_THAT(sim.trace().timeline(), HasSubstr("t=0.000s f(\"/a\") called"));
}

TEST(FakeLazyText, AStreamedArgumentIsPrintedAsItWasAtTheCall) {
  faultline::sim_context sim;
  faultline::async_fake<void(lazy_counter_ref)> f(sim, "f");
  f.on_call().returns().repeatedly();
  int n = 1;
  sim.run(f(lazy_counter_ref{&n}));
  n = 2;
  EXPECT_EQ(f.calls()[0].text, "f(count 1)");
  EXPECT_THAT(sim.trace().timeline(), HasSubstr("f(count 1) called"));
}

TEST(FakeLazyText, AReturnedViewIsPrintedAsItWasWhenTheCallEnded) {
  faultline::sim_context sim;
  faultline::async_fake<std::string_view()> f(sim, "f");
  std::string body = "ok";
  f.on_call().after(10ms).returns(std::string_view(body));
  sim.run(f());
  body = "no";
  EXPECT_EQ(f.calls()[0].describe(), "f() at t=0.000s -> returned \"ok\" at t=0.010s");
  EXPECT_THAT(sim.trace().timeline(), HasSubstr("t=0.010s f() -> returned \"ok\""));
}

TEST(FakeLazyText, AValueTheCallerChangesStaysAsReturned) {
  faultline::sim_context sim;
  faultline::async_fake<std::string(int)> f(sim, "f");
  f.on_call().returns("ok").repeatedly();
  auto r = sim.run([&]() -> asio::awaitable<std::string> {
    std::string v = co_await f(7);
    v += " and changed";
    co_return v;
  }());
  EXPECT_EQ(r.value(), "ok and changed");
  EXPECT_EQ(f.calls()[0].text, "f(7)");
  EXPECT_EQ(f.calls()[0].detail, "\"ok\"");
}

TEST(FakeLazyText, RecordsReadBeforeACallEndsAreUpdatedInPlace) {
  faultline::sim_context sim;
  faultline::async_fake<int(int)> f(sim, "f");
  f.on_call().after(10ms).returns(5).repeatedly();
  // The double goes in as a parameter: a capturing lambda's closure dies at
  // the end of this statement, before the coroutine finishes.
  sim.spawn("caller", [](faultline::async_fake<int(int)>& fake) -> asio::awaitable<void> { co_await fake(1); }(f));
  sim.run_for(5ms);
  const auto& calls = f.calls();
  ASSERT_EQ(calls.size(), 1u);
  EXPECT_EQ(calls[0].describe(), "f(1) at t=0.000s -> pending");
  sim.run();
  EXPECT_EQ(calls[0].status, call_status::returned);
  EXPECT_EQ(calls[0].describe(), "f(1) at t=0.000s -> returned 5 at t=0.010s");
  EXPECT_EQ(f.call_count(), 1u);
}

TEST(FakeLazyText, EachEndingKeepsItsOwnText) {
  faultline::sim_context sim;
  faultline::async_fake<int(int)> f(sim, "f");
  f.on_call().returns(1).then().throws(std::runtime_error("x")).then().fails(asio::error::timed_out).then().returns(
      -42);
  sim.run([&]() -> asio::awaitable<void> {
    for (int i = 0; i < 4; ++i) {
      try {
        co_await f(i);
      } catch (const std::exception&) {
      }
    }
  }());
  const auto& c = f.calls();
  ASSERT_EQ(c.size(), 4u);
  EXPECT_EQ(c[0].detail, "1");
  EXPECT_EQ(c[1].detail, "std::runtime_error: x");
  EXPECT_EQ(c[2].status, call_status::failed);
  EXPECT_EQ(c[2].detail, boost::system::error_code(asio::error::timed_out).message());
  EXPECT_EQ(c[3].detail, "-42");
  EXPECT_THAT(sim.trace().timeline(), HasSubstr("t=0.000s f(3) -> returned -42"));
}

TEST(FakeLazyText, TheTraceStillNamesTheCallsOfADoubleThatIsGone) {
  faultline::sim_options o;
  o.trace_capacity = 8;  // the first calls' events are gone; the last ones are kept
  faultline::sim_context sim(o);
  {
    faultline::async_fake<int(int)> f(sim, "f");
    f.on_call().returns(1).repeatedly();
    sim.run([&]() -> asio::awaitable<void> {
      for (int i = 0; i < 10; ++i) co_await f(i);
    }());
  }
  // A subject registered after the double is gone is named too.
  sim.run([]() -> asio::awaitable<void> { co_return; }());
  const std::string tl = sim.trace().timeline();
  EXPECT_THAT(tl, HasSubstr("t=0.000s f(9) called\nt=0.000s f(9) -> returned 1\n"));
  EXPECT_THAT(tl, HasSubstr("f(8) -> returned 1"));
  EXPECT_THAT(tl, ::testing::Not(HasSubstr("f(0)")));
}

TEST(FakeLazyText, CallsOfTwoDoublesInterleavedKeepTheirNames) {
  faultline::sim_context sim;
  faultline::async_fake<int(int)> a(sim, "a");
  faultline::async_fake<std::string(std::string)> b(sim, "b");
  a.on_call().returns(1).repeatedly();
  b.on_call().returns("x").repeatedly();
  sim.run([&]() -> asio::awaitable<void> {
    for (int i = 0; i < 3; ++i) {
      co_await a(i);
      co_await b(std::to_string(i));
    }
  }());
  EXPECT_EQ(a.calls()[2].text, "a(2)");
  EXPECT_EQ(b.calls()[2].text, "b(\"2\")");
  EXPECT_THAT(sim.trace().timeline(), HasSubstr("a(2) called\nt=0.000s a(2) -> returned 1\nt=0.000s b(\"2\") called\n"));
}

}  // namespace
