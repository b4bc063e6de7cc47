// Async exceptions basics: a fetch wrapper that tells a rejected request from any other failure.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/system/error_code.hpp>

#include <functional>
#include <string>

namespace samples::try_catch {

namespace asio = boost::asio;

/// The dependency: fetches `url`. It throws `std::invalid_argument` for a URL it refuses,
/// `boost::system::system_error` for a network error, and may throw anything else.
using fetch_fn = std::function<asio::awaitable<std::string>(std::string url)>;

/// How a fetch ended.
enum class fetch_status {
  ok,       ///< `data` holds the body
  invalid,  ///< the request was refused as invalid: retrying it cannot help
  failed,   ///< anything else (network, server): a retry might
};

/// What `safe_fetch` reports instead of throwing.
struct fetch_report {
  fetch_status status = fetch_status::failed;
  std::string data;                ///< the body, when `ok`
  std::string error;               ///< why it did not work, otherwise
  boost::system::error_code code;  ///< the network error, when the failure was one
};

/// Fetches `url` and reports how it went, keeping an invalid request (`invalid`) apart from
/// other failures (`failed`): the caller answers them differently (a 400 versus a retry).
///
/// Completes when `fetch` does. Cancellation is not a failure: it propagates as
/// `system_error(operation_aborted)`, so a cancelled caller stops instead of acting on a
/// "failed" report. Exceptions not derived from `std::exception` propagate too.
asio::awaitable<fetch_report> safe_fetch(fetch_fn fetch, std::string url);

}  // namespace samples::try_catch
