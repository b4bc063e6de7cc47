// faultline - GoogleTest integration: readable printing of faultline values.
#pragma once

#include <faultline/faultline.hpp>

#include <ostream>

namespace faultline {

// GoogleTest finds these by argument-dependent lookup, so a failed
// EXPECT_EQ on times or outcomes prints "t=1.250s", not raw bytes.

inline void PrintTo(sim_clock::time_point t, std::ostream* os) { *os << to_string(t); }

template <class T>
void PrintTo(const outcome<T>& o, std::ostream* os) {
  *os << o.describe();
}

inline void PrintTo(const pending_operation& op, std::ostream* os) { *os << op.describe(); }

inline void PrintTo(const trace_event& e, std::ostream* os) { *os << e.describe(); }

}  // namespace faultline
