// The sim's timer queue on its own: (deadline, scheduling order), parked waits, cancellation, monotone time.
#include <faultline/detail/timer_queue.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <map>
#include <memory>
#include <random>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

namespace {

using faultline::detail::last_instant;
using faultline::detail::parked_deadline;
using faultline::detail::ready_op;
using faultline::detail::timer_queue;
using faultline::detail::queued_wait;

constexpr std::int64_t tq_year = std::int64_t{365} * 24 * 3600 * 1'000'000'000;

// Waits that are never run: the queue only orders them.
class tq_pool {
 public:
  queued_wait* get() {
    if (!free_.empty()) {
      queued_wait* w = free_.back();
      free_.pop_back();
      return w;
    }
    all_.push_back(std::make_unique<queued_wait>([](ready_op*, bool) {}));
    return all_.back().get();
  }
  void put(queued_wait* w) { free_.push_back(w); }

 private:
  std::vector<std::unique_ptr<queued_wait>> all_;
  std::vector<queued_wait*> free_;
};

// A queue and waits for it; `at(d)` queues a fresh wait until `d`.
class timer_queue_case : public ::testing::Test {
 protected:
  queued_wait* at(std::int64_t deadline) {
    queued_wait* w = pool_.get();
    q_.push(w, deadline);
    return w;
  }
  // Fires everything due by `now`, in firing order.
  std::vector<queued_wait*> fire(std::int64_t now) {
    std::vector<queued_wait*> out;
    while (queued_wait* w = q_.pop_due(now)) out.push_back(w);
    return out;
  }

