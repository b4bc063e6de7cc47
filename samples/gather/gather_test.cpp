// Tests of gather: every call runs to its end, and each result stays at its input index.
#include "gather.hpp"

#include <faultline/gtest.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <exception>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <variant>
#include <vector>

namespace {

using namespace std::chrono_literals;
using namespace faultline::testing;
namespace asio = boost::asio;
using faultline::at;
using faultline::call_status;
using samples::gather::gather;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// How a result reads in assertions: the value, or the kind of error and its message.
std::string text(const samples::gather::result<std::string>& r) {
  if (r.index() == 0) return std::get<0>(r);
  try {
    std::rethrow_exception(std::get<1>(r));
  } catch (const boost::system::system_error& e) {
    return "error: " + e.code().message();
  } catch (const std::invalid_argument& e) {
    return std::string("invalid_argument: ") + e.what();
  } catch (const std::exception& e) {
    return std::string("exception: ") + e.what();
  }
}

std::vector<std::string> texts(const std::vector<samples::gather::result<std::string>>& results) {
  std::vector<std::string> v;
  for (const auto& r : results) v.push_back(text(r));
  return v;
}

class Gather : public sim_test {
 protected:
  std::vector<asio::awaitable<std::string>> fetches(std::initializer_list<std::string> urls) {
    std::vector<asio::awaitable<std::string>> calls;
    for (const auto& url : urls) calls.push_back(fetch(url));
    return calls;
  }

  faultline::async_fake<std::string(std::string)> fetch{sim(), "fetch"};
};

FAULTLINE_TEST_F(Gather, ReturnsEveryValueInInputOrderWhenTheSlowestCallEnds) {
  fetch.on_call("/a").after(300ms).returns("A");
  fetch.on_call("/b").after(100ms).returns("B");
  fetch.on_call("/c").after(200ms).returns("C");
  auto calls = fetches({"/a", "/b", "/c"});
  auto results = co_await gather(std::move(calls));
  EXPECT_THAT(texts(results), ElementsAre("A", "B", "C"));
  EXPECT_EQ(sim().now(), at(300ms));
  for (const auto& call : fetch.calls()) EXPECT_THAT(call, CalledAt(at(0ms)));  // concurrently
}

FAULTLINE_TEST_F(Gather, KeepsEachErrorAtItsIndexAndTheOtherValues) {
  fetch.on_call("/page1").after(100ms).returns("Content from /page1");
  fetch.on_call("/error").after(50ms).throws(std::invalid_argument("Failed to fetch /error"));
  fetch.on_call("/down").after(150ms).fails(asio::error::connection_refused);
  fetch.on_call("/page2").after(200ms).returns("Content from /page2");
  auto calls = fetches({"/page1", "/error", "/down", "/page2"});
  auto results = co_await gather(std::move(calls));
  EXPECT_THAT(texts(results), ElementsAre("Content from /page1", "invalid_argument: Failed to fetch /error",
                                          "error: Connection refused", "Content from /page2"));
  EXPECT_EQ(sim().now(), at(200ms));
  // The early failure at 50ms stopped nothing: every call ended on its own, as scripted.
  EXPECT_THAT(fetch.calls(), ElementsAre(AllOf(EndedBy(call_status::returned), EndedAt(at(100ms))),
                                         AllOf(EndedBy(call_status::threw), EndedAt(at(50ms))),
                                         AllOf(EndedBy(call_status::failed), EndedAt(at(150ms))),
                                         AllOf(EndedBy(call_status::returned), EndedAt(at(200ms)))));
}

FAULTLINE_TEST_F(Gather, ReportsEveryErrorWhenAllFail) {
  fetch.on_call("/a").after(250ms).throws(std::runtime_error("503 Service Unavailable"));
  fetch.on_call("/b").after(100ms).fails(asio::error::timed_out);
  auto calls = fetches({"/a", "/b"});
  auto results = co_await gather(std::move(calls));
  EXPECT_THAT(texts(results), ElementsAre("exception: 503 Service Unavailable", "error: Connection timed out"));
  EXPECT_EQ(sim().now(), at(250ms));
}

FAULTLINE_TEST_F(Gather, ReturnsNothingAtOnceForNoCalls) {
  auto calls = fetches({});
  auto results = co_await gather(std::move(calls));
  EXPECT_THAT(results, IsEmpty());
  EXPECT_EQ(sim().now(), at(0ms));
}

// Driven by hand, to cancel the gather from outside at an exact instant.
TEST_F(Gather, CancellationCancelsEveryPendingCallAndEndsTheGatherCancelled) {
  fetch.on_call("/a").after(100ms).returns("A");
  fetch.on_call("/b").hangs();
  fetch.on_call("/c").after(500ms).returns("C");
  auto task = sim().spawn("gather", gather(fetches({"/a", "/b", "/c"})));
  sim().run_until(at(150ms));
  task.cancel();
  sim().run();
  // Not a vector of partial results: the caller asked to stop, and learns it stopped.
  EXPECT_THAT(task.result(), AllOf(WasCancelled(), CompletedAt(at(150ms))));
  EXPECT_THAT(fetch.calls(), ElementsAre(AllOf(EndedBy(call_status::returned), EndedAt(at(100ms))),
                                         AllOf(EndedBy(call_status::cancelled), EndedAt(at(150ms))),
                                         AllOf(EndedBy(call_status::cancelled), EndedAt(at(150ms)))));
}

}  // namespace
