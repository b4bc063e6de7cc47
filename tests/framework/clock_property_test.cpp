// Property test of the virtual clock: random interleavings of timer calls and driving calls against a model.
#include <faultline/sim_context.hpp>

#include <faultline/gtest.hpp>
#include <faultline/steady_clock.hpp>
#include <faultline/steady_timer.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <limits>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <vector>

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using boost::system::error_code;
using tp = faultline::steady_clock::time_point;

constexpr std::int64_t parked = std::numeric_limits<std::int64_t>::max();
constexpr std::int64_t last = parked - 1;

// What the model expects of one async_wait.
struct wait_record {
  int timer = 0;
  std::int64_t deadline = 0;  // effective: max(expiry, now at the start), or parked
  std::uint64_t seq = 0;      // scheduling order
  bool pending = true;        // in the model: not fired, not cancelled
  bool expect_abort = false;  // cancelled by the test; its handler must see operation_aborted
  int calls = 0;              // how many times the handler ran
  std::optional<error_code> ec;
  std::int64_t seen_now = -1;
};

// One random sequence. Every failure message names the seed and the step, so
// `--gtest_filter=ClockProperty.*` plus the seed reproduces it.
class sequence {
 public:
  explicit sequence(std::uint64_t seed) : seed_(seed), rng_(seed) {
    faultline::sim_options o;
    o.horizon = faultline::sim_clock::duration::max();  // run() may go to the end of time
    sim_ = std::make_unique<faultline::sim_context>(o);
    for (int i = 0; i < timers; ++i) timers_.push_back(std::make_unique<faultline::steady_timer>(*sim_));
  }

  void run(int steps) {
    for (step_ = 0; step_ < steps && !::testing::Test::HasFailure(); ++step_) {
      switch (pick(8)) {
        case 0:
        case 1: set_expiry(); break;
        case 2:
        case 3:
        case 4: start_wait(); break;
        case 5: cancel(); break;
        default: drive(); break;
      }
    }
    // Wind down: whatever is left is cancelled and must complete exactly once.
    for (int i = 0; i < timers; ++i) cancel_timer(i);
    sim_->poll();
    observe_after_drive("final poll");
    for (const auto& w : waits_)
      ASSERT_EQ(w.calls, 1) << where("final") << ": a wait on timer " << w.timer << " ran " << w.calls << " times";
  }

 private:
  static constexpr int timers = 4;

  std::uint64_t pick(std::uint64_t n) { return std::uniform_int_distribution<std::uint64_t>(0, n - 1)(rng_); }
  std::int64_t now() const { return sim_->now().time_since_epoch().count(); }
  std::string where(const char* what) const {
    return "seed " + std::to_string(seed_) + " step " + std::to_string(step_) + " (" + what + ")";
  }

  // Small multiples of 1ms collide often, which is where ordering matters.
  std::int64_t small() { return static_cast<std::int64_t>(pick(6)) * 1'000'000 + (pick(8) == 0 ? 1 : 0); }

  // An instant: past, now, future, the ends of time.
  std::int64_t instant() {
    const std::int64_t n = now();
    switch (pick(10)) {
      case 0: return std::numeric_limits<std::int64_t>::min();
      case 1: return parked;
      case 2: return n > 0 ? n - 1 - static_cast<std::int64_t>(pick(static_cast<std::uint64_t>(std::min<std::int64_t>(n, 5'000'000)))) : n;
      case 3: return n;
      case 4: return pick(20) == 0 ? last : n;
      default: return n > last - 10'000'000 ? last : n + small();
    }
  }

  void set_expiry() {
    const int i = static_cast<int>(pick(timers));
    abort_pending(i);
    if (pick(2) == 0) {
      timers_[static_cast<std::size_t>(i)]->expires_at(tp(tp::duration(instant())));
    } else {
      switch (pick(8)) {
        case 0: timers_[static_cast<std::size_t>(i)]->expires_after(-3ms); break;
        case 1: timers_[static_cast<std::size_t>(i)]->expires_after(std::chrono::nanoseconds::max()); break;
        case 2: timers_[static_cast<std::size_t>(i)]->expires_after(std::chrono::hours::max()); break;
        default: timers_[static_cast<std::size_t>(i)]->expires_after(std::chrono::nanoseconds(small())); break;
      }
    }
  }

  void start_wait() {
    const int i = static_cast<int>(pick(timers));
    const std::int64_t expiry = timers_[static_cast<std::size_t>(i)]->expiry().time_since_epoch().count();
    wait_record w;
    w.timer = i;
    w.deadline = expiry == parked ? parked : std::max(expiry, now());
    w.seq = next_seq_++;
    waits_.push_back(w);
    const std::size_t id = waits_.size() - 1;
    timers_[static_cast<std::size_t>(i)]->async_wait([this, id](error_code ec) { on_complete(id, ec); });
  }

  void cancel() { cancel_timer(static_cast<int>(pick(timers))); }
  void cancel_timer(int i) {
    abort_pending(i);
    timers_[static_cast<std::size_t>(i)]->cancel();
  }
  void abort_pending(int i) {
    for (auto& w : waits_)
      if (w.pending && w.timer == i) {
        w.pending = false;
        w.expect_abort = true;
      }
  }

