// A value store replicated on three hosts: a primary that commits a write once a majority (itself and
// one of two backups) has it on disk. Written over a `Tcp` template parameter: `asio::ip::tcp` in
// production, `faultline::net::tcp` in the tests.
#pragma once

#include <faultline/steady_timer.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <array>
#include <chrono>
#include <cstdint>
#include <vector>

namespace samples::replicated_store {

namespace asio = boost::asio;
inline constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

/// What a replica keeps across a crash: its disk, the values it stored, in order.
using disk = std::vector<std::int32_t>;

/// When the primary counts a backup as having a write.
enum class ack_policy {
  stored,  ///< the backup said it stored the value (correct)
  sent,    ///< the value was handed to the socket (the planted bug: sent is not stored)
};

/// How the primary replicates.
struct primary_options {
  ack_policy policy = ack_policy::stored;
  /// How long the primary waits for each backup before counting it out.
  std::chrono::nanoseconds patience = std::chrono::seconds(1);
};

namespace detail {

// One replicated value on an accepted connection: 4 bytes in, stored, 1 byte back.
template <class Tcp>
asio::awaitable<void> store_one(typename Tcp::socket peer, disk& d) {
  std::int32_t value = 0;
  auto [ec, n] = co_await asio::async_read(peer, asio::buffer(&value, sizeof value), use_tuple);
  if (ec) co_return;
  d.push_back(value);
  const char stored = 1;
  co_await asio::async_write(peer, asio::buffer(&stored, 1), use_tuple);
}

// Sends `value` to one backup; true when the policy counts the backup as having it.
template <class Tcp>
asio::awaitable<bool> replicate_to(asio::any_io_executor ex, typename Tcp::endpoint backup, std::int32_t value,
                                   ack_policy policy) {
  typename Tcp::socket s(ex);
  auto [cec] = co_await s.async_connect(backup, use_tuple);
  if (cec) co_return false;
  auto [wec, wn] = co_await asio::async_write(s, asio::buffer(&value, sizeof value), use_tuple);
  if (wec) co_return false;
  if (policy == ack_policy::sent) co_return true;  // PLANTED BUG (ack_policy::sent): sent is not on its disk
  char stored = 0;
  auto [rec, rn] = co_await asio::async_read(s, asio::buffer(&stored, 1), use_tuple);
  co_return !rec && stored == 1;
}

// `replicate_to`, given up after `patience` (a cut link holds the bytes forever).
template <class Tcp>
asio::awaitable<bool> replicate_within(asio::any_io_executor ex, typename Tcp::endpoint backup, std::int32_t value,
                                       const primary_options& o) {
  using namespace asio::experimental::awaitable_operators;
  faultline::steady_timer timeout(ex, o.patience);
  auto r = co_await (replicate_to<Tcp>(ex, backup, value, o.policy) || timeout.async_wait(use_tuple));
  co_return r.index() == 0 && std::get<0>(r);
}

}  // namespace detail

/// A backup: accepts the primary's connections on `port`, stores each value on `d`, then acks.
/// Runs until cancelled; each connection is served by its own coroutine.
template <class Tcp>
asio::awaitable<void> serve_backup(asio::any_io_executor ex, std::uint16_t port, disk& d) {
  typename Tcp::acceptor acceptor(ex, {Tcp::v4(), port});
  for (;;) {
    typename Tcp::socket peer(ex);
    auto [ec] = co_await acceptor.async_accept(peer, use_tuple);
    if (ec) continue;
    asio::co_spawn(ex, detail::store_one<Tcp>(std::move(peer), d), asio::detached);
  }
}

/// The primary: accepts clients on `port`; each sends a 4-byte value, which the primary stores on
/// `d`, replicates to both `backups` at once, and answers with 1 byte: 1 when a majority (itself and
/// at least one backup) has it (committed), 0 when not (the client must not count on it).
template <class Tcp>
asio::awaitable<void> serve_primary(asio::any_io_executor ex, std::uint16_t port, disk& d,
                                    std::array<typename Tcp::endpoint, 2> backups, primary_options o = {}) {
  using namespace asio::experimental::awaitable_operators;
  typename Tcp::acceptor acceptor(ex, {Tcp::v4(), port});
  for (;;) {
    typename Tcp::socket client(ex);
    auto [ec] = co_await acceptor.async_accept(client, use_tuple);
    if (ec) continue;
    std::int32_t value = 0;
    auto [rec, rn] = co_await asio::async_read(client, asio::buffer(&value, sizeof value), use_tuple);
    if (rec) continue;
    d.push_back(value);
    auto [first, second] = co_await (detail::replicate_within<Tcp>(ex, backups[0], value, o) &&
                                     detail::replicate_within<Tcp>(ex, backups[1], value, o));
    const char committed = first || second ? 1 : 0;
    co_await asio::async_write(client, asio::buffer(&committed, 1), use_tuple);
  }
}

/// A client's write: true when the primary at `primary` committed `value` within `patience`.
template <class Tcp>
asio::awaitable<bool> write(asio::any_io_executor ex, typename Tcp::endpoint primary, std::int32_t value,
                            std::chrono::nanoseconds patience) {
  using namespace asio::experimental::awaitable_operators;
  typename Tcp::socket s(ex);
  char committed = 0;
  auto exchange = [&]() -> asio::awaitable<bool> {
    auto [cec] = co_await s.async_connect(primary, use_tuple);
    if (cec) co_return false;
    auto [wec, wn] = co_await asio::async_write(s, asio::buffer(&value, sizeof value), use_tuple);
    if (wec) co_return false;
    auto [rec, rn] = co_await asio::async_read(s, asio::buffer(&committed, 1), use_tuple);
    co_return !rec && committed == 1;
  };
  faultline::steady_timer timeout(ex, patience);
  auto r = co_await (exchange() || timeout.async_wait(use_tuple));
  co_return r.index() == 0 && std::get<0>(r);
}

}  // namespace samples::replicated_store
