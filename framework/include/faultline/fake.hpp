// faultline - async_fake: a scripted test double whose calls are awaited.
#pragma once

#include <faultline/chaos.hpp>
#include <faultline/detail/fake_core.hpp>
#include <faultline/detail/format.hpp>
#include <faultline/detail/handler_work.hpp>
#include <faultline/error.hpp>
#include <faultline/sim_context.hpp>

#include <boost/asio/associated_cancellation_slot.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/recycling_allocator.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/system/system_error.hpp>

#include <deque>
#include <exception>
#include <functional>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

namespace faultline {

/// How a call of a double ended (or that it has not yet).
enum class call_status : std::uint8_t { pending, returned, threw, failed, cancelled };
const char* to_string(call_status s) noexcept;

/// One call of a double: its arguments, when it started and ended, and how.
template <class... Args>
struct call_record {
  std::size_t index = 0;                    ///< 0-based, in call order
  std::tuple<std::decay_t<Args>...> args;   ///< copies of the arguments
  std::string text;                         ///< the call as printed: `fetch("/a")`
  sim_clock::time_point started{};          ///< when the call was made
  std::optional<sim_clock::time_point> ended;  ///< when it completed; empty while pending
  call_status status = call_status::pending;
  std::string detail;  ///< the value, exception or error it ended with, as text
  bool held = false;   ///< a hold point took this call

  /// `fetch("/a") at t=0.000s -> threw std::runtime_error: x at t=0.100s`
  std::string describe() const;
};

namespace detail {

std::string describe_call(const std::string& text, sim_clock::time_point started,
                          const std::optional<sim_clock::time_point>& ended, call_status status,
                          const std::string& detail);

template <class R>
using value_slot = std::conditional_t<std::is_void_v<R>, std::monostate, R>;

/// True when the text of a `T` can be made long after the call and still say
/// what it said then: the value owns everything its text shows (numbers,
/// strings), or its text shows none of it ("<N-byte object>"). Views,
/// pointers and types with their own operator<< may print what someone
/// changed since, so their text is made at once.
template <class T>
inline constexpr bool formats_later =
    std::is_arithmetic_v<T> || std::is_enum_v<T> || std::is_same_v<T, std::string> || std::is_same_v<T, std::monostate> ||
    (std::is_class_v<T> && !std::is_convertible_v<const T&, std::string_view> && !is_streamable<T>::value);

struct no_text {};

/// What a double remembers of one call, small: texts are made when someone
/// reads them (`calls()`, a timeline, a stall report). The arguments move to
/// the public record once `calls()` has shown the call.
template <class R, class... Args>
struct call_entry {
  static constexpr bool later_args = (formats_later<std::decay_t<Args>> && ...);
  static constexpr bool later_value = formats_later<value_slot<R>> && std::is_copy_constructible_v<value_slot<R>>;

  std::tuple<std::decay_t<Args>...> args;
  /// The value it returned, kept for its text (valid when `has_value`).
  [[no_unique_address]] std::conditional_t<later_value && !std::is_void_v<R>, value_slot<R>, no_text> value{};
  std::int64_t started = 0;
  std::int64_t ended = 0;
  call_status status = call_status::pending;
  bool held = false;
  bool has_value = false;
  [[no_unique_address]] std::conditional_t<later_args, no_text, std::string> text;
};

/// One scripted step: an optional latency, then one action, serving `times`
/// calls (or every call, `forever`).
template <class R, class... Args>
struct script_step {
  enum class kind : std::uint8_t { none, returns, throws, fails, hangs, cancels, invokes };
  kind what = kind::none;
  sim_clock::duration latency{};
  std::optional<value_slot<R>> value;
  std::exception_ptr exception;
  boost::system::error_code ec;
  std::function<value_slot<R>(const std::decay_t<Args>&...)> fn;
  std::size_t times = 1;
  bool forever = false;
  std::size_t used = 0;
  std::string value_text;

  bool used_up() const noexcept { return !forever && used >= times; }
  std::string describe() const;
};

template <class R, class... Args>
struct script_rule {
  std::function<bool(const std::decay_t<Args>&...)> matches;
  std::string description;
  std::vector<script_step<R, Args...>> steps;
  std::size_t current = 0;

  bool used_up() const noexcept { return current >= steps.size(); }
};

/// What a call will do, fixed when the call is made (or a hold released).
template <class R, class... Args>
struct call_plan {
  using step_kind = typename script_step<R, Args...>::kind;
  step_kind what = step_kind::none;
  sim_clock::duration latency{};
  std::optional<value_slot<R>> value;
  std::exception_ptr exception;
  boost::system::error_code ec;
  std::function<value_slot<R>(const std::decay_t<Args>&...)> fn;
};

template <class R, class... Args>
class hold_state;

template <class R, class... Args>
class fake_state;

}  // namespace detail

/// Builds one rule of a double's script, step by step:
/// `fake.on_call("/a").after(100ms).returns("ok").then().fails(asio::error::timed_out)`.
/// Every method returns the builder; each step takes one action.
template <class R, class... Args>
class script_builder {
  using state_type = detail::fake_state<R, Args...>;
  using step_type = detail::script_step<R, Args...>;
  using kind = typename step_type::kind;

