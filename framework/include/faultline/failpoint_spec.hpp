// faultline - the FAULTLINE_FAILPOINTS spec: its grammar, its parser and its canonical text.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace faultline {

/// What a failpoint task does when it fires; the spec spells each one as
/// `to_string` returns it.
enum class failpoint_action : std::uint8_t {
  off,              ///< `off`: no fault; the operation runs as usual
  delay,            ///< `delay(ms)`: the operation is held back `ms` milliseconds (0 to 9223372036854)
  throw_exception,  ///< `throw` or `throw(message)`: the operation throws
  error,            ///< `error(name)` or `error(number)`: the operation fails with that code
  hang,             ///< `hang`: the operation never completes unless cancelled
  cancel,           ///< `cancel`: the operation completes as cancelled
};

/// "off", "delay", "throw", "error", "hang", "cancel": the word the spec uses.
const char* to_string(failpoint_action a) noexcept;

/// One step of a failpoint's chain: `[p%][count*]action[(arg)]`.
struct failpoint_task {
  /// Chance, in percent (0 to 100), that the task fires on a hit it is
  /// offered; the runtime draws, the parser only stores it.
  double probability = 100.0;
  /// Hits the task fires on before it is used up; empty means forever.
  std::optional<std::uint64_t> count;
  failpoint_action action = failpoint_action::off;
  /// `throw`: the message, possibly empty. `error`: an error name such as
  /// "connection_refused" (checked for the form `[a-z_]+` only; the runtime
  /// maps it) or a positive number in decimal. Empty for the other actions.
  std::string arg;
  /// `delay`: how long, at most 9223372036854 ms (the most the sim clock's
  /// nanoseconds hold). Zero for the other actions.
  std::chrono::milliseconds delay{};

  friend bool operator==(const failpoint_task&, const failpoint_task&) = default;
};

/// One failpoint's entry in the spec: its name and its chain of tasks.
struct failpoint_config {
  std::string name;
  std::vector<failpoint_task> tasks;  ///< never empty when parsed

  friend bool operator==(const failpoint_config&, const failpoint_config&) = default;
};

/// A spec that does not follow the grammar. `what()` is the full report:
///
///     faultline: bad FAULTLINE_FAILPOINTS at column 10: expected an action (off, delay, throw, error, hang, cancel), found "explode"
///       db.commit=explode
///                 ^
///
/// Copying never throws.
class failpoint_spec_error : public std::invalid_argument {
 public:
  /// `expected` and `found` are phrases ("a positive count", "\"0\"",
  /// "end of spec") that `what()` joins as "expected ..., found ...".
  failpoint_spec_error(std::string_view spec, std::size_t position, std::string expected,
                       std::string found);

  /// 0-based byte offset into the spec where the problem is.
  std::size_t position() const noexcept { return data_->position; }
  /// What would have been valid there, e.g. "'=' after failpoint name \"db\"".
  const std::string& expected() const noexcept { return data_->expected; }
  /// What was there instead: quoted text, or "end of spec".
  const std::string& found() const noexcept { return data_->found; }
  /// The whole spec that was being parsed.
  const std::string& spec() const noexcept { return data_->spec; }

 private:
  struct data {
    std::string spec;
    std::size_t position;
    std::string expected;
    std::string found;
  };
  std::shared_ptr<const data> data_;
};

/// Parses a `FAULTLINE_FAILPOINTS` spec, whose grammar is that of the Rust
/// crate fail-rs:
///
///     spec    := entry (';' entry)*       empty entries and a trailing ';' are fine
///     entry   := name '=' task ('->' task)*
///     task    := [p '%'] [count '*'] action ['(' arg ')']
///     name    := [A-Za-z0-9_.:/-]+
///     p       := 0 to 100, with an optional fraction: 12.5
///     count   := 1 to 18446744073709551615
///     action  := off | delay(ms) | throw | throw(message) | error(name) | error(number)
///              | hang | cancel
///     ms      := 0 to 9223372036854 (the most that fits the sim clock's int64 nanoseconds)
///     number  := 1 to 2147483647
///
/// Whitespace around tokens is ignored; a `throw` message is trimmed and may
/// hold anything but an unbalanced ')', including ';' and '->'.
///
/// At run time, as in fail-rs, each hit offers the tasks in order: the first
/// one that is not used up and wins its `p%` draw fires (and spends one of
/// its `count`); if none fires, the hit passes with no fault.
///
/// Returns one config per entry, in spec order; an empty spec gives none.
/// Throws `failpoint_spec_error` on the first problem found, including a
/// name set twice and a number out of its range. Linear in the spec's length.
///
/// **Example**:
///
///     auto fps = faultline::parse_failpoints(
///         "db.commit=2*error(timed_out)->off; rpc/send=25%delay(100)");
///     // fps[0].tasks[0].count == 2, fps[1].tasks[0].probability == 25.0
std::vector<failpoint_config> parse_failpoints(std::string_view spec);

/// The canonical text of one task, as in the spec: `25%3*delay(100)`. The
/// default probability (100) and an empty `throw` message are left out.
std::string to_string(const failpoint_task& t);

/// The canonical text of one entry: `db.commit=2*error(timed_out)->off`.
/// For a config that `parse_failpoints` returned, parsing this text gives an
/// equal config back.
std::string to_string(const failpoint_config& c);

}  // namespace faultline
