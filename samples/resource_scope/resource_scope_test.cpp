// Tests of with_connection: the disconnect runs after a success, a failed query and a cancellation,
// and a failed connect is reported with nothing to disconnect; every call at its exact instant.
#include "resource_scope.hpp"

#include <faultline/gtest.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace {

using namespace std::chrono_literals;
using namespace faultline::testing;
namespace asio = boost::asio;
using faultline::at;
using faultline::call_status;
using samples::resource_scope::connection_id;
using samples::resource_scope::database;
using samples::resource_scope::with_connection;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

class ResourceScope : public sim_test {
 protected:
  faultline::async_fake<connection_id(std::string)> connect{sim(), "db.connect"};
  faultline::async_fake<std::string(connection_id, std::string)> query{sim(), "db.query"};
  faultline::async_fake<void(connection_id)> disconnect{sim(), "db.disconnect"};
  database db{[this](std::string dsn) { return connect(std::move(dsn)); },
              [this](connection_id c) { return disconnect(c); }};

  // The code under test: one query inside the connection's scope.
  asio::awaitable<std::string> count_users() {
    return with_connection(db, "db://users", [this](connection_id c) { return query(c, "SELECT COUNT(*)"); });
  }
};

FAULTLINE_TEST_F(ResourceScope, DisconnectsAfterASuccessfulQuery) {
  connect.on_call().after(100ms).returns(7);
  query.on_call().after(200ms).returns("42");
  disconnect.on_call().after(50ms).returns();

  auto r = co_await capture(count_users());

  EXPECT_THAT(r, AllOf(Returned("42"), CompletedAt(at(350ms))));
  EXPECT_THAT(connect.calls(), ElementsAre(AllOf(CalledAt(at(0ms)), CalledWith("db://users"), EndedAt(at(100ms)))));
  EXPECT_THAT(query.calls(), ElementsAre(AllOf(CalledAt(at(100ms)), CalledWith(7, "SELECT COUNT(*)"))));
  EXPECT_THAT(disconnect.calls(), ElementsAre(AllOf(CalledAt(at(300ms)), CalledWith(7), EndedAt(at(350ms)))));
}

FAULTLINE_TEST_F(ResourceScope, DisconnectsAfterAFailedQueryThenRethrowsItsError) {
  connect.on_call().after(100ms).returns(7);
  query.on_call().after(200ms).throws(std::invalid_argument("syntax error"));
  disconnect.on_call().after(50ms).returns();

  auto r = co_await capture(count_users());

  EXPECT_THAT(r, AllOf(Threw<std::invalid_argument>("syntax error"), CompletedAt(at(350ms))));
  EXPECT_THAT(disconnect.calls(), ElementsAre(AllOf(CalledAt(at(300ms)), CalledWith(7), EndedAt(at(350ms)))));
}

FAULTLINE_TEST_F(ResourceScope, AFailedConnectIsReportedAndNothingIsDisconnected) {
  connect.on_call().after(100ms).fails(asio::error::connection_refused);

  auto r = co_await capture(count_users());

  EXPECT_THAT(r, AllOf(Failed(asio::error::connection_refused), CompletedAt(at(100ms))));
  EXPECT_THAT(query.calls(), IsEmpty());
  EXPECT_THAT(disconnect.calls(), IsEmpty());
}

FAULTLINE_TEST_F(ResourceScope, AFailedDisconnectDoesNotHideTheQueryError) {
  connect.on_call().after(100ms).returns(7);
  query.on_call().after(200ms).throws(std::invalid_argument("syntax error"));
  disconnect.on_call().after(50ms).fails(asio::error::broken_pipe);

  auto r = co_await capture(count_users());

  EXPECT_THAT(r, AllOf(Threw<std::invalid_argument>("syntax error"), CompletedAt(at(350ms))));
  EXPECT_THAT(disconnect.calls(), ElementsAre(AllOf(CalledAt(at(300ms)), EndedBy(call_status::failed))));
}

FAULTLINE_TEST_F(ResourceScope, AFailedDisconnectAfterASuccessIsReported) {
  connect.on_call().after(100ms).returns(7);
  query.on_call().after(200ms).returns("42");
  disconnect.on_call().after(50ms).fails(asio::error::broken_pipe);

  auto r = co_await capture(count_users());

  EXPECT_THAT(r, AllOf(Failed(asio::error::broken_pipe), CompletedAt(at(350ms))));
}

FAULTLINE_TEST_F(ResourceScope, ABodyWithoutAResultIsScopedToo) {
  faultline::async_fake<void(connection_id, std::string)> execute(sim(), "db.execute");
  connect.on_call().after(100ms).returns(7);
  execute.on_call().after(200ms).fails(asio::error::timed_out);
  disconnect.on_call().after(50ms).returns();

  auto r = co_await capture(
      with_connection(db, "db://users", [&](connection_id c) { return execute(c, "DELETE FROM sessions"); }));

  EXPECT_THAT(r, AllOf(Failed(asio::error::timed_out), CompletedAt(at(350ms))));
  EXPECT_THAT(disconnect.calls(), ElementsAre(AllOf(CalledAt(at(300ms)), EndedAt(at(350ms)))));
}

TEST_F(ResourceScope, CancellationDuringTheQueryStillDisconnects) {
  connect.on_call().after(100ms).returns(7);
  query.on_call().hangs();
  disconnect.on_call().after(50ms).returns();
  auto caller = sim().spawn("caller", count_users());

  sim().run_until(at(200ms));
  caller.cancel();
  sim().run();

  EXPECT_THAT(query.calls(), ElementsAre(AllOf(EndedBy(call_status::cancelled), EndedAt(at(200ms)))));
  EXPECT_THAT(disconnect.calls(), ElementsAre(AllOf(CalledAt(at(200ms)), CalledWith(7), EndedAt(at(250ms)),
                                                    EndedBy(call_status::returned))));
  // Cancelled, once the disconnect is done.
  EXPECT_THAT(caller.result(), AllOf(WasCancelled(), CompletedAt(at(250ms))));
}

TEST_F(ResourceScope, CancellationDuringTheConnectNeedsNoDisconnect) {
  connect.on_call().after(100ms).returns(7);
  auto caller = sim().spawn("caller", count_users());

  sim().run_until(at(50ms));
  caller.cancel();
  sim().run();

  EXPECT_THAT(connect.calls(), ElementsAre(AllOf(EndedBy(call_status::cancelled), EndedAt(at(50ms)))));
  EXPECT_THAT(query.calls(), IsEmpty());
  EXPECT_THAT(disconnect.calls(), IsEmpty());
  EXPECT_THAT(caller.result(), AllOf(WasCancelled(), CompletedAt(at(50ms))));
}

}  // namespace
