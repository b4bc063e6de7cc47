// Tests of chaos plans, fault schedules and the per-sim chaos engine at doubles, failpoints and streams.
#include <faultline/chaos.hpp>

#include "support/call_n.hpp"

#include <faultline/fake.hpp>
#include <faultline/failpoint.hpp>
#include <faultline/faulty_stream.hpp>
#include <faultline/memory_stream.hpp>
#include <faultline/sim_context.hpp>

#include <boost/asio/error.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/write.hpp>
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using faultline::at;
using faultline::call_status;
using faultline::fault_kind;
using faultline::fault_schedule;
using rates = faultline::fault_rates;
using ::testing::HasSubstr;

using fetch_fake = faultline::async_fake<std::string(std::string)>;

using faultline_test::call_n;

TEST(ChaosSchedule, PrintsAndParsesEveryKind) {
  const std::string text = "fetch#0=hang;fetch#2=error(timed_out);db.commit#1=latency(250ms);fetch#3=cancel;x#7=error";
  auto s = fault_schedule::parse(text);
  ASSERT_EQ(s.size(), 5u);
  EXPECT_EQ(s.faults()[1].error_code, asio::error::timed_out);
  EXPECT_EQ(s.faults()[2].latency, 250ms);
  EXPECT_EQ(s.faults()[4].error_code, faultline::error::injected_fault);
  EXPECT_EQ(s.to_string(), text);
  EXPECT_EQ(fault_schedule::parse(s.to_string()), s);
  EXPECT_TRUE(fault_schedule::parse("").empty());
  EXPECT_EQ(fault_schedule::parse("a#1=latency(1500us)").to_string(), "a#1=latency(1500us)");
  EXPECT_EQ(fault_schedule::parse("a#2=exception").faults()[0].kind, fault_kind::exception);
  EXPECT_EQ(fault_schedule::parse("faulty_stream#1#4=cancel").faults()[0].point, "faulty_stream#1");
}

TEST(ChaosSchedule, MalformedTextNamesThePartAndTheForm) {
  auto message = [](const char* text) {
    try {
      fault_schedule::parse(text);
    } catch (const faultline::schedule_error& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_THAT(message("fetch=error"), HasSubstr("\"fetch=error\" is not of the form point#call=kind"));
  EXPECT_THAT(message("fetch#x=error"), HasSubstr("has no call index"));
  EXPECT_THAT(message("fetch#1=explode"), HasSubstr("unknown fault kind"));
  EXPECT_THAT(message("fetch#1=latency(5)"), HasSubstr("without a unit"));
  EXPECT_THAT(message("fetch#1=error(nope)"), HasSubstr("unknown error"));
  EXPECT_THAT(message("a#1=hang;a#1=cancel"), HasSubstr("second fault to the same call"));
}

TEST(ChaosPlan, RefusesRatesThatAreNotProbabilities) {
  faultline::chaos_plan plan;
  EXPECT_THROW(plan.point("fetch", rates().error(1.5)), std::invalid_argument);
  EXPECT_THROW(plan.point("fetch", rates().error(0.6).hang(0.6)), std::invalid_argument);
  EXPECT_THROW(plan.point("", rates()), std::invalid_argument);
  try {
    plan.point("fetch", rates().error(-0.1));
    FAIL() << "accepted a negative rate";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr("fetch: error rate -0.1"));
  }
  EXPECT_EQ(plan.rates("other").error_rate(), 0.0);
  plan.point("fetch", rates().error(0.25)).otherwise(rates().hang(0.5));
  EXPECT_EQ(plan.rates("fetch").error_rate(), 0.25);
  EXPECT_EQ(plan.rates("other").hang_rate(), 0.5);
}

// One check for a latency distribution, shared with link_faults::latency: the same texts after the caller.
TEST(ChaosPlan, RefusesABadLatencyDistributionNamingTheValues) {
  const auto message_for = [](const faultline::latency_dist& d) -> std::string {
    try {
      faultline::chaos_plan().point("fetch", rates().latency(d));
    } catch (const std::invalid_argument& e) {
      return e.what();
    }
    return "accepted";
  };
  EXPECT_EQ(message_for(faultline::latency_dist::fixed(1ms, 1.5)),
            "faultline: chaos_plan: fetch: the latency probability 1.500000 is not in [0, 1]; use a value in [0, 1]");
  EXPECT_EQ(message_for(faultline::latency_dist::uniform(-1ms, 0ms)),
            "faultline: chaos_plan: fetch: a latency bound is negative (-0.001s, 0.000s); use durations >= 0");
  EXPECT_EQ(message_for(faultline::latency_dist::uniform(5ms, 1ms)),
            "faultline: chaos_plan: fetch: uniform latency from 0.005s to 0.001s has its bounds reversed; give the "
            "low end first");
}

TEST(ChaosEngine, ReplaysAScheduleAtTheDoublesExactCalls) {
  faultline::sim_context sim;
  fetch_fake fetch(sim, "fetch");
  fetch.on_call().after(10ms).returns("ok").repeatedly();
  faultline::chaos(sim).replay(fault_schedule::parse("fetch#1=error;fetch#2=latency(90ms);fetch#3=cancel"));
  auto r = sim.run(call_n(fetch, 5));
  EXPECT_EQ(r.value(), (std::vector<std::string>{"ok", "error", "ok", "cancelled", "ok"}));
  const auto& calls = fetch.calls();
  EXPECT_EQ(calls[1].status, call_status::failed);
  EXPECT_EQ(*calls[1].ended, at(20ms));   // the error comes after the scripted latency
  EXPECT_EQ(*calls[2].ended, at(120ms));  // 10ms scripted + 90ms injected
  EXPECT_EQ(calls[3].status, call_status::cancelled);
  EXPECT_EQ(*calls[3].ended, at(130ms));
  EXPECT_EQ(faultline::chaos(sim).injected().to_string(), "fetch#1=error;fetch#2=latency(90ms);fetch#3=cancel");
  EXPECT_THAT(sim.trace().timeline(), HasSubstr("t=0.010s fetch(\"/1\") fault: chaos: error injected_fault at call #1"));
}

TEST(ChaosEngine, AHangFaultWaitsForCancellationAndShowsInAStall) {
  faultline::sim_context sim;
  fetch_fake fetch(sim, "fetch");
  fetch.on_call().returns("ok").repeatedly();
  faultline::chaos(sim).replay(fault_schedule::parse("fetch#0=hang"));
  try {
    sim.run(fetch("/a"));
    FAIL() << "a hanging call did not stall the sim";
  } catch (const faultline::stall_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("fetch(\"/a\") (hanging call)"));
  }
}

