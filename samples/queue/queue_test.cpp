// Tests of the queue sample: rejections, failing items, no item lost or doubled under faults, cancellation.
#include "queue.hpp"

#include <faultline/gtest.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
using namespace faultline::testing;
using namespace samples::queue;
using faultline::at;
using faultline::call_status;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::SizeIs;

// Items first..last, each with a valid payload.
std::vector<item> items(int first, int last) {
  std::vector<item> out;
  for (int id = first; id <= last; ++id) out.push_back({id, "job" + std::to_string(id)});
  return out;
}

class Pipeline : public sim_test {
 protected:
  faultline::async_fake<void(item)> process{sim(), "process"};
  process_fn fake_process() { return std::ref(process); }
};

FAULTLINE_TEST_F(Pipeline, ProcessesEveryItemAndEndsWhenTheLastIsDone) {
  process.on_call().after(100ms).returns().repeatedly();
  auto r = co_await capture(run_pipeline(items(1, 5), fake_process(), {.consumers = 2, .capacity = 2}));
  CO_ASSERT_THAT(r, AllOf(Returned(), CompletedAt(at(300ms))));
  EXPECT_EQ(r.value().processed, (std::vector{1, 2, 3, 4, 5}));
  EXPECT_THAT(r.value().failed, IsEmpty());
  // Two consumers, one item each at a time: 1 and 2 at once, then 3 and 4, then 5.
  EXPECT_THAT(process.calls(), ElementsAre(CalledAt(at(0ms)), CalledAt(at(0ms)), CalledAt(at(100ms)),
                                           CalledAt(at(100ms)), CalledAt(at(200ms))));
}

FAULTLINE_TEST_F(Pipeline, RejectsInvalidItemsWithoutQueueingThem) {
  process.on_call().after(100ms).returns().repeatedly();
  std::vector<item> in{{1, "a"}, {2, ""}, {3, "c"}, {-4, "d"}};
  auto r = co_await capture(run_pipeline(in, fake_process(), {.consumers = 1}));
  CO_ASSERT_THAT(r, AllOf(Returned(), CompletedAt(at(200ms))));
  EXPECT_EQ(r.value().rejected, (std::vector<problem>{{2, "empty payload"}, {-4, "id must be positive"}}));
  EXPECT_EQ(r.value().processed, (std::vector{1, 3}));
  EXPECT_THAT(process.calls(), ElementsAre(AllOf(CalledWith(item{1, "a"}), CalledAt(at(0ms))),
                                           AllOf(CalledWith(item{3, "c"}), CalledAt(at(100ms)))));
}

FAULTLINE_TEST_F(Pipeline, ReportsAFailingItemAndItsConsumerGoesOn) {
  auto in = items(1, 5);
  process.on_call().after(100ms).returns().repeatedly();
  process.on_call(in[1]).after(50ms).throws(std::runtime_error("corrupt image"));
  process.on_call(in[2]).after(20ms).fails(asio::error::connection_reset);
  process.on_call(in[3]).after(10ms).cancels();  // the callee gave up: a failure, not a shutdown
  auto r = co_await capture(run_pipeline(in, fake_process(), {.consumers = 1}));
  CO_ASSERT_THAT(r, AllOf(Returned(), CompletedAt(at(280ms))));
  EXPECT_EQ(r.value().processed, (std::vector{1, 5}));
  EXPECT_EQ(r.value().failed, (std::vector<problem>{{2, "corrupt image"},
                                                    {3, "Connection reset by peer [system:104]"},
                                                    {4, "Operation canceled [system:125]"}}));
  // The one consumer takes the next item the instant the previous one failed.
  EXPECT_THAT(process.calls(), ElementsAre(CalledAt(at(0ms)), CalledAt(at(100ms)), CalledAt(at(150ms)),
                                           CalledAt(at(170ms)), CalledAt(at(180ms))));
}

// Beast-style sweep: every shape of pipeline, against the same mix of faults.
FAULTLINE_TEST_F(Pipeline, UnderFaultsNoValidItemIsLostOrProcessedTwice) {
  auto in = items(1, 20);
  in[6].payload.clear();  // #7 and #14 are invalid
  in[13].payload.clear();
  auto id_is = [](int divisor) { return [divisor](const item& it) { return it.id % divisor == 0; }; };
  process.on_call().after(100ms).returns().repeatedly();
  process.on_call_if(id_is(3), "slow ids").after(250ms).returns().repeatedly();
  process.on_call_if(id_is(5), "bad input").after(30ms).throws(std::runtime_error("bad input")).repeatedly();
  process.on_call_if(id_is(4), "flaky link").after(10ms).fails(asio::error::connection_reset).repeatedly();

  std::vector<int> valid;
  for (const auto& it : in)
    if (validate(it).empty()) valid.push_back(it.id);
  for (std::size_t consumers : {1, 2, 3, 7}) {
    for (std::size_t capacity : {0, 1, 4, 30}) {
      SCOPED_TRACE(::testing::Message() << consumers << " consumers, capacity " << capacity);
      const std::size_t first_call = process.call_count();
      auto r = co_await capture(run_pipeline(in, fake_process(), {.consumers = consumers, .capacity = capacity}));
      CO_ASSERT_THAT(r, Returned());
      std::vector<int> seen = r.value().processed;
      std::vector<int> failed;
      for (const auto& f : r.value().failed) failed.push_back(f.id);
      seen.insert(seen.end(), failed.begin(), failed.end());
      std::sort(seen.begin(), seen.end());
      std::sort(failed.begin(), failed.end());
      EXPECT_EQ(seen, valid);  // each valid item exactly once
      EXPECT_EQ(failed, (std::vector{4, 5, 8, 10, 12, 15, 16, 20}));
      EXPECT_EQ(process.call_count() - first_call, valid.size());
      // The run ends the instant its last item is done: nobody lingers.
      auto last_end = std::max_element(process.calls().begin() + first_call, process.calls().end(),
                                       [](const auto& a, const auto& b) { return *a.ended < *b.ended; });
      EXPECT_EQ(r.completed_at(), *last_end->ended);
    }
  }
}

TEST_F(Pipeline, CancellingThePipelineEndsProducerAndConsumersAtThatInstant) {
  process.on_call().after(100ms).returns().repeatedly();
  auto pipeline = sim().spawn("pipeline", run_pipeline(items(1, 10), fake_process(), {.consumers = 2, .capacity = 2}));
  sim().run_for(250ms);  // items 5 and 6 are in process(), 7 and 8 queued, the producer waits to send 9
  pipeline.cancel();
  sim().poll();
  ASSERT_TRUE(pipeline.done());
  EXPECT_THAT(pipeline.result(), AllOf(WasCancelled(), CompletedAt(at(250ms))));
  ASSERT_THAT(process.calls(), SizeIs(6));  // nothing taken after the cancellation
  EXPECT_THAT(process.calls()[4], AllOf(EndedBy(call_status::cancelled), EndedAt(at(250ms))));
  EXPECT_THAT(process.calls()[5], AllOf(EndedBy(call_status::cancelled), EndedAt(at(250ms))));
  EXPECT_THAT(sim().pending(), IsEmpty());  // and the fixture's teardown check finds nothing left
}

}  // namespace
