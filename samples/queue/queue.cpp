// Producer/consumer over a bounded Asio channel: invalid items rejected, failing items reported, clean shutdown.
#include "queue.hpp"

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
#include <iomanip>
#include <ostream>
#include <stdexcept>
#include <utility>

namespace samples::queue {

namespace {

using channel = asio::experimental::channel<void(boost::system::error_code, item)>;

// The end of the stream travels in the channel, behind the last item. Closing
// the channel instead would lose items: in Boost 1.81, channel::close() drops
// what is still buffered (chriskohlhoff/asio#1236).
constexpr auto end_of_stream = asio::error::eof;

asio::awaitable<void> produce(channel& ch, std::vector<item> items, summary& s) {
  for (auto& it : items) {
    if (auto why = validate(it); !why.empty()) {
      s.rejected.push_back({it.id, std::move(why)});
      continue;
    }
    co_await ch.async_send({}, std::move(it), asio::use_awaitable);
  }
  // A named object, not a temporary: GCC 12 miscompiles a temporary with a
  // destructor passed to an async operation inside co_await (a double free).
  item marker;
  co_await ch.async_send(end_of_stream, std::move(marker), asio::use_awaitable);
}

asio::awaitable<void> consume(channel& ch, const process_fn& process, summary& s) {
  // Read before any failure: a catch block cannot co_await.
  const asio::cancellation_state cs = co_await asio::this_coro::cancellation_state;
  for (;;) {
    boost::system::error_code ec;
    item it = co_await ch.async_receive(asio::redirect_error(asio::use_awaitable, ec));
    if (ec == end_of_stream) {
      // Every item is taken (the marker came last): closing wakes the other
      // consumers, whose receives end with channel_closed.
      ch.close();
      co_return;
    }
    if (ec == asio::experimental::error::channel_closed) co_return;
    if (ec) throw boost::system::system_error(ec, "consume");  // channel_cancelled: we are being cancelled
    try {
      co_await process(it);
      s.processed.push_back(it.id);
    } catch (const std::exception& e) {
      // Our own cancellation ends the consumer; anything else is this item's failure.
      if (cs.cancelled() != asio::cancellation_type::none) throw;
      s.failed.push_back({it.id, e.what()});
    }
  }
}

}  // namespace

std::ostream& operator<<(std::ostream& out, const item& it) {
  return out << '#' << it.id << ' ' << std::quoted(it.payload);
}

std::ostream& operator<<(std::ostream& out, const problem& p) { return out << '#' << p.id << ": " << p.reason; }

std::string validate(const item& it) {
  if (it.id <= 0) return "id must be positive";
  if (it.payload.empty()) return "empty payload";
  return {};
}

asio::awaitable<summary> run_pipeline(std::vector<item> items, process_fn process, pipeline_options options) {
  if (options.consumers == 0) throw std::invalid_argument("run_pipeline: consumers must be at least 1");
  auto ex = co_await asio::this_coro::executor;
  channel ch(ex, options.capacity);
  summary s;

  using operation = decltype(asio::co_spawn(ex, std::declval<asio::awaitable<void>>(), asio::deferred));
  std::vector<operation> tasks;
  tasks.push_back(asio::co_spawn(ex, produce(ch, std::move(items), s), asio::deferred));
  for (std::size_t i = 0; i < options.consumers; ++i)
    tasks.push_back(asio::co_spawn(ex, consume(ch, process, s), asio::deferred));

  // The group passes our cancellation to every task; a task that fails for
  // another reason (a bug) cancels the others rather than leave them waiting.
  auto [order, errors] = co_await asio::experimental::make_parallel_group(std::move(tasks))
                             .async_wait(asio::experimental::wait_for_one_error(), asio::use_awaitable);
  for (std::size_t i : order)
    if (errors[i]) std::rethrow_exception(errors[i]);  // the first to fail is the cause
  co_return s;
}

}  // namespace samples::queue
