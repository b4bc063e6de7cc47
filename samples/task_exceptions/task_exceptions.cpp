// Task exception handling: load_dashboard.
#include "task_exceptions.hpp"

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/promise.hpp>
#include <boost/asio/experimental/use_promise.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/version.hpp>

#include <exception>
#include <utility>

namespace samples::task_exceptions {

namespace {

using profile_promise = asio::experimental::promise<void(std::exception_ptr, std::string), asio::any_io_executor>;

// `co_await p(asio::use_awaitable)`, minus a bug of Asio before 1.28 (Boost 1.82, asio
// issue #1275): a waiter that is already waiting when the task ends receives moved-from
// values, so a failure would arrive as an empty success. Waiting first and then reading
// the result the promise keeps avoids it.
asio::awaitable<std::string> result_of(profile_promise& p) {
#if BOOST_VERSION < 108200
  if (!p.completed()) co_await p(asio::use_awaitable);
#endif
  co_return co_await p(asio::use_awaitable);
}

}  // namespace

asio::awaitable<dashboard> load_dashboard(dashboard_sources sources, std::string user) {
  // use_promise starts the fetch now (asio::deferred would wait until it is awaited)
  // and keeps its outcome, value or exception, until then. Destroying the promise
  // first cancels the fetch: an early exit cannot leave it running.
  auto exec = co_await asio::this_coro::executor;
  auto profile = asio::co_spawn(exec, sources.fetch_profile(std::move(user)), asio::experimental::use_promise);
  dashboard d;
  d.layout = co_await sources.load_layout();
  d.profile = co_await result_of(profile);  // the fetch's exception, if any, is thrown here
  co_return d;
}

}  // namespace samples::task_exceptions
