// Producer/consumer over a bounded Asio channel: invalid items rejected, failing items reported, clean shutdown.
#pragma once

#include <boost/asio/awaitable.hpp>

#include <cstddef>
#include <functional>
#include <iosfwd>
#include <string>
#include <vector>

namespace samples::queue {

namespace asio = boost::asio;

/// A unit of work.
struct item {
  int id = 0;
  std::string payload;

  friend bool operator==(const item&, const item&) = default;
};

/// Prints `#3 "resize"`, so logs and test records name the item.
std::ostream& operator<<(std::ostream& out, const item& it);

/// An item that was not processed, and why.
struct problem {
  int id = 0;
  std::string reason;

  friend bool operator==(const problem&, const problem&) = default;
};

/// Prints `#3: empty payload`.
std::ostream& operator<<(std::ostream& out, const problem& p);

/// What a run did with each item: every input item lands in exactly one list.
struct summary {
  std::vector<int> processed;     ///< ids, in the order their processing finished
  std::vector<problem> failed;    ///< `process(item)` threw or failed; reason is its what()
  std::vector<problem> rejected;  ///< invalid, never queued; reason says what is wrong
};

struct pipeline_options {
  std::size_t consumers = 2;  ///< at least 1
  std::size_t capacity = 4;   ///< items queued before the producer waits (0: hand-over only)
};

/// Does the work for one item; completes when the item is done, throws when it failed.
using process_fn = std::function<asio::awaitable<void>(item)>;

/// Why `it` cannot be queued ("empty payload"), or an empty string when it can.
std::string validate(const item& it);

/// Feeds `items` through a channel of `options.capacity` to `options.consumers`
/// consumers, each awaiting `process(item)` for one item at a time.
///
/// - An invalid item (see `validate`) is rejected by the producer and never queued.
/// - An item whose processing throws (an exception or an error code) is reported in
///   `summary::failed`; its consumer goes on with the next item.
/// - After the last item, the consumers drain the queue and exit; the run completes
///   when the last item is done.
///
/// Cancellation: cancelling the awaiting coroutine cancels the producer's pending
/// send, every consumer's pending receive and every `process` call in flight, at
/// the instant of the signal; the run then ends with that cancellation and no
/// summary. A `process` call that ends with `operation_aborted` while the run is
/// not cancelled is an ordinary failure of its item.
///
/// Thread safety: the producer and the consumers share the channel and the summary;
/// run it on a single-threaded executor or a strand.
asio::awaitable<summary> run_pipeline(std::vector<item> items, process_fn process, pipeline_options options = {});

}  // namespace samples::queue