  void on_complete(std::size_t id, error_code ec) {
    wait_record& w = waits_[id];
    ++w.calls;
    w.ec = ec;
    w.seen_now = now();
    const std::int64_t clock = faultline::steady_clock::now().time_since_epoch().count();
    EXPECT_EQ(clock, w.seen_now) << where("handler") << ": steady_clock::now() disagrees with sim.now()";
    EXPECT_GE(w.seen_now, last_seen_) << where("handler") << ": the clock moved back";
    last_seen_ = w.seen_now;
    if (w.expect_abort) {
      EXPECT_EQ(ec, asio::error::operation_aborted) << where("handler") << ": a cancelled wait completed with " << ec.message();
      return;
    }
    EXPECT_FALSE(ec) << where("handler") << ": a wait nobody cancelled completed with " << ec.message();
    EXPECT_NE(w.deadline, parked) << where("handler") << ": a parked wait fired";
    EXPECT_EQ(w.seen_now, w.deadline) << where("handler") << ": fired away from its deadline";
    if (last_fired_) {
      EXPECT_TRUE(last_fired_->first < w.deadline || (last_fired_->first == w.deadline && last_fired_->second < w.seq))
          << where("handler") << ": fired out of (deadline, scheduling order)";
    }
    last_fired_ = {w.deadline, w.seq};
    w.pending = false;
  }

  // After a driving call: every finite wait due by now has fired.
  void observe_after_drive(const char* what) {
    EXPECT_GE(now(), last_seen_) << where(what) << ": the clock moved back";
    last_seen_ = now();
    for (const auto& w : waits_) {
      if (w.pending && w.deadline <= now()) ADD_FAILURE() << where(what) << ": a wait due at " << w.deadline << " did not fire by " << now();
      if (w.expect_abort && w.calls == 0) ADD_FAILURE() << where(what) << ": a cancelled wait's handler never ran";
    }
  }

  std::int64_t duration_arg() {
    switch (pick(12)) {
      case 0: return std::numeric_limits<std::int64_t>::max();
      case 1: return -1;  // stands for hours::max()
      case 2: return 0;
      default: return small();
    }
  }
  static std::int64_t saturate(std::int64_t n, std::int64_t d) { return d > last - n ? last : n + d; }

  void drive() {
    const std::int64_t before = now();
    switch (pick(5)) {
      case 0: {
        bool parked_left = false;
        for (const auto& w : waits_)
          if (w.pending && w.deadline == parked) parked_left = true;
        // Parked waits left: run() fires every finite one, then reports a stall, never firing a parked one.
        bool stalled = false;
        try {
          sim_->run();
        } catch (const faultline::stall_error&) {
          stalled = true;
        }
        EXPECT_EQ(stalled, parked_left) << where("run");
        for (const auto& w : waits_)
          EXPECT_FALSE(w.pending && w.deadline != parked) << where("run") << ": run() left a finite wait";
        observe_after_drive("run");
        return;
      }
      case 1: {
        const std::int64_t d = duration_arg();
        if (d == -1)
          sim_->run_for(std::chrono::hours::max());
        else
          sim_->run_for(std::chrono::nanoseconds(d));
        EXPECT_EQ(now(), saturate(before, d == -1 ? parked : d)) << where("run_for");
        observe_after_drive("run_for");
        return;
      }
      case 2: {
        const std::int64_t d = duration_arg();
        if (d == -1)
          sim_->advance(std::chrono::hours::max());
        else
          sim_->advance(std::chrono::nanoseconds(d));
        EXPECT_EQ(now(), saturate(before, d == -1 ? parked : d)) << where("advance");
        observe_after_drive("advance");
        return;
      }
      case 3: {
        const std::int64_t t = pick(10) == 0 ? parked : saturate(before, small());
        sim_->run_until(faultline::sim_clock::time_point(faultline::sim_clock::duration(t)));
        EXPECT_EQ(now(), std::min(t, last)) << where("run_until");
        observe_after_drive("run_until");
        return;
      }
      default:
        sim_->poll();
        EXPECT_EQ(now(), before) << where("poll");
        observe_after_drive("poll");
        return;
    }
  }

  std::uint64_t seed_;
  std::mt19937_64 rng_;
  std::unique_ptr<faultline::sim_context> sim_;
  std::vector<std::unique_ptr<faultline::steady_timer>> timers_;
  std::vector<wait_record> waits_;
  std::uint64_t next_seq_ = 0;
  std::int64_t last_seen_ = 0;
  std::optional<std::pair<std::int64_t, std::uint64_t>> last_fired_;
  int step_ = 0;
};

TEST(ClockProperty, RandomInterleavingsKeepTheClockMonotonicAndFireEachWaitOnceInOrder) {
  for (std::uint64_t seed = 1; seed <= 400 && !HasFailure(); ++seed) sequence(seed).run(80);
}

}  // namespace