 public:
  /// Latency before the action, counted from the moment of the call.
  script_builder& after(sim_clock::duration d);

  /// Completes with `v` (copied for each call the step serves).
  template <class V, class R1 = R, class = std::enable_if_t<!std::is_void_v<R1>>>
  script_builder& returns(V&& v) {
    auto& s = action(kind::returns, "returns");
    s.value.emplace(std::forward<V>(v));
    s.value_text.clear();
    detail::append_value(s.value_text, *s.value);
    return *this;
  }
  /// Completes normally (for `void` results).
  template <class R1 = R, class = std::enable_if_t<std::is_void_v<R1>>>
  script_builder& returns() {
    action(kind::returns, "returns").value.emplace();
    return *this;
  }
  /// Completes by throwing `e` into the caller.
  template <class E>
  script_builder& throws(E e) {
    action(kind::throws, "throws").exception = std::make_exception_ptr(std::move(e));
    return *this;
  }
  /// Completes with `ec` (thrown as `system_error` into a coroutine caller).
  script_builder& fails(boost::system::error_code ec) {
    action(kind::fails, "fails").ec = ec;
    return *this;
  }
  /// Never completes by itself: only cancellation ends it (with operation_aborted).
  script_builder& hangs() {
    action(kind::hangs, "hangs");
    return *this;
  }
  /// Completes as cancelled (operation_aborted), as if the callee gave up.
  script_builder& cancels() {
    action(kind::cancels, "cancels");
    return *this;
  }
  /// Completes with `fn(args...)`, called when the latency has passed; an
  /// exception from `fn` is thrown into the caller.
  template <class F>
  script_builder& invokes(F fn) {
    action(kind::invokes, "invokes").fn = std::move(fn);
    return *this;
  }
  /// The current step serves `n` calls (default 1).
  script_builder& times(std::size_t n);
  /// The current step serves every further call.
  script_builder& repeatedly();
  /// Starts the next step; it serves the calls after the current one's.
  script_builder& then();

 private:
  template <class>
  friend class async_fake;
  script_builder(std::shared_ptr<state_type> s, std::size_t rule) : state_(std::move(s)), rule_(rule) {}
  step_type& current();
  step_type& action(kind k, const char* verb);

  std::shared_ptr<state_type> state_;
  std::size_t rule_;
};

/// The test's handle on a held call (see `async_fake::hold_next`).
///
/// Thread safety: use it on the sim's thread (the test body between runs, or
/// inside the sim).
template <class R, class... Args>
class hold {
 public:
  /// Waits until the held call has been made. Completion signature
  /// `void(error_code)`; completes at once (through the queue) if it was.
  template <class Token = asio::use_awaitable_t<>>
  auto async_reached(Token&& token = {});
  /// `co_await h.reached()`.
  asio::awaitable<void> reached() { return async_reached(asio::use_awaitable); }
  /// True once the call has been made.
  bool was_reached() const noexcept;

  /// Lets the call proceed as the script says, latency counted from now.
  void release();
  /// Completes the call now with `v`.
  template <class V, class R1 = R, class = std::enable_if_t<!std::is_void_v<R1>>>
  void release_with(V&& v);
  /// Completes the call now (for `void` results).
  template <class R1 = R, class = std::enable_if_t<std::is_void_v<R1>>>
  void release_with();
  /// Completes the call now with `ec`.
  void fail(boost::system::error_code ec);
  /// Completes the call now by throwing `e` into the caller.
  template <class E, class = std::enable_if_t<!std::is_convertible_v<E, boost::system::error_code>>>
  void fail(E e);

