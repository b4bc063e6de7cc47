// Test support: records how a stream operation completed, and when in virtual time.
#pragma once

#include <faultline/sim_context.hpp>

#include <boost/system/error_code.hpp>

#include <cstddef>
#include <optional>

namespace faultline_test {

struct io_result {
  std::optional<boost::system::error_code> ec;
  std::size_t n = 0;
  faultline::sim_clock::time_point at{};
};

/// A completion handler for `void(error_code, std::size_t)` that fills `r`.
inline auto record(faultline::sim_context& sim, io_result& r) {
  return [&sim, &r](boost::system::error_code ec, std::size_t n) {
    r.ec = ec;
    r.n = n;
    r.at = sim.now();
  };
}

}  // namespace faultline_test
