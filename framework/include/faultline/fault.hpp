// faultline - the kinds of fault a sim injects, and how many of each it injected.
#pragma once

#include <faultline/sim_clock.hpp>

#include <array>
#include <cstddef>
#include <cstdint>

namespace faultline {

/// What an injected fault does to the operation it hits.
enum class fault_kind : std::uint8_t {
  latency,    ///< the operation takes longer (a scripted `after(d)`, a delay, a chaos latency)
  error,      ///< it fails with an error_code
  exception,  ///< it throws an exception that is not a `system_error`
  hang,       ///< it never completes by itself: only cancellation ends it
  cancel,     ///< it completes as cancelled (`operation_aborted`)
  clock,      ///< a wall clock stepped or changed its rate (wall_clock.hpp); never hits an operation
};

inline constexpr std::size_t fault_kind_count = 6;

/// "latency", "error", "exception", "hang", "cancel", "clock".
const char* to_string(fault_kind k) noexcept;

/// How many faults of each kind a sim injected: scripted steps of doubles
/// (`after`, `throws`, `fails`, `hangs`, `cancels`), failpoint actions,
/// stream faults and chaos decisions alike.
struct fault_counts {
  std::array<std::uint64_t, fault_kind_count> by_kind{};

  std::uint64_t operator[](fault_kind k) const noexcept { return by_kind[static_cast<std::size_t>(k)]; }
  void add(fault_kind k, std::uint64_t n = 1) noexcept { by_kind[static_cast<std::size_t>(k)] += n; }
  std::uint64_t total() const noexcept {
    std::uint64_t n = 0;
    for (auto v : by_kind) n += v;
    return n;
  }
  fault_counts& operator+=(const fault_counts& o) noexcept {
    for (std::size_t i = 0; i < fault_kind_count; ++i) by_kind[i] += o.by_kind[i];
    return *this;
  }
};

/// What the sims of one thread did, summed as each sim is destroyed: how
/// many there were, the virtual time they simulated, the faults they
/// injected. A test reporter reads it before and after a test
/// (`faultline::gtest_main` writes it to `FAULTLINE_REPORT`).
struct sim_totals {
  std::uint64_t sims = 0;
  sim_clock::duration virtual_time{};
  fault_counts faults;
};

/// The totals of the sims destroyed on this thread so far.
sim_totals totals_on_this_thread() noexcept;

}  // namespace faultline
