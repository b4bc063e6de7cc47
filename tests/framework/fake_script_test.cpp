// Tests of async_fake scripts: every action, sequencing, argument matching, records.
#include <faultline/fake.hpp>

#include <faultline/gtest.hpp>
#include <faultline/steady_timer.hpp>

#include <boost/asio/error.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using faultline::at;
using faultline::call_status;
using ::testing::HasSubstr;

using fetch_fake = faultline::async_fake<std::string(std::string)>;

TEST(FakeScript, ReturnsAfterItsLatencyCountedFromTheCall) {
  faultline::sim_context sim;
  fetch_fake fetch(sim, "fetch");
  fetch.on_call().after(100ms).returns("ok").repeatedly();
  sim.run_for(50ms);  // the latency starts at the call, not when scripted
  auto r = sim.run(fetch("/a"));
  EXPECT_EQ(r.value(), "ok");
  EXPECT_EQ(r.completed_at(), at(150ms));
}

TEST(FakeScript, ThrowsFailsAndCancelsAtTheScriptedInstant) {
  faultline::sim_context sim;
  fetch_fake fetch(sim, "fetch");
  fetch.on_call().after(10ms).throws(std::runtime_error("boom"))
      .then().after(20ms).fails(asio::error::connection_refused)
      .then().after(30ms).cancels();
  auto a = sim.run(fetch("/a"));
  EXPECT_EQ(a.describe(), "threw std::runtime_error: boom at t=0.010s");
  auto b = sim.run(fetch("/b"));
  ASSERT_TRUE(b.has_exception());
  EXPECT_EQ(b.completed_at(), at(30ms));
  try {
    b.value();
  } catch (const boost::system::system_error& e) {
    EXPECT_EQ(e.code(), asio::error::connection_refused);
  }
  auto c = sim.run(fetch("/c"));
  EXPECT_TRUE(c.was_cancelled());
  EXPECT_EQ(c.completed_at(), at(60ms));
}

TEST(FakeScript, HangsUntilCancelledAndAStallNamesTheCall) {
  faultline::sim_context sim;
  fetch_fake fetch(sim, "fetch");
  fetch.on_call("/slow").hangs();
  try {
    sim.run(fetch("/slow"));
    FAIL() << "expected a stall";
  } catch (const faultline::stall_error& e) {
    ASSERT_EQ(e.pending().size(), 2u);
    EXPECT_EQ(e.pending()[1].describe(), "fetch(\"/slow\") (hanging call) waiting since t=0.000s until cancelled");
  }
}

TEST(FakeScript, TimesThenAndRepeatedlySequenceTheCalls) {
  faultline::sim_context sim;
  fetch_fake fetch(sim, "fetch");
  fetch.on_call().returns("first").times(2).then().returns("later").repeatedly();
  std::vector<std::string> got;
  sim.run([&]() -> asio::awaitable<void> {
    for (int i = 0; i < 4; ++i) got.push_back(co_await fetch("/x"));
  });
  EXPECT_EQ(got, (std::vector<std::string>{"first", "first", "later", "later"}));
}

TEST(FakeScript, MatchesArgumentsAndTheNewestMatchingRuleWins) {
  faultline::sim_context sim;
  fetch_fake fetch(sim, "fetch");
  fetch.on_call().returns("default").repeatedly();
  fetch.on_call("/error").throws(std::runtime_error("bad url"));
  fetch.on_call_if([](const std::string& u) { return u.size() > 10; }, "long urls").returns("long").repeatedly();
  EXPECT_EQ(sim.run(fetch("/a")).value(), "default");
  EXPECT_TRUE(sim.run(fetch("/error")).has_exception());
  EXPECT_EQ(sim.run(fetch("/error")).value(), "default");  // that rule is used up
  EXPECT_EQ(sim.run(fetch("/a/very/long/url")).value(), "long");
}

TEST(FakeScript, InvokesComputesTheResultFromTheArguments) {
  faultline::sim_context sim;
  faultline::async_fake<int(int, int)> add(sim, "add");
  add.on_call().after(5ms).invokes([](int a, int b) { return a + b; }).repeatedly();
  EXPECT_EQ(sim.run(add(2, 3)).value(), 5);
  add.on_call(0, 0).invokes([](int, int) -> int { throw std::domain_error("zero"); });
  EXPECT_EQ(sim.run(add(0, 0)).describe(), "threw std::domain_error: zero at t=0.005s");
}

TEST(FakeScript, VoidResults) {
  faultline::sim_context sim;
  faultline::async_fake<void(int)> commit(sim, "commit");
  commit.on_call().after(1s).returns().then().fails(asio::error::timed_out);
  EXPECT_TRUE(sim.run(commit(1)).has_value());
  EXPECT_EQ(sim.now(), at(1s));
  EXPECT_TRUE(sim.run(commit(2)).has_exception());
}