 private:
  template <class>
  friend class async_fake;
  explicit hold(std::shared_ptr<detail::hold_state<R, Args...>> s) : state_(std::move(s)) {}
  std::shared_ptr<detail::hold_state<R, Args...>> state_;
};

template <class Signature>
class async_fake {
  static_assert(sizeof(Signature) == 0, "faultline::async_fake takes a function type: async_fake<R(Args...)>");
};

/// A scripted test double standing in for an asynchronous dependency (an
/// HTTP client, a database, a queue). `co_await fake(args...)` yields `R`;
/// each call follows the script the test wrote, in virtual time:
///
/// ```
/// faultline::async_fake<std::string(std::string)> fetch(sim, "fetch");
/// fetch.on_call().after(100ms).returns("ok").repeatedly();
/// fetch.on_call("/error").after(20ms).throws(std::runtime_error("boom"));
/// fetch.on_call("/slow").hangs();
/// auto body = co_await fetch("/a");  // "ok", at t=0.100s
/// ```
///
/// Script rules: the most recently written rule whose arguments match and
/// which has steps left serves the call (as in gMock); within a rule, steps
/// serve calls in order (`times(n)`, `repeatedly()`, `then()`). A call no
/// step serves completes with `script_error` (or `error::unscripted_call`)
/// naming its arguments and the steps that exist.
///
/// Every call is recorded (`calls()`) with its arguments, start, end and how
/// it ended, and journaled in the sim's trace. A latency is a real pending
/// virtual timer started at the call. No call completes inside the call
/// expression: completions go through the sim's queue to the caller's
/// executor.
///
/// Cancellation: a pending call (in its latency, hanging or held) honours
/// per-operation cancellation of every type (terminal, partial, total) and
/// ends with `operation_aborted` at the instant of emission, so `||`
/// timeouts, parallel_group and co_spawn cancellation all reach it.
/// Destroying the double cancels its pending calls the same way.
///
/// Thread safety: a double belongs to its sim's thread.
template <class R, class... Args>
class async_fake<R(Args...)> {
  using state_type = detail::fake_state<R, Args...>;
  // If you get an error on the following line: Asio's completion signature
  // void(exception_ptr, R) passes an R even when the call fails.
  static_assert(std::is_void_v<R> || std::is_default_constructible_v<R>,
                "async_fake<R(Args...)>: R must be default-constructible");

 public:
  using result_type = R;
  using record_type = call_record<Args...>;

  /// A double on `sim`, named `name` in records, traces and messages.
  /// `file` and `line` default to where it is created; a double destroyed
  /// with script steps nobody looked at reports them there (see `unmet()`).
  async_fake(sim_context& sim, std::string name = "fake", const char* file = __builtin_FILE(),
             int line = __builtin_LINE());
  ~async_fake();
  async_fake(const async_fake&) = delete;
  async_fake& operator=(const async_fake&) = delete;

  /// Adds a rule serving every call.
  script_builder<R, Args...> on_call();
  /// Adds a rule serving calls whose arguments equal `expected...`
  /// (compared with ==, one per parameter).
  template <class... Expected, class = std::enable_if_t<sizeof...(Expected) == sizeof...(Args) &&
                                                        (sizeof...(Args) > 0)>>
  script_builder<R, Args...> on_call(Expected&&... expected);
  /// Adds a rule serving calls for which `pred(args...)` is true.
  template <class Pred>
  script_builder<R, Args...> on_call_if(Pred pred, std::string description = "a predicate");

  /// Holds the next call (whatever its arguments) until the test releases it.
  hold<R, Args...> hold_next();

  /// The calls made so far, in order.
  ///
  /// Records are made when this is read, and updated in place as calls end;
  /// calls made after the last read appear at the next read.
  const std::deque<record_type>& calls() const;
  std::size_t call_count() const;

  /// Script steps never used up and holds never reached or released, one line
  /// each; empty when the script was played out.
  ///
  /// A double destroyed with unmet lines fails the current test, like a gMock
  /// mock with unsatisfied expectations (through `report_failure`, at the
  /// line that created it), unless the test has seen exactly those lines:
  /// read by `unmet()`, `verify()` or `sim.unmet_expectations()` (the
  /// `sim_test` fixture's teardown check reads them).
  std::vector<std::string> unmet() const;
  /// Throws `script_error` listing `unmet()` if it is not empty.
  void verify() const;

  const std::string& name() const noexcept;

  /// Calls the double; completion signature `void(std::exception_ptr, R)`
  /// (or `void(std::exception_ptr)` for void): scripted errors arrive as
  /// `system_error`. Works with any completion token.
  template <class Token>
  auto async_call_ex(Args... args, Token&& token);

  /// Calls the double; completion signature `void(error_code, R)` (or
  /// `void(error_code)`), for callback-style APIs. A scripted exception that
  /// is not a `system_error` arrives as `error::exception_not_representable`.
  template <class Token>
  auto async_call(Args... args, Token&& token);

  /// `co_await fake(args...)`: yields R, or throws what the script says.
  asio::awaitable<R> operator()(Args... args) {
    return async_call_ex(std::move(args)..., asio::use_awaitable);
  }

 private:
  template <bool ErrorCode, class Token>
  auto initiate(std::tuple<std::decay_t<Args>...> args, Token&& token);

  std::shared_ptr<state_type> state_;
};

}  // namespace faultline

#include <faultline/impl/fake.hpp>
