// faultline - the sim's timer queue: a radix heap over monotone virtual time.
#pragma once

#include <boost/system/error_code.hpp>

#include <cstddef>
#include <cstdint>
#include <limits>
#include <vector>

namespace faultline::detail {

/// The deadline of a parked wait (`time_point::max()`): it never fires, and
/// auto-advance never jumps to it.
inline constexpr std::int64_t parked_deadline = std::numeric_limits<std::int64_t>::max();
/// The last instant the virtual clock can reach, one nanosecond before
/// `parked_deadline`. Finite deadlines and driving bounds saturate here, so no
/// arithmetic on a finite deadline ever turns it into a parked one.
inline constexpr std::int64_t last_instant = parked_deadline - 1;

/// A unit of work in the ready queue. Type-erased by one function pointer
/// whose flag says "invoke" or "only destroy", so that a sim torn down with
/// work still queued frees it without running user code.
struct ready_op {
  using func_type = void (*)(ready_op*, bool invoke);
  explicit ready_op(func_type f) noexcept : func_(f) {}
  ready_op(const ready_op&) = delete;
  ready_op& operator=(const ready_op&) = delete;

  void invoke() { func_(this, true); }
  void destroy() noexcept { func_(this, false); }

  ready_op* next_ = nullptr;
  func_type func_;
};

struct sim_timer_state;

/// What the sim's timer queue holds: a ready op with a deadline, which
/// becomes ready when it fires or is cancelled. Either a `timer_wait` (which
/// carries an error code, and links when it belongs to a timer) or, for a
/// coroutine's sleep, a `sleep_wait` (which only says whether it was cancelled).
struct queued_wait : ready_op {
  static constexpr std::uint32_t not_in_heap = std::numeric_limits<std::uint32_t>::max();
  using ready_op::ready_op;

  std::int64_t deadline = 0;
  std::int64_t since = 0;
  std::uint64_t order = 0;                 // trace index when it started, for pending()
  std::uint32_t heap_index = not_in_heap;  // its slot in the timer queue while queued
  // The timer's number in the trace and in pending() (0: its owner describes
  // it). 31 bits are all a trace subject holds (trace::timer_bit | id).
  std::uint32_t timer_id : 31 = 0;
  std::uint32_t is_sleep : 1 = 0;  // a sleep_wait, not a timer_wait
};

/// A pending wait on a virtual timer, or any wait completed with an error
/// code (a double's latency, a task join, a packet in flight).
struct timer_wait : queued_wait {
  using queued_wait::queued_wait;

  sim_timer_state* timer = nullptr;  // owning timer while queued
  timer_wait* prev_in_timer = nullptr;
  timer_wait* next_in_timer = nullptr;
  boost::system::error_code ec;
};

/// A coroutine's sleep (`sleep_for`, `sleep_until`), which belongs to no timer
/// and can only fire or be cancelled: 40 bytes less than a `timer_wait`, in
/// the frame of every pending sleep.
struct sleep_wait : queued_wait {
  explicit sleep_wait(func_type f) noexcept : queued_wait(f) { is_sleep = 1; }

  bool aborted = false;  // set when it leaves the queue: cancelled, not fired
};

/// The waits of one sim, fired in (deadline, scheduling order).
///
/// Virtual time only moves forward, so this is a radix heap (Ahuja, Mehlhorn,
/// Orlin, Tarjan 1990) with 64-way digits, the shape of a hierarchical timing
/// wheel (Tokio's has 64 slots a level too) but exact to the nanosecond: a
/// deadline goes in the bucket named by the highest 6-bit digit in which it
/// differs from the last instant fired (its level) and its value there. When
/// the lowest bucket is needed, its least deadline becomes the new reference
/// and its entries spread over lower levels; each entry moves at most once a
/// level (11 levels, 3 or 4 for deadlines a millisecond to an hour apart).
/// Pushing is O(1), popping amortised O(levels), and entries are stored by
/// value (deadline, slot, sequence tag) in flat arrays: a million pending waits
/// are scanned sequentially, never chased through pointers.
///
/// Cancelling is O(1): the wait's slot is freed, its entry goes stale and is
/// dropped where met, or by a compaction once stale entries outnumber live
/// ones. Parked waits hold a slot but no entry: they never fire and are never
/// the next deadline.
///
/// Not thread-safe: the sim calls it from its own thread only.
class timer_queue {
 public:
  timer_queue() = default;
  timer_queue(const timer_queue&) = delete;
  timer_queue& operator=(const timer_queue&) = delete;