TEST(FakeScript, AnUnscriptedCallFailsNamingItsArgumentsAndTheScript) {
  faultline::sim_context sim;
  fetch_fake fetch(sim, "fetch");
  fetch.on_call("/a").after(100ms).returns("ok");
  auto r = sim.run(fetch("/b"));
  ASSERT_TRUE(r.has_exception());
  EXPECT_EQ(r.completed_at(), at(0ms));
  try {
    r.value();
  } catch (const faultline::script_error& e) {
    EXPECT_STREQ(e.what(),
                 "faultline: fetch(\"/b\") matches no script step; the script has:\n"
                 "  on_call(\"/a\"): after 0.100s returns \"ok\" (used 0 of 1);");
  }
  faultline::async_fake<int()> empty(sim, "empty");
  EXPECT_THAT(faultline::detail::describe_exception(sim.run(empty()).exception()),
              HasSubstr("the script is empty: add a step with empty.on_call()"));
  EXPECT_EQ(fetch.unmet().size(), 1u);  // on_call("/a") was never called
}

TEST(FakeScript, RecordsEveryCallWithArgumentsTimesAndEnding) {
  faultline::sim_context sim;
  fetch_fake fetch(sim, "fetch");
  fetch.on_call().after(10ms).returns("ok").then().after(5ms).throws(std::runtime_error("x"));
  sim.run(fetch("/a"));
  sim.run(fetch("/b"));
  ASSERT_EQ(fetch.call_count(), 2u);
  const auto& c = fetch.calls();
  EXPECT_EQ(std::get<0>(c[0].args), "/a");
  EXPECT_EQ(c[0].started, at(0ms));
  EXPECT_EQ(c[0].ended, at(10ms));
  EXPECT_EQ(c[0].status, call_status::returned);
  EXPECT_EQ(c[0].describe(), "fetch(\"/a\") at t=0.000s -> returned \"ok\" at t=0.010s");
  EXPECT_EQ(c[1].describe(), "fetch(\"/b\") at t=0.010s -> threw std::runtime_error: x at t=0.015s");
}

TEST(FakeScript, CallsAreJournaledInTheTrace) {
  faultline::sim_context sim;
  fetch_fake fetch(sim, "fetch");
  fetch.on_call().after(1250ms).throws(std::runtime_error("x"));
  sim.run(fetch("/a"));
  auto ev = sim.trace().events();
  ASSERT_GE(ev.size(), 2u);
  EXPECT_EQ(ev[1].describe(), "t=0.000s fetch(\"/a\") called");
  EXPECT_EQ(ev[2].describe(), "t=1.250s fetch(\"/a\") -> threw std::runtime_error: x");
}

TEST(FakeScript, VerifyListsStepsNeverUsedUp) {
  faultline::sim_context sim;
  fetch_fake fetch(sim, "fetch");
  fetch.on_call().returns("a").times(2);
  fetch.on_call("/never").returns("b");
  sim.run(fetch("/x"));
  EXPECT_THAT(fetch.unmet(), ::testing::ElementsAre("fetch.on_call(any) step 1 returns \"a\" (used 1 of 2): never used up",
                                                    "fetch.on_call(\"/never\") step 1 returns \"b\" (used 0 of 1): never used up"));
  EXPECT_THROW(fetch.verify(), faultline::script_error);
  EXPECT_EQ(sim.unmet_expectations(), fetch.unmet());  // the sim collects every double's
  sim.run(fetch("/x"));
  sim.run(fetch("/never"));
  EXPECT_NO_THROW(fetch.verify());
  EXPECT_TRUE(sim.unmet_expectations().empty());
}

TEST(FakeScript, ScriptingMistakesAreNamed) {
  faultline::sim_context sim;
  fetch_fake fetch(sim, "fetch");
  try {
    fetch.on_call().returns("a").returns("b");
    FAIL();
  } catch (const std::logic_error& e) {
    EXPECT_STREQ(e.what(),
                 "faultline: fetch: this step already returns; call .then() before .returns() to script the next call");
  }
  EXPECT_THROW(fetch.on_call().after(-1ms), std::logic_error);
  EXPECT_THROW(fetch.on_call().returns("a").times(0), std::logic_error);
  EXPECT_THROW(fetch.on_call().then(), std::logic_error);
  EXPECT_EQ(fetch.unmet().size(), 4u);  // the steps begun above, never used
}

TEST(FakeScript, ADoubleWhoseSimIsGoneSaysSo) {
  auto sim = std::make_unique<faultline::sim_context>();
  fetch_fake fetch(*sim, "fetch");
  sim.reset();
  EXPECT_THROW(fetch.hold_next(), std::logic_error);
}

}  // namespace