TEST(ChaosEngine, SeededDecisionsReplayAndDependOnlyOnSeedPointAndCall) {
  auto run = [](std::uint64_t seed, bool extra_point) {
    faultline::sim_context sim({.seed = seed});
    fetch_fake fetch(sim, "fetch");
    fetch_fake other(sim, "other");
    fetch.on_call().after(1ms).returns("ok").repeatedly();
    other.on_call().returns("ok").repeatedly();
    faultline::chaos(sim).use(faultline::chaos_plan(
        rates().error(0.2).cancel(0.1).latency(faultline::latency_dist::uniform(1ms, 50ms, 0.5))));
    sim.run([&]() -> asio::awaitable<void> {
      for (int i = 0; i < 30; ++i) {
        if (extra_point) co_await call_n(other, 1);
        co_await call_n(fetch, 1);
      }
    });
    std::string fetch_faults;
    for (const auto& f : faultline::chaos(sim).injected().faults())
      if (f.point == "fetch") fetch_faults += f.to_string() + ";";
    return fetch_faults;
  };
  const auto a = run(7, false);
  EXPECT_EQ(a, run(7, false));
  EXPECT_NE(a, run(8, false));
  // Calls at another point shift no decision at this one.
  EXPECT_EQ(a, run(7, true));
  EXPECT_THAT(a, HasSubstr("=error"));
  EXPECT_THAT(a, HasSubstr("=cancel"));
  EXPECT_THAT(a, HasSubstr("=latency("));
}

TEST(ChaosEngine, CountsCallsAndFaultsPerPointAndPerSim) {
  faultline::sim_context sim;
  fetch_fake fetch(sim, "fetch");
  fetch.on_call().after(5ms).returns("ok").then().throws(std::runtime_error("x")).then().returns("ok").repeatedly();
  faultline::chaos(sim).replay(fault_schedule::parse("fetch#2=error;fetch#3=hang"));
  sim.run_for(1s);
  sim.spawn("calls", call_n(fetch, 4));
  sim.run_for(1s);
  const auto& cov = faultline::chaos(sim).coverage();
  ASSERT_EQ(cov.count("fetch"), 1u);
  EXPECT_EQ(cov.at("fetch").calls, 4u);
  EXPECT_EQ(cov.at("fetch").injected[fault_kind::error], 1u);
  EXPECT_EQ(cov.at("fetch").injected[fault_kind::hang], 1u);
  // Scripted faults count too: one latency, one exception; chaos's error and hang.
  const auto& f = sim.faults();
  EXPECT_EQ(f[fault_kind::latency], 1u);
  EXPECT_EQ(f[fault_kind::exception], 1u);
  EXPECT_EQ(f[fault_kind::error], 1u);
  EXPECT_EQ(f[fault_kind::hang], 1u);
  EXPECT_EQ(f.total(), 4u);
}