  /// Queues `w` until `deadline`, after every wait already queued for that
  /// deadline; sets `w->deadline` and `w->heap_index`. `deadline` must be
  /// `parked_deadline` or in `[latest popped deadline, last_instant]` (the
  /// sim passes `max(deadline, now)`); anything earlier throws
  /// `std::logic_error`, since firing it would move the clock back.
  void push(queued_wait* w, std::int64_t deadline);
  /// Takes a queued `w` out; it never fires.
  void erase(queued_wait* w) noexcept;
  static bool queued(const queued_wait* w) noexcept { return w->heap_index != queued_wait::not_in_heap; }

  /// The earliest finite deadline queued, or `parked_deadline` when none is.
  /// Looking does not commit: a wait pushed afterwards for an earlier instant
  /// (not before the latest popped) still comes first.
  std::int64_t next_deadline() noexcept;
  /// Takes out and returns the first wait in (deadline, scheduling order) if
  /// its deadline is at most `now`, else null. `now` never goes back from one
  /// call to the next (it is the sim's clock).
  queued_wait* pop_due(std::int64_t now);

  /// Every queued wait, parked ones included, in slot order (deterministic).
  std::vector<const queued_wait*> waits() const;
  /// Teardown: takes out any one queued wait (the newest slot first), or
  /// returns null when none is left. Nothing fires afterwards until the queue
  /// is empty; it is then as new, save for the instant last fired.
  queued_wait* take_any() noexcept;

  std::size_t size() const noexcept { return finite_ + parked_; }
  bool empty() const noexcept { return size() == 0; }

 private:
  static constexpr int digit_bits = 6;
  static constexpr int digits = 1 << digit_bits;
  static constexpr int levels = (63 + digit_bits - 1) / digit_bits;  // deadlines are below 2^63
  // An entry is live while its slot holds a wait whose sequence number ends
  // in `tag`; a compaction every 2^32 pushes makes the 32 bits exact.
  struct entry {
    std::uint64_t key;
    std::uint32_t slot;
    std::uint32_t tag;
  };
  // A free slot has `w == nullptr` and `seq` links the free list.
  struct slot {
    queued_wait* w;
    std::uint64_t seq;
  };
  static constexpr std::uint32_t no_slot = std::numeric_limits<std::uint32_t>::max();

  bool live(const entry& e) const noexcept {
    const slot& s = slots_[e.slot];
    return s.w && static_cast<std::uint32_t>(s.seq) == e.tag;
  }
  int bucket_of(std::uint64_t key) const noexcept;  // -1: the "now" bucket
  int add(const entry& e);  // returns the bucket, -1 for now_
  void clear_bit(int bucket) noexcept;
  std::uint32_t take_slot();
  void free_slot(std::uint32_t i) noexcept;
  queued_wait* unqueue(std::uint32_t i) noexcept;
  // True when now_ has a live entry at its front, after dropping the stale
  // ones before it.
  bool front_due() noexcept { return (now_head_ < now_.size() && live(now_[now_head_])) || front_due_slow(); }
  bool front_due_slow() noexcept;
  bool find_min() noexcept;
  bool find_min_in_lowest_bucket() noexcept;
  void redistribute();
  void compact() noexcept;

  std::vector<std::vector<entry>> buckets_;  // levels * digits, allocated on first use
  std::uint64_t nonempty_[levels] = {};      // bit d of word l: bucket (l, d) has entries
  std::uint32_t levels_ = 0;                 // bit l: nonempty_[l] != 0
  std::vector<entry> now_;                   // deadline == last_: a FIFO in scheduling order
  std::size_t now_head_ = 0;                 // entries before it were popped
  std::uint64_t last_ = 0;                   // the latest deadline popped: every key is at least this
  std::uint64_t min_key_ = 0;                // while min_valid_: the least live key outside now_,
  int min_bucket_ = 0;                       // and its bucket
  bool min_valid_ = false;
  std::vector<slot> slots_;
  std::uint32_t free_head_ = no_slot;
  std::uint64_t seq_ = 0;
  std::size_t finite_ = 0;  // live entries
  std::size_t parked_ = 0;
  std::size_t stale_ = 0;  // entries whose wait was erased
};

}  // namespace faultline::detail
