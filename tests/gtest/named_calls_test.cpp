// Tests of Named: the calls a mock makes through faultline's actions, as records, trace events and
// pending operations named after the mocked method.
#include <faultline/gtest/actions.hpp>

#include <faultline/gtest.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/asio/error.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>

#include <stdexcept>
#include <string>

namespace {

using namespace std::chrono_literals;
using namespace boost::asio::experimental::awaitable_operators;
namespace asio = boost::asio;
using faultline::at;
using faultline::call_status;
using faultline::testing::mock_calls;
using faultline::testing::Named;
using ::testing::_;
using ::testing::HasSubstr;
using ::testing::Not;

class mock_store {
 public:
  MOCK_METHOD(asio::awaitable<std::string>, get, (std::string key, int version));
  MOCK_METHOD(asio::awaitable<void>, put, (std::string key));
};

TEST(NamedCalls, RecordStartEndAndHowEachCallEnded) {
  faultline::sim_context sim;
  mock_store db;
  EXPECT_CALL(db, get("a", 1)).WillOnce(Named("db.get", faultline::testing::ReturnAfter(10ms, "v1")));
  EXPECT_CALL(db, get("b", 2))
      .WillOnce(Named("db.get", faultline::testing::FailAfter(20ms, asio::error::connection_refused)));
  EXPECT_CALL(db, get("c", 3))
      .WillOnce(Named("db.get", faultline::testing::ThrowAfter(5ms, std::runtime_error("boom"))));
  EXPECT_CALL(db, put("k")).WillOnce(Named("db.put", faultline::testing::CancelAfter(7ms)));
  sim.run([&]() -> asio::awaitable<void> {
    co_await db.get("a", 1);
    co_await capture(db.get("b", 2));
    co_await capture(db.get("c", 3));
    co_await capture(db.put("k"));
  });
  const auto gets = mock_calls(sim, "db.get");
  ASSERT_EQ(gets.size(), 3u);
  EXPECT_EQ(gets[0].describe(), "db.get(\"a\", 1) at t=0.000s -> returned \"v1\" at t=0.010s");
  EXPECT_EQ(gets[1].index, 1u);
  EXPECT_EQ(gets[1].status, call_status::failed);
  EXPECT_EQ(gets[1].started, at(10ms));
  EXPECT_EQ(gets[1].ended, at(30ms));
  EXPECT_EQ(gets[1].detail, boost::system::error_code(asio::error::connection_refused).message());
  EXPECT_EQ(gets[2].status, call_status::threw);
  EXPECT_THAT(gets[2].detail, HasSubstr("boom"));
  EXPECT_EQ(gets[2].ended, at(35ms));
  const auto puts = mock_calls(sim, "db.put");
  ASSERT_EQ(puts.size(), 1u);
  EXPECT_EQ(puts[0].describe(), "db.put(\"k\") at t=0.035s -> cancelled at t=0.042s");
  EXPECT_TRUE(mock_calls(sim, "db.delete").empty());
}

TEST(NamedCalls, TheTimelineNamesTheMethodNotATimer) {
  faultline::sim_context sim;
  mock_store db;
  EXPECT_CALL(db, get(_, _)).WillOnce(Named("db.get", faultline::testing::ReturnAfter(10ms, "v")));
  sim.run([&]() -> asio::awaitable<void> { co_await db.get("k", 7); });
  const std::string timeline = sim.trace().timeline();
  EXPECT_THAT(timeline, HasSubstr("t=0.000s db.get(\"k\", 7) called"));
  EXPECT_THAT(timeline, HasSubstr("t=0.010s db.get(\"k\", 7) -> returned \"v\""));
  EXPECT_THAT(timeline, Not(HasSubstr("timer#")));
  EXPECT_THAT(sim.trace(), faultline::testing::HasEvent(faultline::testing::EventAt(
                               at(10ms), faultline::event_kind::call_returned, "db.get(\"k\", 7)")));
}

TEST(NamedCalls, ACallInProgressIsPendingUnderItsNameAndAHangStallsNamingIt) {
  faultline::sim_context sim;
  mock_store db;
  EXPECT_CALL(db, get(_, _)).WillOnce(Named("db.get", faultline::testing::ReturnAfter(1s, "v")));
  EXPECT_CALL(db, put(_)).WillOnce(Named("db.put", faultline::testing::Hang()));
  auto t = sim.spawn("reader", db.get("k", 1));
  sim.run_for(100ms);
  ASSERT_EQ(sim.pending().size(), 2u);  // the task and its call
  EXPECT_EQ(sim.pending()[1].describe(), "db.get(\"k\", 1) (mock call) waiting since t=0.000s until it completes or is cancelled");
  EXPECT_FALSE(mock_calls(sim, "db.get")[0].ended.has_value());
  sim.run();
  EXPECT_EQ(mock_calls(sim, "db.get")[0].ended, at(1s));
  try {
    sim.run(db.put("x"));
    FAIL() << "the run should have stalled";
  } catch (const faultline::stall_error& e) {
    EXPECT_THAT(e.what(), HasSubstr("db.put(\"x\") (mock call) waiting since t=1.000s"));
  }
}

TEST(NamedCalls, ACancelledHangEndsAsCancelledAtThatInstant) {
  faultline::sim_context sim;
  mock_store db;
  EXPECT_CALL(db, put(_)).WillOnce(Named("db.put", faultline::testing::Hang()));
  sim.run([&]() -> asio::awaitable<void> { co_await (db.put("x") || faultline::sleep_for(2s)); });
  const auto puts = mock_calls(sim, "db.put");
  ASSERT_EQ(puts.size(), 1u);
  EXPECT_EQ(puts[0].describe(), "db.put(\"x\") at t=0.000s -> cancelled at t=2.000s");
  EXPECT_TRUE(sim.pending().empty());
}

TEST(NamedCalls, ChaosFaultsEndTheNamedCallAsTheyWereDrawn) {
  faultline::sim_context sim;
  faultline::chaos(sim).replay(faultline::fault_schedule::parse("db.get#1=error(timed_out);db.get#2=latency(40ms)"));
  mock_store db;
  EXPECT_CALL(db, get(_, _)).WillRepeatedly(Named("db.get", faultline::testing::ChaosReturnAfter("db.get", 5ms, "v")));
  sim.run([&]() -> asio::awaitable<void> {
    for (int i = 0; i < 3; ++i) co_await capture(db.get("k", i));
  });
  const auto gets = mock_calls(sim, "db.get");
  ASSERT_EQ(gets.size(), 3u);
  EXPECT_EQ(gets[0].status, call_status::returned);
  EXPECT_EQ(gets[1].status, call_status::failed);
  EXPECT_EQ(gets[1].ended, at(10ms));
  EXPECT_EQ(gets[2].describe(), "db.get(\"k\", 2) at t=0.010s -> returned \"v\" at t=0.055s");
}

TEST(NamedCalls, OutsideASimNothingIsRecordedAndAnEmptyNameIsRefused) {
  mock_store db;
  EXPECT_CALL(db, put(_)).WillOnce(Named("db.put", faultline::testing::ReturnImmediately()));
  asio::io_context io;
  asio::co_spawn(io, db.put("x"), asio::detached);
  io.run();
  try {
    Named("", faultline::testing::Hang());
    FAIL() << "an empty name was accepted";
  } catch (const std::invalid_argument& e) {
    EXPECT_THAT(e.what(), HasSubstr("the method name is empty"));
  }
}

}  // namespace
