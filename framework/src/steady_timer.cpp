// faultline - steady_timer's out-of-line error paths.
#include <faultline/steady_timer.hpp>

#include <stdexcept>

namespace faultline::detail {

void throw_blocking_timer_wait() {
  throw std::logic_error(
      "faultline: steady_timer::wait() blocks the thread, but a sim's virtual time moves only while that thread "
      "runs the sim, so the wait could never end; use async_wait (co_await t.async_wait(asio::use_awaitable))");
}

}  // namespace faultline::detail
