// Planted bug (composed operations): a cancellation that arrives after a step completed, before the
// operation's handler for it ran, is dropped. Written for this file, in async_compose form.
#pragma once

#include <faultline/fake.hpp>

#include <boost/asio/cancellation_type.hpp>
#include <boost/asio/compose.hpp>
#include <boost/asio/error.hpp>
#include <boost/system/error_code.hpp>

#include <utility>

namespace samples::bugs {

namespace asio = boost::asio;

/// Writes one chunk (by number); completion signature `void(error_code)`.
using chunk_writer = faultline::async_fake<void(int)>;

namespace detail {

template <bool CheckCancelled>
struct send_all_op {
  chunk_writer* write;
  int chunks;
  int sent = 0;

  template <class Self>
  void operator()(Self& self, boost::system::error_code ec = {}) {
    if (ec) return self.complete(ec);
    // A terminal cancellation reaches the chunk being written through the
    // slot `self` hands on. One emitted after that write completed, while its
    // handler (this call) was still queued, reached nothing: it is only
    // recorded in `self`'s cancellation state, which must be checked here.
    if constexpr (CheckCancelled) {
      if (self.cancelled() != asio::cancellation_type::none) return self.complete(asio::error::operation_aborted);
    }
    // PLANTED BUG (CheckCancelled false): that check is missing, so the
    // cancellation is dropped and every remaining chunk is written.
    if (sent == chunks) return self.complete({});
    write->async_call(sent++, std::move(self));
  }
};

template <bool CheckCancelled, class Token>
auto async_send_all(chunk_writer& write, int chunks, Token&& token) {
  // No I/O executor: the chunks complete on the caller's handler's executor.
  return asio::async_compose<Token, void(boost::system::error_code)>(send_all_op<CheckCancelled>{&write, chunks},
                                                                      token);
}

}  // namespace detail

/// Writes chunks 0 .. chunks - 1 one after another. Per-operation
/// cancellation (terminal) ends it with `operation_aborted` at the instant it
/// is emitted, or, between two chunks, before the next one starts.
template <class Token>
auto async_send_all(chunk_writer& write, int chunks, Token&& token) {
  return detail::async_send_all<true>(write, chunks, std::forward<Token>(token));
}

/// `async_send_all` with the bug above: a cancellation emitted while a
/// finished chunk's completion is queued is lost, so `send || sleep_for(1s)`
/// of 5 one-second chunks returns after 5s instead of 1s.
template <class Token>
auto async_send_all_dropping_late_cancel(chunk_writer& write, int chunks, Token&& token) {
  return detail::async_send_all<false>(write, chunks, std::forward<Token>(token));
}

}  // namespace samples::bugs