TEST(ChaosEngine, SimTotalsSumWhatEachDestroyedSimInjected) {
  // On a thread of its own: the totals are per thread, and a test run earlier on this one may have
  // run a sim to the end of time, where the virtual-time sum saturates.
  faultline::sim_totals before, after;
  std::thread([&] {
    before = faultline::totals_on_this_thread();
    {
      faultline::sim_context sim;
      fetch_fake fetch(sim, "fetch");
      fetch.on_call().after(2s).fails(asio::error::timed_out);
      sim.run(call_n(fetch, 1));
    }
    after = faultline::totals_on_this_thread();
  }).join();
  EXPECT_EQ(after.sims - before.sims, 1u);
  EXPECT_EQ(after.virtual_time - before.virtual_time, 2s);
  EXPECT_EQ(after.faults[fault_kind::error] - before.faults[fault_kind::error], 1u);
  EXPECT_EQ(after.faults[fault_kind::latency] - before.faults[fault_kind::latency], 1u);
}

#ifndef FAULTLINE_NO_FAILPOINTS
TEST(ChaosEngine, DecidesFailpointsNothingArmed) {
  faultline::sim_context sim;
  faultline::chaos(sim).replay(fault_schedule::parse("db.commit#1=error(eof);db.commit#2=latency(3s)"));
  auto body = []() -> asio::awaitable<std::string> {
    std::string out;
    for (int i = 0; i < 3; ++i) {
      try {
        co_await faultline::failpoint("db.commit");
        out += "ok ";
      } catch (const boost::system::system_error& e) {
        out += e.code() == asio::error::eof ? "eof " : "other ";
      }
    }
    co_return out;
  };
  auto r = sim.run(body);
  EXPECT_EQ(r.value(), "ok eof ok ");
  EXPECT_EQ(r.completed_at(), at(3s));
  // What a test arms wins over chaos.
  faultline::sim_context armed;
  faultline::failpoints(armed).arm("db.commit", "off");
  faultline::chaos(armed).replay(fault_schedule::parse("db.commit#0=error"));
  EXPECT_EQ(armed.run(body).value(), "ok ok ok ");
}
#endif

TEST(ChaosEngine, InjectsIntoStreamOperations) {
  faultline::sim_context sim;
  auto [a, b] = faultline::make_memory_stream_pair(sim.get_executor());
  faultline::faulty_stream<faultline::memory_stream> s(std::move(a));
  const std::string point = s.name();
  faultline::chaos(sim).replay(fault_schedule::parse(point + "#1=error(connection_reset)"));
  auto r = sim.run([&]() -> asio::awaitable<std::string> {
    co_await asio::async_write(s, asio::buffer(std::string("hi")), asio::use_awaitable);
    boost::system::error_code ec;
    co_await asio::async_write(s, asio::buffer(std::string("again")), asio::redirect_error(asio::use_awaitable, ec));
    co_return ec == asio::error::connection_reset ? "reset" : ec.message();
  });
  EXPECT_EQ(r.value(), "reset");
  EXPECT_EQ(faultline::chaos(sim).coverage().at(point).calls, 2u);
}

TEST(Perturbation, ShufflesSameInstantWorkReproduciblyBySeed) {
  auto order = [](std::uint64_t seed, bool perturb) {
    faultline::sim_context sim({.seed = seed, .perturb = perturb});
    std::string out;
    for (char c : std::string("abcdefgh"))
      asio::post(sim.get_executor(), [&out, c] { out += c; });
    sim.run();
    return out;
  };
  EXPECT_EQ(order(1, false), "abcdefgh");
  EXPECT_EQ(order(1, true), order(1, true));
  std::string seen;
  bool any_shuffled = false;
  for (std::uint64_t seed = 1; seed <= 8; ++seed) {
    auto o = order(seed, true);
    std::string sorted = o;
    std::sort(sorted.begin(), sorted.end());
    EXPECT_EQ(sorted, "abcdefgh");  // every handler ran exactly once
    any_shuffled = any_shuffled || o != "abcdefgh";
  }
  EXPECT_TRUE(any_shuffled);
}

}  // namespace
