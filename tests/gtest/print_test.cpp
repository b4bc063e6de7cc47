// Tests of the GoogleTest printers for faultline values.
#include <faultline/gtest/print.hpp>

#include <faultline/sim_context.hpp>
#include <faultline/steady_timer.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <boost/asio/error.hpp>

#include <memory>
#include <stdexcept>
#include <string>

namespace {

using namespace std::chrono_literals;
using faultline::at;
using faultline::outcome;
using ::testing::PrintToString;

TEST(Print, InstantsAndOutcomesReadAsTheTimelineDoes) {
  EXPECT_EQ(PrintToString(at(1250ms)), "t=1.250s");
  EXPECT_EQ(PrintToString(outcome<int>::returned(42, at(1s))), "returned 42 at t=1.000s");
  EXPECT_EQ(PrintToString(outcome<std::string>::returned("ok", at(1s))), "returned \"ok\" at t=1.000s");
  EXPECT_EQ(PrintToString(outcome<void>::returned(at(2s))), "returned at t=2.000s");
  EXPECT_EQ(PrintToString(outcome<int>::threw(std::make_exception_ptr(std::logic_error("x")), at(2s))),
            "threw std::logic_error: x at t=2.000s");
  EXPECT_EQ(
      PrintToString(outcome<int>::threw(
          std::make_exception_ptr(boost::system::system_error(boost::asio::error::operation_aborted)), at(500ms))),
      "was cancelled at t=0.500s");
  // A value gMock cannot print still prints something readable.
  struct opaque {
    int a = 0;
  };
  EXPECT_THAT(PrintToString(outcome<opaque>::returned(opaque{}, at(1s))), ::testing::EndsWith(" at t=1.000s"));
}

TEST(Print, RecordsStatusesEventsAndTraces) {
  faultline::call_record<std::string> r;
  r.text = "fetch(\"/a\")";
  r.started = at(0ms);
  r.ended = at(100ms);
  r.status = faultline::call_status::failed;
  r.detail = "timed out";
  EXPECT_EQ(PrintToString(r), "fetch(\"/a\") at t=0.000s -> failed timed out at t=0.100s");
  EXPECT_EQ(PrintToString(faultline::call_status::cancelled), "cancelled");
  EXPECT_EQ(PrintToString(faultline::event_kind::call), "\"called\"");

  faultline::sim_context sim;
  EXPECT_EQ(PrintToString(sim.trace()), "a trace of 0 events");
  sim.run(faultline::sleep_for(1s));
  EXPECT_EQ(PrintToString(sim.trace().events().front()), "t=0.000s main spawned");
  EXPECT_THAT(PrintToString(sim.trace()),
              ::testing::StartsWith("a trace of 4 events; the last ones:\nt=0.000s main spawned\n"));
  faultline::pending_operation op{"fetch", "call", at(1s), "until cancelled", 0};
  EXPECT_EQ(PrintToString(op), "fetch (call) waiting since t=1.000s until cancelled");
}

}  // namespace
