// Service start-up that awaits its dependencies in order: it hangs if one never answers, unless given a limit.
#include "debugging.hpp"

#include <faultline/steady_timer.hpp>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>
#include <utility>

namespace samples::debugging {

namespace {

// Not `dep.start() || sleep_for(limit)`: Asio's `||` waits for the first
// *success*, so a dependency failing at once would surface only at the deadline,
// reported as a timeout. A parallel group ends at the first completion of either.
asio::awaitable<void> start_within(const dependency& dep, std::chrono::milliseconds limit) {
  auto ex = co_await asio::this_coro::executor;
  faultline::steady_timer deadline(ex, limit);
  auto [order, deadline_error, start_error] =
      co_await asio::experimental::make_parallel_group(deadline.async_wait(asio::deferred),
                                                       asio::co_spawn(ex, dep.start(), asio::deferred))
          .async_wait(asio::experimental::wait_for_one(), asio::use_awaitable);
  // The limit passed only if the deadline ended first *without* an error: when
  // we are being cancelled, it ends with operation_aborted, and so does the start.
  if (order[0] == 0 && !deadline_error)
    throw startup_error("start-up: " + dep.name + " did not become ready within " + std::to_string(limit.count()) +
                        "ms");
  if (start_error) std::rethrow_exception(start_error);
}

}  // namespace

asio::awaitable<void> start_service(std::vector<dependency> deps, std::optional<std::chrono::milliseconds> limit) {
  for (const auto& dep : deps) {
    if (limit)
      co_await start_within(dep, *limit);
    else
      co_await dep.start();
  }
}

}  // namespace samples::debugging
