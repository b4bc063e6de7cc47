// faultline - GoogleTest printing of faultline values: instants, outcomes, records, events.
#pragma once

#include <faultline/error.hpp>
#include <faultline/fake.hpp>
#include <faultline/outcome.hpp>
#include <faultline/sim_clock.hpp>
#include <faultline/trace.hpp>

#include <gtest/gtest-printers.h>

#include <ostream>

namespace faultline {

// GoogleTest finds these by argument-dependent lookup, so a failed
// EXPECT_EQ or EXPECT_THAT prints "returned \"ok\" at t=1.000s", not raw
// bytes. Instants ("t=1.250s") and outcomes print without this header too,
// through the core's operator<< (sim_clock.hpp, outcome.hpp); here the
// outcome's value goes through GoogleTest's printer (strings quoted).

/// "returned 42 at t=1.000s", "threw std::runtime_error: x at t=2.000s",
/// "was cancelled at t=0.500s".
template <class T>
void PrintTo(const outcome<T>& o, std::ostream* os) {
  if constexpr (!std::is_void_v<T>) {
    if (o.has_value()) {
      *os << "returned " << ::testing::PrintToString(o.value()) << " at " << to_string(o.completed_at());
      return;
    }
  }
  *os << o.describe();
}

inline void PrintTo(const pending_operation& op, std::ostream* os) { *os << op.describe(); }

inline void PrintTo(const trace_event& e, std::ostream* os) { *os << e.describe(); }

/// "a trace of 12 events; the last ones: ..." (the last 10, one a line).
void PrintTo(const trace& t, std::ostream* os);

inline void PrintTo(event_kind k, std::ostream* os) { *os << '"' << to_string(k) << '"'; }

inline void PrintTo(call_status s, std::ostream* os) { *os << to_string(s); }

template <class... Args>
void PrintTo(const call_record<Args...>& r, std::ostream* os) {
  *os << r.describe();
}

}  // namespace faultline
