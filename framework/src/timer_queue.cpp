// faultline - the sim's timer queue (a radix heap with 64-way digits; see timer_queue.hpp for why).
#include <faultline/detail/timer_queue.hpp>

#include <algorithm>
#include <bit>
#include <stdexcept>
#include <string>

namespace faultline::detail {

int timer_queue::bucket_of(std::uint64_t key) const noexcept {
  const std::uint64_t differs = key ^ last_;
  if (differs == 0) return -1;
  const int level = static_cast<int>(std::bit_width(differs) - 1) / digit_bits;
  const auto digit = static_cast<int>((key >> (level * digit_bits)) & (digits - 1));
  return level * digits + digit;
}

int timer_queue::add(const entry& e) {
  const int b = bucket_of(e.key);
  if (b < 0) {
    now_.push_back(e);
    return b;
  }
  buckets_[static_cast<std::size_t>(b)].push_back(e);
  nonempty_[b / digits] |= std::uint64_t{1} << (b % digits);
  levels_ |= 1u << (b / digits);
  return b;
}

void timer_queue::clear_bit(int b) noexcept {
  const int level = b / digits;
  nonempty_[level] &= ~(std::uint64_t{1} << (b % digits));
  if (nonempty_[level] == 0) levels_ &= ~(1u << level);
}

std::uint32_t timer_queue::take_slot() {
  if (free_head_ != no_slot) {
    const std::uint32_t i = free_head_;
    free_head_ = static_cast<std::uint32_t>(slots_[i].seq);
    return i;
  }
  if (slots_.size() >= no_slot)
    throw std::length_error("faultline: " + std::to_string(slots_.size()) +
                            " timer waits pending at once in one sim; the timer queue holds no more");
  slots_.push_back({nullptr, no_slot});
  return static_cast<std::uint32_t>(slots_.size() - 1);
}

void timer_queue::free_slot(std::uint32_t i) noexcept {
  slots_[i] = {nullptr, free_head_};
  free_head_ = i;
}

queued_wait* timer_queue::unqueue(std::uint32_t i) noexcept {
  queued_wait* w = slots_[i].w;
  free_slot(i);
  w->heap_index = queued_wait::not_in_heap;
  return w;
}

void timer_queue::push(queued_wait* w, std::int64_t deadline) {
  const bool parked = deadline == parked_deadline;
  if (!parked && (deadline < 0 || static_cast<std::uint64_t>(deadline) < last_))
    throw std::logic_error("faultline: internal error: a timer wait was queued for " + std::to_string(deadline) +
                           " ns, before the instant last fired (" + std::to_string(last_) +
                           " ns); firing it would move the clock back; please report this");
  // Every 2^32 pushes no stale entry may remain, so that a 32-bit tag never
  // matches a later wait in the same slot.
  if (static_cast<std::uint32_t>(seq_) == 0 && seq_ != 0) compact();
  if (buckets_.empty()) buckets_.resize(static_cast<std::size_t>(levels) * digits);
  const std::uint32_t i = take_slot();
  if (!parked) {
    const auto key = static_cast<std::uint64_t>(deadline);
    int b;
    try {
      b = add({key, i, static_cast<std::uint32_t>(seq_)});
    } catch (...) {
      free_slot(i);
      throw;
    }
    // The least live key outside now_ stays known when this one is it: alone
    // (a sleep at a time, the common case) or earlier than the known one.
    if (b >= 0 && (finite_ == 0 || (min_valid_ && key < min_key_))) {
      min_key_ = key;
      min_bucket_ = b;
      min_valid_ = true;
    }
    ++finite_;
  } else {
    ++parked_;
  }
  slots_[i] = {w, seq_++};
  w->deadline = deadline;
  w->heap_index = i;
}

void timer_queue::erase(queued_wait* w) noexcept {
  free_slot(w->heap_index);
  w->heap_index = queued_wait::not_in_heap;
  if (w->deadline == parked_deadline) {
    --parked_;
    return;
  }
  --finite_;
  ++stale_;
  if (min_valid_ && static_cast<std::uint64_t>(w->deadline) == min_key_) min_valid_ = false;
  // Cancelled timeouts far in the future would otherwise pile up until their
  // instant; dropping them once they outnumber the live entries is amortised O(1).
  if (stale_ > 64 && stale_ > finite_) compact();
}

// Finds the least live key outside `now_`, dropping stale entries met on
// the way; false when there is none.
bool timer_queue::find_min() noexcept {
  while (levels_ != 0) {
    if (find_min_in_lowest_bucket()) return true;
  }
  return false;
}

// The least live key of the lowest non-empty bucket; false when that bucket
// held only stale entries (it is empty now).
bool timer_queue::find_min_in_lowest_bucket() noexcept {
  const int level = std::countr_zero(levels_);
  const int b = level * digits + std::countr_zero(nonempty_[level]);
  std::vector<entry>& v = buckets_[static_cast<std::size_t>(b)];
  std::uint64_t best = std::numeric_limits<std::uint64_t>::max();
  // Liveness is checked only for an entry that would become the minimum: a
  // slot read is a cache miss, a key comparison is not.
  for (std::size_t j = 0; j < v.size();) {
    if (v[j].key >= best) {
      ++j;
    } else if (live(v[j])) {
      best = v[j].key;
      ++j;
    } else {
      v[j] = v.back();
      v.pop_back();
      --stale_;
    }
  }
  if (v.empty()) {
    clear_bit(b);
    return false;
  }
  min_key_ = best;
  min_bucket_ = b;
  min_valid_ = true;
  return true;
}

bool timer_queue::front_due_slow() noexcept {
  while (now_head_ < now_.size()) {
    if (live(now_[now_head_])) return true;
    ++now_head_;
    --stale_;
  }
  if (now_head_ != 0) {
    now_.clear();
    now_head_ = 0;
  }
  return false;
}

std::int64_t timer_queue::next_deadline() noexcept {
  if (front_due()) return static_cast<std::int64_t>(last_);
  return min_valid_ || find_min() ? static_cast<std::int64_t>(min_key_) : parked_deadline;
}

// Makes the least live key the new `last_` and spreads its bucket over lower
// levels: the entries due at it land in `now_`, in scheduling order.
void timer_queue::redistribute() {
  const std::uint64_t m = min_key_;
  const int from = min_bucket_;
  last_ = m;
  min_valid_ = false;
  clear_bit(from);
  std::vector<entry>& bucket = buckets_[static_cast<std::size_t>(from)];
  if (bucket.size() == 1) {  // the least live key itself: a sleep alone in its bucket
    now_.push_back(bucket.front());
    bucket.clear();
    return;
  }
  std::vector<entry> moving;
  moving.swap(bucket);
  for (const entry& e : moving) {
    if (e.key < m) {  // below the least live key: erased
      --stale_;
      continue;
    }
    add(e);  // to a lower level: e.key and m share every digit above `from`'s
  }
  moving.clear();
  moving.swap(bucket);  // keeps the capacity for next time
  // `now_` was empty; its entries came from one bucket, whose order mixes
  // direct pushes with earlier spreads. A stale entry sorts anywhere: it is
  // skipped when met.
  std::sort(now_.begin(), now_.end(),
            [this](const entry& a, const entry& b) { return slots_[a.slot].seq < slots_[b.slot].seq; });
}

queued_wait* timer_queue::pop_due(std::int64_t now) {
  if (!front_due()) {
    if (!(min_valid_ || find_min()) || min_key_ > static_cast<std::uint64_t>(now)) return nullptr;
    redistribute();
    if (!front_due()) return nullptr;  // not reached: the least live key landed in now_
  }
  // now_ holds deadline last_, which is at most now.
  const std::uint32_t i = now_[now_head_++].slot;
  --finite_;
  return unqueue(i);
}

void timer_queue::compact() noexcept {
  const auto stale = [this](const entry& e) { return !live(e); };
  now_.erase(now_.begin(), now_.begin() + static_cast<std::ptrdiff_t>(now_head_));
  now_head_ = 0;
  now_.erase(std::remove_if(now_.begin(), now_.end(), stale), now_.end());
  for (int level = 0; level < levels; ++level) {
    for (std::uint64_t word = nonempty_[level]; word != 0; word &= word - 1) {
      const int digit = std::countr_zero(word);
      std::vector<entry>& v = buckets_[static_cast<std::size_t>(level * digits + digit)];
      v.erase(std::remove_if(v.begin(), v.end(), stale), v.end());
      if (v.empty()) clear_bit(level * digits + digit);
    }
  }
  stale_ = 0;
}

std::vector<const queued_wait*> timer_queue::waits() const {
  std::vector<const queued_wait*> out;
  out.reserve(size());
  for (const slot& s : slots_)
    if (s.w) out.push_back(s.w);
  return out;
}

queued_wait* timer_queue::take_any() noexcept {
  // Nothing fires any more, so the order structure goes at once; only the
  // slots are walked, newest first. A wait queued or erased by a destroyed
  // handler meanwhile is handled like any other.
  if (!now_.empty() || finite_ + stale_ > 0) {
    now_.clear();
    now_head_ = 0;
    for (int level = 0; level < levels; ++level) {
      for (std::uint64_t word = nonempty_[level]; word != 0; word &= word - 1)
        buckets_[static_cast<std::size_t>(level * digits + std::countr_zero(word))].clear();
      nonempty_[level] = 0;
    }
    levels_ = 0;
    min_valid_ = false;
    stale_ = 0;
  }
  free_head_ = no_slot;  // the free slots are dropped with the rest
  while (!slots_.empty()) {
    const slot s = slots_.back();
    slots_.pop_back();
    if (!s.w) continue;
    s.w->heap_index = queued_wait::not_in_heap;
    if (s.w->deadline == parked_deadline)
      --parked_;
    else
      --finite_;
    return s.w;
  }
  return nullptr;
}

}  // namespace faultline::detail
