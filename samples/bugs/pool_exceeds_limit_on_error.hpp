// Planted bug: a connection pool that frees a slot before closing a failed connection, exceeding its limit for a while.
#pragma once

#include <faultline/steady_timer.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <exception>
#include <stdexcept>
#include <string>
#include <utility>

namespace samples::bugs {

namespace asio = boost::asio;

/// At most `limit` connections at once; `acquire` waits for a free slot.
/// Single-threaded (one sim or one strand).
class connection_pool {
 public:
  template <class Executor>
  connection_pool(const Executor& ex, int limit) : wake_(ex), limit_(limit) {
    if (limit < 1) throw std::invalid_argument("connection_pool: limit must be at least 1, got " + std::to_string(limit));
    wake_.expires_at(faultline::steady_timer::time_point::max());
  }

  asio::awaitable<void> acquire() {
    // The parked timer is a condition variable: release() wakes every waiter to look again.
    while (in_use_ >= limit_) co_await wake_.async_wait(asio::as_tuple(asio::use_awaitable));
    ++in_use_;
  }
  void release() {
    --in_use_;
    wake_.cancel();
  }
  int limit() const noexcept { return limit_; }

 private:
  faultline::steady_timer wake_;
  int limit_;
  int in_use_ = 0;
};

namespace detail {

// Takes a slot and connects; gives the slot back if the connect fails.
template <class Connect>
asio::awaitable<void> open_connection(connection_pool& pool, Connect& connect) {
  co_await pool.acquire();
  try {
    co_await connect();
  } catch (...) {
    pool.release();
    throw;
  }
}

// The query's value, or its exception (a coroutine cannot co_await in a catch block).
template <class Query>
asio::awaitable<std::pair<std::string, std::exception_ptr>> query_caught(Query& query) {
  try {
    co_return std::pair<std::string, std::exception_ptr>(co_await query(), nullptr);
  } catch (...) {
    co_return std::pair<std::string, std::exception_ptr>({}, std::current_exception());
  }
}

}  // namespace detail

/// Runs `query()` on a connection of `pool`: takes a slot, `connect()`,
/// `query()`, `disconnect()`, gives the slot back; a failed query's
/// connection is closed before its error is rethrown. The correct version:
/// a slot is given back only once its connection is closed, so at most
/// `pool.limit()` connections are ever open.
template <class Connect, class Query, class Disconnect>
asio::awaitable<std::string> with_connection(connection_pool& pool, Connect connect, Query query, Disconnect disconnect) {
  co_await detail::open_connection(pool, connect);
  auto [result, failed] = co_await detail::query_caught(query);
  co_await disconnect();
  pool.release();
  if (failed) std::rethrow_exception(failed);
  co_return result;
}

/// `with_connection`, with one bug: after a failed query the slot goes back
/// before the connection is closed ("waiters should not wait for cleanup"),
/// so a waiter opens a new connection while the old one is still closing:
/// `limit + 1` are open until the disconnect completes. Everything is closed
/// again by the end of the run.
template <class Connect, class Query, class Disconnect>
asio::awaitable<std::string> with_connection_early_release(connection_pool& pool, Connect connect, Query query,
                                                           Disconnect disconnect) {
  co_await detail::open_connection(pool, connect);
  auto [result, failed] = co_await detail::query_caught(query);
  // PLANTED BUG: after a failure the slot is freed while the connection is still open.
  if (failed) pool.release();
  co_await disconnect();
  if (!failed) pool.release();
  if (failed) std::rethrow_exception(failed);
  co_return result;
}

}  // namespace samples::bugs
