// faultline - with_timeout's error and argument checks.
#include <faultline/sim_clock.hpp>
#include <faultline/with_timeout.hpp>

#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>

#include <stdexcept>
#include <string>

namespace faultline::detail {

void throw_timed_out() {
  throw boost::system::system_error(boost::asio::error::timed_out, "faultline::with_timeout: the deadline passed");
}

void check_timeout(const char* caller, steady_clock::duration d) {
  if (d.count() < 0)
    throw std::invalid_argument(std::string("faultline: ") + caller + ": negative timeout " +
                                to_string(sim_clock::duration(d.count())) +
                                "; pass a duration >= 0 (zero means the deadline is now)");
}

}  // namespace faultline::detail