  timer_queue q_;
  tq_pool pool_;
};

TEST_F(timer_queue_case, same_deadline_fires_in_scheduling_order_whatever_was_scheduled_between) {
  std::vector<queued_wait*> at5;
  for (int i = 0; i < 1000; ++i) {
    at5.push_back(at(5));
    at(6 + i % 3);  // other deadlines in the same buckets, spread together with the 5s
  }
  EXPECT_EQ(q_.next_deadline(), 5);
  EXPECT_EQ(fire(5), at5);
  EXPECT_EQ(q_.next_deadline(), 6);
  EXPECT_EQ(q_.size(), 1000u);
}

TEST_F(timer_queue_case, parked_waits_never_fire_and_are_never_the_next_deadline) {
  queued_wait* parked = at(parked_deadline);
  EXPECT_EQ(q_.next_deadline(), parked_deadline);
  EXPECT_EQ(q_.pop_due(last_instant), nullptr);
  queued_wait* end = at(last_instant);
  EXPECT_EQ(q_.next_deadline(), last_instant);
  EXPECT_EQ(fire(last_instant), std::vector<queued_wait*>{end});
  EXPECT_EQ(q_.next_deadline(), parked_deadline);
  EXPECT_EQ(q_.size(), 1u);
  EXPECT_TRUE(timer_queue::queued(parked));
  EXPECT_EQ(q_.waits(), std::vector<const queued_wait*>{parked});
  q_.erase(parked);
  EXPECT_FALSE(timer_queue::queued(parked));
  EXPECT_TRUE(q_.empty());
}

TEST_F(timer_queue_case, a_cancelled_head_or_last_wait_is_never_the_next_deadline) {
  queued_wait* head = at(10);
  queued_wait* middle = at(20);
  queued_wait* last = at(30);
  EXPECT_EQ(q_.next_deadline(), 10);
  q_.erase(head);  // after it was peeked at
  EXPECT_EQ(q_.next_deadline(), 20);
  q_.erase(last);
  EXPECT_EQ(fire(1000), std::vector<queued_wait*>{middle});
  EXPECT_EQ(q_.next_deadline(), parked_deadline);
  EXPECT_TRUE(q_.empty());
}

TEST_F(timer_queue_case, peeking_at_a_far_deadline_still_lets_an_earlier_one_in) {
  // run_until() looks at the next deadline without reaching it; a wait
  // scheduled afterwards for an instant before it must still fire first.
  queued_wait* far = at(10 * tq_year);
  EXPECT_EQ(q_.next_deadline(), 10 * tq_year);
  EXPECT_EQ(q_.pop_due(tq_year), nullptr);
  queued_wait* near = at(tq_year + 1);
  EXPECT_EQ(fire(last_instant), (std::vector<queued_wait*>{near, far}));
}

TEST_F(timer_queue_case, a_wait_scheduled_while_firing_at_that_instant_fires_after_the_ones_already_due) {
  queued_wait* first = at(7);
  queued_wait* second = at(7);
  EXPECT_EQ(q_.pop_due(7), first);
  queued_wait* third = at(7);
  EXPECT_EQ(fire(7), (std::vector<queued_wait*>{second, third}));
}

TEST_F(timer_queue_case, gaps_from_one_nanosecond_to_centuries_fire_in_order) {
  std::multimap<std::int64_t, queued_wait*> expected;
  for (std::int64_t d : {last_instant, 250 * tq_year, tq_year, std::int64_t{1'000'000'000}, std::int64_t{1'000'000},
                         std::int64_t{3}, std::int64_t{1}, std::int64_t{0}, std::int64_t{2}})
    expected.emplace(d, at(d));
  std::vector<queued_wait*> order;
  for (const auto& [d, w] : expected) order.push_back(w);
  EXPECT_EQ(fire(last_instant), order);
}

TEST_F(timer_queue_case, cancelled_far_timeouts_do_not_accumulate) {
  queued_wait* keep = at(2 * tq_year);
  for (int i = 0; i < 100'000; ++i) {
    queued_wait* timeout = at(tq_year + i);
    q_.erase(timeout);
    pool_.put(timeout);
  }
  EXPECT_EQ(q_.size(), 1u);
  EXPECT_EQ(q_.next_deadline(), 2 * tq_year);
  EXPECT_EQ(fire(last_instant), std::vector<queued_wait*>{keep});
}

TEST_F(timer_queue_case, a_deadline_before_the_instant_last_fired_is_refused) {
  at(100);
  ASSERT_EQ(fire(100).size(), 1u);
  queued_wait* late = pool_.get();
  EXPECT_THROW(q_.push(late, 99), std::logic_error);
  EXPECT_FALSE(timer_queue::queued(late));
  EXPECT_TRUE(q_.empty());
}

TEST_F(timer_queue_case, teardown_takes_every_wait_newest_slot_first) {
  queued_wait* a = at(5);
  queued_wait* b = at(parked_deadline);
  queued_wait* c = at(1);
  EXPECT_EQ(q_.take_any(), c);
  EXPECT_EQ(q_.take_any(), b);
  EXPECT_EQ(q_.take_any(), a);
  EXPECT_EQ(q_.take_any(), nullptr);
  EXPECT_FALSE(timer_queue::queued(a));
  EXPECT_TRUE(q_.empty());
}

// The queue against a plain ordered set of (deadline, sequence) over random
// schedule / cancel / advance operations, with firing-time scheduling.
class tq_model {
 public:
  explicit tq_model(std::uint64_t seed) : rng_(seed) {}

  void step() {
    const auto op = pick(100);
    if (op < 55)
      schedule();
    else if (op < 75)
      cancel();
    else
      advance();
  }

  void finish() {
    drive(last_instant);
    EXPECT_EQ(q_.size(), parked_.size());
    EXPECT_EQ(q_.next_deadline(), parked_deadline);
  }

  std::uint64_t fired() const { return fired_; }

 private:
  std::uint64_t pick(std::uint64_t n) { return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng_); }

  std::int64_t deadline() {
    const std::int64_t room = last_instant - now_;
    auto after = [&](std::int64_t d) { return d > room ? last_instant : now_ + d; };
    switch (pick(10)) {
      case 0: return now_;  // due at once, behind what is already due
      case 1: return parked_deadline;
      case 2: return last_instant;
      case 3: return after(static_cast<std::int64_t>(pick(static_cast<std::uint64_t>(tq_year) * 250)));
      case 4: return after(static_cast<std::int64_t>(pick(1'000'000'000)));
      case 5:
      case 6: {  // a few shared instants, scheduled many times
        const std::int64_t shared = (static_cast<std::int64_t>(pick(8)) + 1) * 1'000'000;
        return now_ <= shared ? shared : now_;
      }
      default: return after(static_cast<std::int64_t>(pick(1000)));
    }
  }

  void schedule() {
    queued_wait* w = pool_.get();
    q_.push(w, deadline());
    ASSERT_TRUE(timer_queue::queued(w));
    const std::uint64_t seq = next_seq_++;
    seq_of_[w] = seq;
    if (w->deadline == parked_deadline)
      parked_.emplace(seq, w);
    else
      ref_.emplace(std::make_pair(w->deadline, seq), w);
    last_scheduled_ = w;
  }

  void cancel() {
    if (ref_.empty() && parked_.empty()) return;
    queued_wait* w = nullptr;
    const auto how = pick(4);
    if (how == 0 && !ref_.empty()) {
      w = ref_.begin()->second;  // the head
    } else if (how == 1 && last_scheduled_ && timer_queue::queued(last_scheduled_)) {
      w = last_scheduled_;
    } else if (how == 2 && !parked_.empty()) {
      w = std::next(parked_.begin(), static_cast<std::ptrdiff_t>(pick(parked_.size())))->second;
    } else if (!ref_.empty()) {
      w = std::next(ref_.begin(), static_cast<std::ptrdiff_t>(pick(std::min<std::size_t>(ref_.size(), 64))))->second;
    } else {
      return;
    }
    if (w->deadline == parked_deadline)
      parked_.erase(seq_of_[w]);
    else
      ref_.erase({w->deadline, seq_of_[w]});
    q_.erase(w);
    ASSERT_FALSE(timer_queue::queued(w));
    pool_.put(w);
  }

  void advance() {
    const auto how = pick(4);
    std::int64_t bound = now_;
    if (how == 1) bound = now_ + std::min<std::int64_t>(last_instant - now_, static_cast<std::int64_t>(pick(2000)));
    if (how == 2) bound = now_ + std::min<std::int64_t>(last_instant - now_, static_cast<std::int64_t>(pick(tq_year)));
    if (how == 3 && !ref_.empty()) bound = ref_.begin()->first.first;  // exactly the next deadline
    drive(bound);
  }

  // As sim_core::run_until: jump to each next deadline up to `bound`, fire
  // what is due there (scheduling more meanwhile), then stop at `bound`.
  void drive(std::int64_t bound) {
    for (;;) {
      const std::int64_t expected_next = ref_.empty() ? parked_deadline : ref_.begin()->first.first;
      const std::int64_t next = q_.next_deadline();
      ASSERT_EQ(next, expected_next) << "at " << now_;
      if (next > bound) break;
      now_ = next;
      while (queued_wait* w = q_.pop_due(now_)) {
        ASSERT_FALSE(ref_.empty()) << "fired a wait the reference does not hold";
        ASSERT_EQ(w, ref_.begin()->second) << "fired out of (deadline, scheduling order) at " << now_;
        ASSERT_EQ(w->deadline, now_);
        ASSERT_FALSE(timer_queue::queued(w));
        ref_.erase(ref_.begin());
        pool_.put(w);
        ++fired_;
        if (pick(8) == 0) schedule();  // a handler scheduling while the instant fires
        if (pick(16) == 0) cancel();   // or cancelling
      }
      ASSERT_TRUE(ref_.empty() || ref_.begin()->first.first > now_);
    }
    now_ = bound;
    ASSERT_EQ(q_.size(), ref_.size() + parked_.size());
  }

  std::mt19937_64 rng_;
  timer_queue q_;
  tq_pool pool_;
  std::int64_t now_ = 0;
  std::map<std::pair<std::int64_t, std::uint64_t>, queued_wait*> ref_;
  std::map<std::uint64_t, queued_wait*> parked_;
  std::map<const queued_wait*, std::uint64_t> seq_of_;  // scheduling order, as the reference counts it
  std::uint64_t next_seq_ = 0;
  queued_wait* last_scheduled_ = nullptr;
  std::uint64_t fired_ = 0;
};

TEST(timer_queue_model, fires_exactly_as_an_ordered_set_over_100000_random_operations) {
  for (const std::uint64_t seed : {1u, 2u}) {
    SCOPED_TRACE("seed " + std::to_string(seed));
    tq_model m(seed);
    for (int i = 0; i < 50'000; ++i) {
      m.step();
      if (::testing::Test::HasFatalFailure()) return;
    }
    m.finish();
    EXPECT_GT(m.fired(), 10'000u);  // the operations really fired waits, not only queued them
  }
}

}  // namespace
