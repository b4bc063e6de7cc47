// Tests of safe_fetch: each way the fetch can end is reported as what it is, when it happens.
#include "try_catch.hpp"

#include <faultline/gtest.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <stdexcept>
#include <string>

namespace {

using namespace std::chrono_literals;
using namespace faultline::testing;
namespace asio = boost::asio;
using faultline::at;
using faultline::call_status;
using samples::try_catch::fetch_status;
using samples::try_catch::safe_fetch;
using ::testing::AllOf;
using ::testing::ElementsAre;

const std::string url = "https://api.example.com";

class SafeFetch : public sim_test {
 protected:
  faultline::async_fake<std::string(std::string)> fetch{sim(), "fetch"};
};

FAULTLINE_TEST_F(SafeFetch, ReportsTheDataOnSuccess) {
  fetch.on_call(url).after(1s).returns("Data from " + url);
  auto r = co_await safe_fetch(std::ref(fetch), url);
  EXPECT_EQ(r.status, fetch_status::ok);
  EXPECT_EQ(r.data, "Data from " + url);
  EXPECT_EQ(sim().now(), at(1s));
}

FAULTLINE_TEST_F(SafeFetch, ReportsARefusedUrlAsInvalid) {
  fetch.on_call().after(1s).throws(std::invalid_argument("Invalid URL: https://invalid"));
  auto r = co_await safe_fetch(std::ref(fetch), "https://invalid");
  EXPECT_EQ(r.status, fetch_status::invalid);
  EXPECT_EQ(r.error, "Invalid URL: https://invalid");
  EXPECT_FALSE(r.code);
  EXPECT_EQ(sim().now(), at(1s));
}

FAULTLINE_TEST_F(SafeFetch, ReportsANetworkErrorAsAFailureWithItsCode) {
  fetch.on_call().after(300ms).fails(asio::error::connection_refused);
  auto r = co_await safe_fetch(std::ref(fetch), url);
  EXPECT_EQ(r.status, fetch_status::failed);
  EXPECT_EQ(r.code, asio::error::connection_refused);
  EXPECT_EQ(r.error, boost::system::error_code(asio::error::connection_refused).message());
  EXPECT_EQ(sim().now(), at(300ms));
}

FAULTLINE_TEST_F(SafeFetch, ReportsAnyOtherExceptionAsAFailure) {
  fetch.on_call().after(2s).throws(std::runtime_error("502 Bad Gateway"));
  auto r = co_await safe_fetch(std::ref(fetch), url);
  EXPECT_EQ(r.status, fetch_status::failed);
  EXPECT_EQ(r.error, "502 Bad Gateway");
  EXPECT_FALSE(r.code);
  EXPECT_EQ(sim().now(), at(2s));
}

// Driven by hand, to cancel at an exact instant: safe_fetch must not turn the cancellation
// into a "failed" report (Asio signals it with a system_error, which a catch-all would take).
TEST_F(SafeFetch, LetsACancellationThroughInsteadOfReportingAFailure) {
  fetch.on_call().hangs();
  auto task = sim().spawn("safe_fetch", safe_fetch(std::ref(fetch), url));
  sim().run_until(at(500ms));
  task.cancel();
  sim().run();
  EXPECT_THAT(task.result(), AllOf(WasCancelled(), CompletedAt(at(500ms))));
  EXPECT_THAT(fetch.calls(),
              ElementsAre(AllOf(CalledAt(at(0ms)), EndedBy(call_status::cancelled), EndedAt(at(500ms)))));
}

}  // namespace
