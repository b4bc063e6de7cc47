// faultline - the journal of what happened in a sim, and when.
#pragma once

#include <faultline/sim_clock.hpp>

#include <cstddef>
#include <cstdint>
#include <iosfwd>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace faultline {

/// What a trace event records.
enum class event_kind : std::uint8_t {
  spawned,          ///< a task started (`sim.spawn`, `sim.run(awaitable)`)
  returned,         ///< a task ended with a value
  threw,            ///< a task ended with an exception; detail says which
  cancelled,        ///< a task ended by cancellation
  timer_wait,       ///< a timer wait began; value is its deadline (ns)
  timer_fired,      ///< a timer wait completed at its deadline
  timer_cancelled,  ///< a timer wait ended early with operation_aborted
  stalled,          ///< the sim found suspended operations and nothing to run
  livelock,         ///< the step limit was hit
  horizon,          ///< auto-advance would have passed the horizon
  note,             ///< free text, from `trace::note`
  call,             ///< a double was called; subject is the call, e.g. `fetch("/a")`
  call_returned,    ///< a double's call returned; detail is the value, if printable
  call_threw,       ///< a double's call threw; detail says what
  call_failed,      ///< a double's call failed with an error_code; detail says which
  call_cancelled,   ///< a double's call ended by cancellation
  fault,            ///< a fault was injected (latency, error, hang, ...); detail says which
  failpoint,        ///< a failpoint was hit; detail says what it did
  io,               ///< a stream double read or wrote; detail says what
  net,              ///< the simulated network: subject is a host or connection, detail says what
  invariant,        ///< an invariant broke and the run stopped here (invariant.hpp); detail names it
};

/// "spawned", "timer wait", ...: the word the timeline prints for a kind.
const char* to_string(event_kind k) noexcept;

/// One recorded event, materialised for reading.
struct trace_event {
  std::uint64_t index = 0;   ///< position since the sim's start; stable across replays
  sim_clock::time_point at;  ///< virtual instant
  event_kind kind = event_kind::note;
  std::string subject;  ///< "timer#3", "task main"
  std::string detail;   ///< "until t=0.010s", "std::runtime_error: boom"

  /// The timeline line: `t=0.010s timer#3 fired`.
  std::string describe() const;
};

/// A sim's journal: spawns, timer waits, fires and cancellations, task
/// completions and stalls, each with its virtual instant. Later layers
/// (doubles, failpoints) record into the same journal.
///
/// Memory stays bounded: the last `capacity` events are kept (see
/// `sim_options::trace_capacity`), while `total()` and `hash()` cover every
/// event since the start, so two runs can be compared bit for bit even when
/// the early events are gone.
///
/// Not thread-safe: it belongs to its sim's thread.
class trace {
 public:
  static constexpr std::size_t all = std::numeric_limits<std::size_t>::max();

  explicit trace(std::size_t capacity = 2048);

  /// The retained events, oldest first.
  std::vector<trace_event> events() const;
  /// The last `last` retained events, one line each (`t=0.010s timer#3 fired`).
  std::string timeline(std::size_t last = all) const;
  /// Number of events recorded since the start, retained or not.
  std::uint64_t total() const noexcept { return total_; }
  /// A 64-bit hash over every event since the start: equal hashes, equal runs.
  std::uint64_t hash() const noexcept { return hash_; }

