// Tests of the debugging sample: finding a hung start-up with pending(), the stall report and the timeline.
#include "debugging.hpp"

#include <faultline/gtest.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <optional>
#include <sstream>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using namespace faultline::testing;
using namespace samples::debugging;
using faultline::at;
using faultline::call_status;
using faultline::event_kind;
using faultline::pending_operation;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::Field;
using ::testing::HasSubstr;
using ::testing::IsEmpty;
using ::testing::Not;

// A pending operation by name, kind and start instant.
auto Pending(const std::string& name, const std::string& kind, faultline::sim_clock::time_point since) {
  return AllOf(Field(&pending_operation::name, name), Field(&pending_operation::kind, kind),
               Field(&pending_operation::since, since));
}

// Start-up reads its configuration (100ms), connects to the database, then
// warms the cache (50ms). Each test scripts the database.
class Startup : public sim_test {
 protected:
  Startup() {
    config.on_call().after(100ms).returns();
    cache.on_call().after(50ms).returns().repeatedly();  // not reached when the database hangs
  }
  std::vector<dependency> deps() {
    return {{"config.load", std::ref(config)}, {"db.connect", std::ref(db)}, {"cache.warm", std::ref(cache)}};
  }

  faultline::async_fake<void()> config{sim(), "config.load"};
  faultline::async_fake<void()> db{sim(), "db.connect"};
  faultline::async_fake<void()> cache{sim(), "cache.warm"};
};

TEST_F(Startup, PendingListsTheHangingCallAfterABoundedRun) {
  db.on_call().hangs();
  auto startup = background().spawn("startup", start_service(deps()));  // cancelled at teardown
  sim().run_for(10s);  // bounded: returns at t=10s however stuck the start-up is
  EXPECT_FALSE(startup.done());
  EXPECT_EQ(sim().now(), at(10s));
  EXPECT_THAT(sim().pending(), ElementsAre(Pending("startup", "task", at(0ms)),
                                           Pending("db.connect()", "hanging call", at(100ms))));
}

TEST_F(Startup, RunReportsTheStallNamingTheHangingCall) {
  db.on_call().hangs();
  background().spawn("startup", start_service(deps()));
  std::optional<faultline::stall_error> stall;
  try {
    sim().run();  // auto-advance: nothing can move after t=0.100s, so run() gives up there
  } catch (const faultline::stall_error& e) {
    stall = e;
  }
  ASSERT_TRUE(stall) << "the start-up should have stalled";
  EXPECT_EQ(stall->at(), at(100ms));
  EXPECT_THAT(stall->what(), HasSubstr("sim stalled at t=0.100s with 2 pending operations"));
  EXPECT_THAT(stall->what(), HasSubstr("db.connect() (hanging call) waiting since t=0.100s until cancelled"));
  EXPECT_THAT(stall->pending(), ElementsAre(Pending("startup", "task", at(0ms)),
                                            Pending("db.connect()", "hanging call", at(100ms))));
}

TEST_F(Startup, TheTimelineShowsWhereProgressStopped) {
  db.on_call().hangs();
  background().spawn("startup", start_service(deps()));
  sim().run_for(10s);
  // The last event is the last progress: nothing happened in the 9.9s after it.
  EXPECT_EQ(sim().trace().events().back().at, at(100ms));
  EXPECT_THAT(sim().trace(), HasEventsInOrder(EventAt(at(100ms), event_kind::call_returned, "config.load()"),
                                              EventAt(at(100ms), event_kind::call, "db.connect()"),
                                              EventAt(at(100ms), event_kind::fault, "db.connect()")));
  EXPECT_THAT(sim().trace(), Not(HasEvent(event_kind::call, "cache.warm()")));
  EXPECT_THAT(sim().trace().timeline(2), HasSubstr("t=0.100s db.connect() called\n"));
  // For Perfetto: the hanging call is a slice that opens and never closes.
  std::ostringstream json;
  sim().trace().write_chrome_json(json);
  EXPECT_THAT(json.str(), HasSubstr(R"json({"name":"db.connect()","cat":"call","ph":"b")json"));
  EXPECT_THAT(json.str(), Not(HasSubstr(R"json({"name":"db.connect()","cat":"call","ph":"e")json")));
}

FAULTLINE_TEST_F(Startup, ALimitTurnsTheHangIntoAnErrorNamingTheDependency) {
  db.on_call().hangs();
  auto r = co_await capture(start_service(deps(), 2s));
  EXPECT_THAT(r, AllOf(Threw<startup_error>("start-up: db.connect did not become ready within 2000ms"),
                       CompletedAt(at(2100ms))));
  EXPECT_THAT(db.calls()[0], AllOf(EndedBy(call_status::cancelled), EndedAt(at(2100ms))));
  EXPECT_EQ(cache.call_count(), 0u);
}

FAULTLINE_TEST_F(Startup, WithTheLimitASlowDatabaseStillStartsInTime) {
  db.on_call().after(1999ms).returns();
  auto r = co_await capture(start_service(deps(), 2s));
  EXPECT_THAT(r, AllOf(Returned(), CompletedAt(at(2149ms))));  // 100 + 1999 + 50
  EXPECT_THAT(cache.calls(), ElementsAre(CalledAt(at(2099ms))));
}

FAULTLINE_TEST_F(Startup, ADependencyErrorSurfacesAtOnceNotAtTheDeadline) {
  db.on_call().after(30ms).fails(asio::error::connection_refused);
  auto r = co_await capture(start_service(deps(), 2s));
  EXPECT_THAT(r, AllOf(Failed(asio::error::connection_refused), CompletedAt(at(130ms))));
  EXPECT_EQ(cache.call_count(), 0u);
}

TEST_F(Startup, CancellingAHungStartupLeavesNothingPending) {
  db.on_call().hangs();
  auto startup = sim().spawn("startup", start_service(deps(), 2s));
  sim().run_for(500ms);
  startup.cancel();
  sim().poll();
  ASSERT_TRUE(startup.done());
  EXPECT_THAT(startup.result(), AllOf(WasCancelled(), CompletedAt(at(500ms))));  // not a startup_error
  EXPECT_THAT(db.calls()[0], AllOf(EndedBy(call_status::cancelled), EndedAt(at(500ms))));
  EXPECT_THAT(sim().pending(), IsEmpty());
}

}  // namespace
