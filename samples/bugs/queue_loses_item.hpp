// Planted bug (queue): a consumer that loses an item when processing fails. Copied from
// samples/queue/queue.cpp (header-only here: the sample's consumer is private to its .cpp).
#pragma once

#include "queue.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/deferred.hpp>
#include <boost/asio/error.hpp>
#include <boost/asio/experimental/channel.hpp>
#include <boost/asio/experimental/channel_error.hpp>
#include <boost/asio/experimental/parallel_group.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include <exception>
#include <stdexcept>
#include <utility>
#include <vector>

namespace samples::bugs {

namespace asio = boost::asio;
using samples::queue::item;
using samples::queue::pipeline_options;
using samples::queue::process_fn;
using samples::queue::summary;

namespace detail {

using channel = asio::experimental::channel<void(boost::system::error_code, item)>;
constexpr auto end_of_stream = asio::error::eof;

inline asio::awaitable<void> produce(channel& ch, std::vector<item> items, summary& s) {
  for (auto& it : items) {
    if (auto why = samples::queue::validate(it); !why.empty()) {
      s.rejected.push_back({it.id, std::move(why)});
      continue;
    }
    co_await ch.async_send({}, std::move(it), asio::use_awaitable);
  }
  item marker;
  co_await ch.async_send(end_of_stream, std::move(marker), asio::use_awaitable);
}

inline asio::awaitable<void> consume(channel& ch, const process_fn& process, summary& s) {
  const asio::cancellation_state cs = co_await asio::this_coro::cancellation_state;
  bool skip = false;
  for (;;) {
    boost::system::error_code ec;
    item it = co_await ch.async_receive(asio::redirect_error(asio::use_awaitable, ec));
    if (ec == end_of_stream) {
      ch.close();
      co_return;
    }
    if (ec == asio::experimental::error::channel_closed) co_return;
    if (ec) throw boost::system::system_error(ec, "consume");
    if (skip) {
      skip = false;
      continue;
    }
    try {
      co_await process(it);
      s.processed.push_back(it.id);
    } catch (const std::exception& e) {
      if (cs.cancelled() != asio::cancellation_type::none) throw;
      s.failed.push_back({it.id, e.what()});
      // PLANTED BUG: written as if `async_receive` only peeked at the failed
      // item, the consumer "skips past it" on the next turn. But the item was
      // already taken: what gets skipped is the next one, which is neither
      // processed nor reported, in no list of the summary.
      skip = true;
    }
  }
}

}  // namespace detail

/// `samples::queue::run_pipeline`, with one bug: after an item fails, the
/// consumer that took it drops the next item it receives.
inline asio::awaitable<summary> run_pipeline(std::vector<item> items, process_fn process,
                                             pipeline_options options = {}) {
  if (options.consumers == 0) throw std::invalid_argument("run_pipeline: consumers must be at least 1");
  auto ex = co_await asio::this_coro::executor;
  detail::channel ch(ex, options.capacity);
  summary s;

  using operation = decltype(asio::co_spawn(ex, std::declval<asio::awaitable<void>>(), asio::deferred));
  std::vector<operation> tasks;
  tasks.push_back(asio::co_spawn(ex, detail::produce(ch, std::move(items), s), asio::deferred));
  for (std::size_t i = 0; i < options.consumers; ++i)
    tasks.push_back(asio::co_spawn(ex, detail::consume(ch, process, s), asio::deferred));

  auto [order, errors] = co_await asio::experimental::make_parallel_group(std::move(tasks))
                             .async_wait(asio::experimental::wait_for_one_error(), asio::use_awaitable);
  for (std::size_t i : order)
    if (errors[i]) std::rethrow_exception(errors[i]);
  co_return s;
}

}  // namespace samples::bugs