  /// Writes the retained events as Chrome trace-event JSON, which Perfetto
  /// (ui.perfetto.dev) and chrome://tracing open: tasks and calls of doubles
  /// as slices from start to end, everything else as instants, one
  /// microsecond of the trace per microsecond of virtual time.
  ///
  /// The simulated network's events (`event_kind::net`) go to one process
  /// per host, named after it (pid 2, 3, ... in order of first appearance;
  /// the sim's tasks stay in pid 1, then named "sim"; partitions and other
  /// whole-network events in a process named "network"). On a host, thread 1
  /// holds the host's own events (listen, accept, a failed connect) and each
  /// connection gets a thread named by its endpoints (`app:49152 -> db:5432`,
  /// `db:5432 <- app:49152`) with one slice for its lifetime: from its first
  /// event (`connect`, or `connection from ...` when the SYN reaches the
  /// server) to `close`, `reset`, `arrived: rst`, `connect failed: ...` or
  /// `gone (host crashed)`, or to the last event of the trace if none came.
  /// Writes, arrivals and reads are instants on that thread. A host is named
  /// by the subject's text before its first ':'.
  void write_chrome_json(std::ostream& out) const;
  /// The same, to a file; throws `std::runtime_error` naming the path if it
  /// cannot be written.
  void write_chrome_json(const std::string& path) const;

  /// Adds a free-text event at the sim's current instant (for a test's own
  /// markers; shows in the failure timeline).
  void note(std::string text);

  // -- recording, for faultline's own layers ------------------------------------
  /// Subjects are numbered; this bit marks a timer number, which needs no string.
  static constexpr std::uint32_t timer_bit = 0x8000'0000u;
  /// Registers a subject name ("task main") and returns its number.
  std::uint32_t add_subject(std::string name);

  /// Names subjects only when the trace is read: a layer that registers one
  /// subject per operation (a double's calls) keeps their text to itself.
  class subject_source {
   public:
    /// The name of this source's subject `key` (a call's index).
    virtual std::string subject_name(std::uint32_t key) const = 0;

   protected:
    ~subject_source() = default;
  };
  /// Registers `source` (its owner keeps it alive until `retire_source`) and
  /// returns its id for `add_subject`.
  std::uint32_t add_source(const subject_source& source);
  /// Registers subject `key` of source `source`, named by it when read.
  /// Consecutive keys of one source share one table entry.
  std::uint32_t add_subject(std::uint32_t source, std::uint32_t key) {
    // A double called in a loop: one more in the last run.
    if (!subjects_.empty()) {
      subject_run& last = subjects_.back();
      if (last.source == source && last.key + last.count == key) {
        ++last.count;
        return subject_count_++;
      }
    }
    return append_subject(source, key);
  }
  /// The source is going away: names the subjects of its that retained events
  /// use, once, and never asks it again.
  void retire_source(std::uint32_t source) noexcept;
  void record(std::int64_t at_ns, event_kind kind, std::uint32_t subject, std::int64_t value = 0,
              std::string_view text = {});
  /// Points `note()` at the current time (the sim does this; users never need to).
  void set_clock(const std::int64_t* now_ns) noexcept { now_ns_ = now_ns; }

 private:
  struct record_type {
    std::int64_t at_ns;
    std::int64_t value;
    std::uint32_t subject;
    event_kind kind;
    std::string text;
  };

  // A run of subjects: numbers [first, first+count) are keys [key, key+count)
  // of `source`, or names_[key..] when source is `named`.
  struct subject_run {
    std::uint32_t first;
    std::uint32_t count;
    std::uint32_t source;
    std::uint32_t key;
  };
  static constexpr std::uint32_t named = std::numeric_limits<std::uint32_t>::max();

  trace_event materialise(const record_type& r, std::uint64_t index) const;
  std::string subject_name(std::uint32_t subject) const;
  std::uint32_t append_subject(std::uint32_t source, std::uint32_t key);
  void name_retained(std::uint32_t source);

  std::vector<record_type> ring_;
  std::size_t capacity_;
  std::size_t head_ = 0;  // next slot to write once the ring is full
  std::uint64_t total_ = 0;
  std::uint64_t hash_ = 14695981039346656037ull;
  std::uint32_t subject_count_ = 0;
  std::vector<subject_run> subjects_;
  std::vector<std::string> names_;
  std::vector<const subject_source*> sources_;  // null once retired
  const std::int64_t* now_ns_ = nullptr;
};

}  // namespace faultline
