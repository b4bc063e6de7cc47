// Service start-up that awaits its dependencies in order: it hangs if one never answers, unless given a limit.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <chrono>
#include <functional>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

namespace samples::debugging {

namespace asio = boost::asio;

/// Something the service needs before it can serve: configuration, a database, a cache.
struct dependency {
  std::string name;                              ///< for messages: "db.connect"
  std::function<asio::awaitable<void>()> start;  ///< completes when the dependency is ready
};

/// A dependency did not become ready in time.
class startup_error : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Starts `deps` one after another, in order (each may need the previous ones).
///
/// Without `limit`, a dependency that never answers hangs the start-up for good,
/// which is what the tests of this sample find and then fix. With it, each
/// dependency gets `limit`: one that takes longer is cancelled and the start-up
/// throws `startup_error` naming it ("start-up: db.connect did not become ready
/// within 2000ms"). An error from a dependency propagates unchanged, at once.
///
/// Cancellation: cancelling the awaiting coroutine cancels the dependency being
/// started; the start-up ends with `operation_aborted`, not `startup_error`.
asio::awaitable<void> start_service(std::vector<dependency> deps,
                                    std::optional<std::chrono::milliseconds> limit = std::nullopt);

}  // namespace samples::debugging
