// Tests of process_batch: per-item records in input order for mixed outcomes, an all-ok batch, a
// hanging item bounded by the item timeout, an empty batch, and a batch cancelled midway.
#include "error_aggregation.hpp"

#include <faultline/gtest.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using namespace faultline::testing;
namespace asio = boost::asio;
using faultline::at;
using faultline::call_status;
using samples::error_aggregation::duration;
using samples::error_aggregation::item_result;
using samples::error_aggregation::process_batch;
using ::testing::AllOf;
using ::testing::Each;
using ::testing::ElementsAre;
using ::testing::IsEmpty;

// A record as one line, so a whole batch compares (and prints) at once.
std::vector<std::string> lines(const std::vector<item_result<int>>& records) {
  std::vector<std::string> v;
  for (const auto& r : records)
    v.push_back(r.id + " " + to_string(r.status) + " " + (r.ok() ? std::to_string(r.value) : r.error));
  return v;
}

class ErrorAggregation : public sim_test {
 protected:
  faultline::async_fake<int(std::string)> process{sim(), "process"};

  // The code under test: the batch, each item processed by the double.
  asio::awaitable<std::vector<item_result<int>>> run_batch(std::vector<std::string> ids,
                                                           std::optional<duration> item_timeout = std::nullopt) {
    return process_batch(std::move(ids), [this](const std::string& id) { return process(id); }, item_timeout);
  }
};

FAULTLINE_TEST_F(ErrorAggregation, MixedOutcomesAreRecordedPerItemInInputOrder) {
  process.on_call("a").after(300ms).returns(2);
  process.on_call("b").after(100ms).throws(std::invalid_argument("bad item"));
  process.on_call("c").after(200ms).fails(asio::error::connection_refused);
  process.on_call("d").after(50ms).returns(8);

  std::vector<std::string> ids{"a", "b", "c", "d"};  // (GCC 12 miscompiles a braced list inside co_await)

  auto r = co_await capture(run_batch(ids));

  // Failures cancel nothing: the batch ends when the slowest item does.
  CO_ASSERT_THAT(r, CompletedAt(at(300ms)));
  EXPECT_THAT(lines(r.value()), ElementsAre("a ok 2", "b failed bad item", "c failed Connection refused", "d ok 8"));
  CO_ASSERT_TRUE(r.value()[1].exception) << "a failed item's record keeps what was thrown";
  EXPECT_THROW(std::rethrow_exception(r.value()[1].exception), std::invalid_argument);
  // All at once, each ending at its own instant.
  EXPECT_THAT(process.calls(), Each(CalledAt(at(0ms))));
  EXPECT_THAT(process.calls(), ElementsAre(EndedAt(at(300ms)), EndedAt(at(100ms)), EndedAt(at(200ms)),
                                           EndedAt(at(50ms))));
}

FAULTLINE_TEST_F(ErrorAggregation, AllItemsSucceed) {
  process.on_call("a").after(100ms).returns(1);
  process.on_call("b").after(250ms).returns(2);

  std::vector<std::string> ids{"a", "b"};

  auto r = co_await capture(run_batch(ids));

  CO_ASSERT_THAT(r, CompletedAt(at(250ms)));
  EXPECT_THAT(lines(r.value()), ElementsAre("a ok 1", "b ok 2"));
}

FAULTLINE_TEST_F(ErrorAggregation, AHangingItemIsBoundedByTheItemTimeout) {
  process.on_call("a").after(100ms).returns(1);
  process.on_call("b").hangs();
  process.on_call("c").after(200ms).fails(asio::error::connection_refused);

  std::vector<std::string> ids{"a", "b", "c"};

  auto r = co_await capture(run_batch(ids, 1s));

  CO_ASSERT_THAT(r, CompletedAt(at(1s)));
  // c's failure is recorded as a failure, not held back as a timeout.
  EXPECT_THAT(lines(r.value()),
              ElementsAre("a ok 1", "b timed_out no result within 1000ms", "c failed Connection refused"));
  EXPECT_THAT(process.calls(), ElementsAre(EndedAt(at(100ms)), AllOf(EndedBy(call_status::cancelled), EndedAt(at(1s))),
                                           AllOf(EndedBy(call_status::failed), EndedAt(at(200ms)))));
}

FAULTLINE_TEST_F(ErrorAggregation, TheItemTimeoutDoesNotHoldBackAFailure) {
  process.on_call("a").after(100ms).returns(1);
  process.on_call("c").after(200ms).fails(asio::error::connection_refused);
  std::vector<std::string> ids{"a", "c"};

  auto r = co_await capture(run_batch(ids, 1s));

  // Recorded when c failed, not when its timeout would have fired.
  CO_ASSERT_THAT(r, CompletedAt(at(200ms)));
  EXPECT_THAT(lines(r.value()), ElementsAre("a ok 1", "c failed Connection refused"));
}

FAULTLINE_TEST_F(ErrorAggregation, AnEmptyBatchEndsAtOnceWithNoRecords) {
  auto r = co_await capture(run_batch(std::vector<std::string>()));

  CO_ASSERT_THAT(r, CompletedAt(at(0ms)));
  EXPECT_THAT(r.value(), IsEmpty());
}

// The sample's decision: a cancelled batch still returns every record.
TEST_F(ErrorAggregation, CancellingTheBatchRecordsUnfinishedItemsAsCancelled) {
  process.on_call("a").after(100ms).returns(1);
  process.on_call("b").after(500ms).returns(2);
  process.on_call("c").hangs();
  auto batch = sim().spawn("batch", run_batch({"a", "b", "c"}, 1s));

  sim().run_until(at(200ms));
  batch.cancel();
  sim().run();

  ASSERT_THAT(batch.result(), CompletedAt(at(200ms)));
  EXPECT_THAT(lines(batch.result().value()),
              ElementsAre("a ok 1", "b cancelled Operation canceled", "c cancelled Operation canceled"));
  EXPECT_THAT(process.calls(), ElementsAre(EndedAt(at(100ms)), AllOf(EndedBy(call_status::cancelled), EndedAt(at(200ms))),
                                           AllOf(EndedBy(call_status::cancelled), EndedAt(at(200ms)))));
}

}  // namespace
