// faultline - how an awaited operation ended: a value, an exception, or cancellation.
#pragma once

#include <faultline/sim_clock.hpp>

#include <exception>
#include <ostream>
#include <optional>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>

namespace faultline {

namespace detail {
/// True for the exceptions Asio uses to say "this was cancelled":
/// `system_error` carrying `operation_aborted` (or a channel's cancellation).
bool is_cancellation(const std::exception_ptr& e) noexcept;
/// "std::runtime_error: boom" for an exception; demangled type, then what().
std::string describe_exception(const std::exception_ptr& e);
}  // namespace detail

/// How an awaited thing ended, and when.
///
/// An outcome holds exactly one of: a value (`has_value()`), an exception
/// (`has_exception()`), or cancellation (`was_cancelled()`; Asio reports a
/// cancelled coroutine as `system_error(operation_aborted)`, which is kept and
/// rethrown by `value()`). `completed_at()` is the virtual instant it ended.
///
/// Not thread-safe; it is a plain value.
template <class T>
class outcome {
 public:
  enum class state : unsigned char { value, exception, cancelled };

  static outcome returned(T v, sim_clock::time_point at) {
    outcome o(state::value, at);
    o.value_.emplace(std::move(v));
    return o;
  }

  /// An outcome from a thrown exception; classified as cancelled when the
  /// exception is Asio's cancellation.
  static outcome threw(std::exception_ptr e, sim_clock::time_point at) {
    outcome o(detail::is_cancellation(e) ? state::cancelled : state::exception, at);
    o.error_ = std::move(e);
    return o;
  }

  state get_state() const noexcept { return state_; }
  bool has_value() const noexcept { return state_ == state::value; }
  bool has_exception() const noexcept { return state_ == state::exception; }
  bool was_cancelled() const noexcept { return state_ == state::cancelled; }

  /// The value; rethrows the exception (or the cancellation) otherwise.
  T& value() & {
    if (!has_value()) std::rethrow_exception(error_);
    return *value_;
  }
  const T& value() const& {
    if (!has_value()) std::rethrow_exception(error_);
    return *value_;
  }
  T&& value() && {
    if (!has_value()) std::rethrow_exception(error_);
    return std::move(*value_);
  }

  /// The exception for `has_exception()` and `was_cancelled()`; null for a value.
  const std::exception_ptr& exception() const noexcept { return error_; }
  sim_clock::time_point completed_at() const noexcept { return at_; }

  /// "returned at t=1.000s", "threw std::runtime_error: x at t=2.000s",
  /// "was cancelled at t=0.500s".
  std::string describe() const {
    switch (state_) {
      case state::value: return "returned at " + to_string(at_);
      case state::exception:
        return "threw " + detail::describe_exception(error_) + " at " + to_string(at_);
      case state::cancelled: break;
    }
    return "was cancelled at " + to_string(at_);
  }

 private:
  outcome(state s, sim_clock::time_point at) : state_(s), at_(at) {}

  state state_;
  sim_clock::time_point at_;
  std::optional<T> value_;
  std::exception_ptr error_;
};

/// `outcome<void>`: the same without a value.
template <>
class outcome<void> {
 public:
  enum class state : unsigned char { value, exception, cancelled };

  static outcome returned(sim_clock::time_point at) { return outcome(state::value, at, nullptr); }
  static outcome threw(std::exception_ptr e, sim_clock::time_point at) {
    auto s = detail::is_cancellation(e) ? state::cancelled : state::exception;
    return outcome(s, at, std::move(e));
  }

  state get_state() const noexcept { return state_; }
  bool has_value() const noexcept { return state_ == state::value; }
  bool has_exception() const noexcept { return state_ == state::exception; }
  bool was_cancelled() const noexcept { return state_ == state::cancelled; }

  /// Returns normally for a value; rethrows the exception otherwise.
  void value() const {
    if (!has_value()) std::rethrow_exception(error_);
  }
  const std::exception_ptr& exception() const noexcept { return error_; }
  sim_clock::time_point completed_at() const noexcept { return at_; }
  std::string describe() const;

 private:
  outcome(state s, sim_clock::time_point at, std::exception_ptr e)
      : state_(s), at_(at), error_(std::move(e)) {}

  state state_;
  sim_clock::time_point at_;
  std::exception_ptr error_;
};

/// Streams an outcome as `describe()` does, with the value when it can be
/// streamed: "returned 42 at t=1.000s". Found by argument-dependent lookup, so
/// GoogleTest prints outcomes without `<faultline/gtest/print.hpp>` (which,
/// when included, prints the value with GoogleTest's own printer instead).
template <class T>
std::ostream& operator<<(std::ostream& os, const outcome<T>& o) {
  if constexpr (!std::is_void_v<T>) {
    if constexpr (requires(const T& v) { os << v; }) {
      if (o.has_value()) return os << "returned " << o.value() << " at " << to_string(o.completed_at());
    }
  }
  return os << o.describe();
}

}  // namespace faultline
