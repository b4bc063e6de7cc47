// faultline tests - a tiny circuit breaker written against faultline's production seams.
//
// Production code, not a test double: it reads `faultline::steady_clock` (real
// time on an io_context, virtual time on a sim) and calls any coroutine
// function. tests/framework/circuit_breaker_test.cpp drives it at exact
// virtual instants; docs/testable-code.md uses it as the worked example.
#pragma once

#include <faultline/steady_clock.hpp>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/error.hpp>
#include <boost/system/system_error.hpp>

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <type_traits>

namespace resilience {

namespace asio = boost::asio;

/// What `circuit_breaker::call` throws instead of calling the dependency.
class circuit_open_error : public std::runtime_error {
 public:
  circuit_open_error() : std::runtime_error("circuit open: call rejected without calling the dependency") {}
};

/// Stops calling a failing dependency for a while, then probes it.
///
/// - closed: calls go through; `failure_threshold` consecutive failures open it.
/// - open: calls fail at once with `circuit_open_error`, without calling the
///   dependency, until `open_for` has passed since it opened.
/// - half-open: the first call after that is a probe; other calls fail fast
///   while it runs. The probe's success closes the circuit; its failure opens
///   it for another `open_for`.
///
/// A failure is any exception the call ends with, except cancellation
/// (`operation_aborted`): the caller gave up, the dependency did not fail. A
/// cancelled probe leaves the circuit half-open, so the next call probes.
/// Results of calls that started before the last state change are ignored.
///
/// Time is `faultline::steady_clock`: real in production, virtual under a sim.
/// Thread safety: like an Asio I/O object, use it from one strand.
///
/// **Example**:
/// ```
/// resilience::circuit_breaker breaker({.failure_threshold = 5, .open_for = 30s});
/// std::string body = co_await breaker.call([&] { return client.get("/status"); });
/// ```
class circuit_breaker {
  template <class A>
  struct awaitable_value {
    // If you get an error on the following line: call() takes a callable
    // returning asio::awaitable<T>, such as a coroutine lambda.
    static_assert(sizeof(A) == 0, "circuit_breaker::call: f() must return asio::awaitable<T>");
  };
  template <class T>
  struct awaitable_value<asio::awaitable<T>> {
    using type = T;
  };

 public:
  using clock = faultline::steady_clock;
  enum class state { closed, open, half_open };

  struct options {
    std::size_t failure_threshold = 5;                     ///< consecutive failures that open it; at least 1
    clock::duration open_for = std::chrono::seconds(30);  ///< how long it stays open before a probe
  };

  /// Throws `std::invalid_argument` for a threshold of 0 or a negative period.
  explicit circuit_breaker(options o) : options_(o) {
    if (o.failure_threshold == 0 || o.open_for < clock::duration::zero())
      throw std::invalid_argument("circuit_breaker: failure_threshold must be at least 1 and open_for not negative");
  }

  /// Awaits `f()` if the circuit lets the call through; otherwise throws
  /// `circuit_open_error` at once. Yields what `f()` yields and rethrows what
  /// it throws, after counting it.
  template <class F, class T = typename awaitable_value<std::invoke_result_t<F&>>::type>
  asio::awaitable<T> call(F f) {
    // The body runs when the caller awaits, so the clock is read then.
    ticket t = admit();
    settle_guard guard{this, t};
    try {
      if constexpr (std::is_void_v<T>) {
        co_await f();
        guard.settle(outcome::success);
      } else {
        T value = co_await f();
        guard.settle(outcome::success);
        co_return value;
      }
    } catch (const boost::system::system_error& e) {
      guard.settle(e.code() == asio::error::operation_aborted ? outcome::cancelled : outcome::failure);
      throw;
    } catch (...) {
      guard.settle(outcome::failure);
      throw;
    }
  }

  /// The state as of the last call; open becomes half-open when a call
  /// arrives after the open period, not by itself.
  state current_state() const noexcept { return state_; }

  /// When an open circuit lets the next call through as a probe (a Retry-After).
  clock::time_point open_until() const noexcept { return open_until_; }

  /// Consecutive failures counted while closed.
  std::size_t consecutive_failures() const noexcept { return failures_; }

 private:
  enum class outcome { success, failure, cancelled };

  struct ticket {
    std::uint64_t epoch;
    bool probe;
  };

  // Settles the call when it ends; if the coroutine is destroyed while
  // suspended (its executor shut down), a probe still gives its slot back.
  struct settle_guard {
    circuit_breaker* self;
    ticket t;
    bool settled = false;

    void settle(outcome o) {
      settled = true;
      self->on_end(t, o);
    }
    ~settle_guard() {
      if (!settled && t.probe) self->probe_running_ = false;
    }
  };

  ticket admit() {
    if (state_ == state::closed) return {epoch_, false};
    if (state_ == state::open) {
      if (clock::now() < open_until_) throw circuit_open_error();
      enter(state::half_open);
    }
    if (probe_running_) throw circuit_open_error();
    probe_running_ = true;
    return {epoch_, true};
  }

  void on_end(ticket t, outcome o) {
    if (t.probe) {
      probe_running_ = false;
      if (o == outcome::success) enter(state::closed);
      if (o == outcome::failure) trip();
      return;
    }
    if (t.epoch != epoch_ || o == outcome::cancelled) return;  // a result from before the last change
    if (o == outcome::success)
      failures_ = 0;
    else if (++failures_ >= options_.failure_threshold)
      trip();
  }

  void trip() {
    enter(state::open);
    open_until_ = clock::now() + options_.open_for;
  }

  void enter(state s) {
    state_ = s;
    failures_ = 0;
    ++epoch_;
  }

  options options_;
  state state_ = state::closed;
  std::size_t failures_ = 0;
  std::uint64_t epoch_ = 0;
  bool probe_running_ = false;
  clock::time_point open_until_{};
};

}  // namespace resilience
