// Planted bug: a TTL cache that ages entries by wall-clock stamps, so a wall clock stepped back serves stale data.
#pragma once

#include <faultline/steady_clock.hpp>
#include <faultline/system_clock.hpp>

#include <chrono>
#include <map>
#include <optional>
#include <string>

namespace samples::bugs {

/// Entries expire `ttl` after they were put. The buggy copy stamps them with
/// the wall clock and compares stamps: when NTP steps the clock back, an
/// entry lives longer by the step. The correct copy measures age with the
/// steady clock, which never jumps.
template <class Value>
class ttl_cache {
 public:
  ttl_cache(std::chrono::nanoseconds ttl, bool buggy) : ttl_(ttl), buggy_(buggy) {}

  void put(const std::string& key, Value v) {
    entries_.insert_or_assign(key, entry{std::move(v), faultline::system_clock::now(), faultline::steady_clock::now()});
  }

  std::optional<Value> get(const std::string& key) const {
    auto it = entries_.find(key);
    if (it == entries_.end()) return std::nullopt;
    const entry& e = it->second;
    const bool fresh = buggy_ ? faultline::system_clock::now() - e.wall_stamp < ttl_
                              : faultline::steady_clock::now() - e.steady_stamp < ttl_;
    if (!fresh) return std::nullopt;
    return e.value;
  }

 private:
  struct entry {
    Value value;
    faultline::system_clock::time_point wall_stamp;
    faultline::steady_clock::time_point steady_stamp;
  };
  std::chrono::nanoseconds ttl_;
  bool buggy_;
  std::map<std::string, entry> entries_;
};

}  // namespace samples::bugs
