// faultline - the machinery behind async_fake: script matching, call ops, holds.
#pragma once

#include <faultline/fake.hpp>

#include <map>

namespace faultline {
namespace detail {

template <class T>
inline constexpr bool is_plain_integer = std::is_same_v<T, int> || std::is_same_v<T, long> ||
                                         std::is_same_v<T, long long> || std::is_same_v<T, unsigned> ||
                                         std::is_same_v<T, unsigned long> || std::is_same_v<T, unsigned long long>;

// Write `v` in decimal into `digits` and return its length; out of line, so
// that a test file does not parse <charconv>.
std::size_t integer_text(long long v, char (&digits)[24]) noexcept;
std::size_t integer_text(unsigned long long v, char (&digits)[24]) noexcept;

/// The text `append_value` gives `v`; an integer's (std::to_string's text)
/// is written into `digits` with no string at all, anything else into `spill`.
template <class T>
std::string_view result_text(const T& v, char (&digits)[24], std::string& spill) {
  if constexpr (is_plain_integer<T>) {
    using wide = std::conditional_t<std::is_signed_v<T>, long long, unsigned long long>;
    return {digits, integer_text(static_cast<wide>(v), digits)};
  } else {
    append_value(spill, v);
    return spill;
  }
}

[[noreturn]] void throw_script_misuse(const std::string& fake, const std::string& what);
/// Counts the faults a call's plan injects (its latency, its action).
void count_plan_faults(sim_core& core, int kind, bool has_latency) noexcept;
std::exception_ptr chaos_exception(const fault& f);
std::string describe_step_common(const char* verb, sim_clock::duration latency, const std::string& value_text,
                                 std::size_t used, std::size_t times, bool forever);
const char* step_verb(int kind) noexcept;

template <class R, class... Args>
std::string script_step<R, Args...>::describe() const {
  return describe_step_common(step_verb(static_cast<int>(what)), latency, value_text, used, times, forever);
}

/// A call of a double with its plan; the typed half of pending_call.
template <class R, class... Args>
struct typed_call : pending_call {
  typed_call(func_type f, fake_pin p) noexcept : pending_call(f), pin(std::move(p)) {}
  call_plan<R, Args...> plan;
  call_entry<R, Args...>* entry = nullptr;  // its record (a deque's element: it stays put)
  std::uint32_t subject = 0;  // the call's trace subject: its start and end share it
  fake_pin pin;  // keeps the double's records alive until completion
  std::shared_ptr<hold_state<R, Args...>> hold;  // set while a hold owns the call

  fake_state<R, Args...>* owner() const noexcept { return static_cast<fake_state<R, Args...>*>(pin.get()); }
};

/// A latch: waiters suspend until it opens. Used for `hold::reached()`.
struct latch_waiter : ready_op {
  using ready_op::ready_op;
  latch_waiter* next_waiter = nullptr;
  class latch* owner = nullptr;
  std::int64_t since = 0;
  std::uint64_t order = 0;
  boost::system::error_code ec;
};

class latch : public sim_object {
 public:
  latch(sim_core& core, std::string what);
  ~latch();
  bool is_open() const noexcept { return open_; }
  void open();
  void add(latch_waiter* w);
  void cancel(latch_waiter* w) noexcept;
  void describe_pending(std::vector<pending_operation>& out) const override;
  void on_sim_shutdown() noexcept override;

 private:
  std::string what_;
  bool open_ = false;
  latch_waiter* head_ = nullptr;
};

template <class Handler, class IoExecutor>
class latch_op final : public latch_waiter {
 public:
  static latch_op* make(Handler&& h, const IoExecutor& ex) {
    alloc_type alloc;
    latch_op* p = alloc.allocate(1);
    try {
      ::new (static_cast<void*>(p)) latch_op(std::move(h), ex);
    } catch (...) {
      alloc.deallocate(p, 1);
      throw;
    }
    p->slot_ = boost::asio::get_associated_cancellation_slot(p->handler_);
    if (p->slot_.is_connected())
      p->slot_.template emplace<cancellation>(p);
    return p;
  }

 private:
  using alloc_type = boost::asio::recycling_allocator<latch_op>;
  struct cancellation {
    explicit cancellation(latch_op* o) noexcept : op(o) {}
    latch_op* op;
    void operator()(boost::asio::cancellation_type) {
      if (op->owner) op->owner->cancel(op);
    }
  };
  latch_op(Handler&& h, const IoExecutor& ex) : latch_waiter(&do_complete), handler_(std::move(h)), work_(handler_, ex) {}
  static void do_complete(ready_op* base, bool invoke) {
    auto* self = static_cast<latch_op*>(base);
    if (self->slot_.is_connected()) self->slot_.clear();
    Handler handler(std::move(self->handler_));
    handler_work<Handler, IoExecutor> work(std::move(self->work_));
    boost::system::error_code ec = self->ec;
    self->~latch_op();
    alloc_type().deallocate(self, 1);
    if (invoke) work.complete([h = std::move(handler), ec]() mutable { std::move(h)(ec); });
  }

  Handler handler_;
  handler_work<Handler, IoExecutor> work_;
  boost::asio::cancellation_slot slot_;
};

template <class R, class... Args>
class hold_state {
 public:
  hold_state(sim_core& core, std::string what) : reached(core, std::move(what)) {}

  latch reached;
  typed_call<R, Args...>* call = nullptr;  // the held call, while it is held
  bool taken = false;                      // a call arrived
  bool released = false;
  bool call_ended_early = false;           // the held call was cancelled first
  std::weak_ptr<fake_state<R, Args...>> fake;
};

/// The state of a double, shared by its handle, its pending calls and holds.
template <class R, class... Args>
class fake_state final : public fake_core {
 public:
  using args_tuple = std::tuple<std::decay_t<Args>...>;
  using rule_type = script_rule<R, Args...>;
  using plan_type = call_plan<R, Args...>;
  using kind = typename script_step<R, Args...>::kind;

  using entry_type = call_entry<R, Args...>;
  using record_type = call_record<Args...>;

  using fake_core::fake_core;
  ~fake_state() { retire_subjects(); }

  std::vector<rule_type> rules;
  std::deque<entry_type> entries;  // every call, in call order
  std::deque<record_type> records;  // entries[0, size) as `calls()` shows them
  std::map<std::size_t, std::string> detail_texts;  // endings whose text was made at once, by call
  std::deque<std::shared_ptr<hold_state<R, Args...>>> holds;
  std::vector<std::weak_ptr<hold_state<R, Args...>>> all_holds;

  /// The arguments of call `i`, wherever they live now.
  const args_tuple& args_of(std::size_t i) const { return i < records.size() ? records[i].args : entries[i].args; }

  std::string call_text(std::size_t i) const override {
    if (i < records.size()) return records[i].text;
    if constexpr (entry_type::later_args)
      return format_call(name(), entries[i].args);
    else
      return entries[i].text;
  }

  /// The value, exception or error call `i` ended with, as text.
  std::string detail_text(std::size_t i) const {
    if constexpr (!std::is_void_v<R> && entry_type::later_value) {
      const entry_type& e = entries[i];
      if (e.has_value) {
        char digits[24];
        std::string spill;
        return std::string(result_text(e.value, digits, spill));
      }
    }
    auto it = detail_texts.find(i);
    return it == detail_texts.end() ? std::string() : it->second;
  }

  /// Copies how call `i` ended into its public record.
  void fill_ending(record_type& r, std::size_t i) const {
    const entry_type& e = entries[i];
    r.status = e.status;
    if (e.status == call_status::pending) return;
    r.ended = sim_clock::time_point(sim_clock::duration(e.ended));
    r.detail = detail_text(i);
  }

  /// The public records, made for the calls since the last read.
  const std::deque<record_type>& view() {
    while (records.size() < entries.size()) {
      const std::size_t i = records.size();
      entry_type& e = entries[i];
      record_type r;
      r.index = i;
      r.text = call_text(i);  // before the arguments move
      r.args = std::move(e.args);
      r.started = sim_clock::time_point(sim_clock::duration(e.started));
      r.held = e.held;
      fill_ending(r, i);
      records.push_back(std::move(r));
    }
    return records;
  }

  /// Records how call `i` (entry `e`) ended; `text` is its detail, made already for the trace.
  void end_call(entry_type& e, std::size_t i, std::int64_t now, call_status status, std::string_view text) {
    e.ended = now;
    e.status = status;
    const bool kept = entry_type::later_value && status == call_status::returned;
    if (!kept && !text.empty()) detail_texts.emplace(i, std::string(text));
    if (i < records.size()) fill_ending(records[i], i);
  }

  /// Picks the step that serves call `index` (with `args`), uses it up by
  /// one, and writes what the call will do into `p` (a fresh plan).
  void choose(const args_tuple& args, std::size_t index, plan_type& p) {
    for (std::size_t i = rules.size(); i-- > 0;) {
      rule_type& r = rules[i];
      if (r.used_up() || !std::apply(r.matches, args)) continue;
      auto& step = r.steps[r.current];
      if (step.what == kind::none) {
        p.exception = std::make_exception_ptr(script_error(
            "faultline: " + call_text(index) + " matched " + r.description + ", whose step " +
            std::to_string(r.current + 1) +
            " has no action; end it with returns, throws, fails, hangs, cancels or invokes"));
        return;
      }
      ++step.used;
      const bool last_use = step.used_up();
      if (last_use) ++r.current;
      p.what = step.what;
      p.latency = step.latency;
      p.ec = step.ec;
      if (step.exception) p.exception = step.exception;
      if (step.what == kind::invokes) p.fn = step.fn;
      if (step.value) {
        if constexpr (std::is_copy_constructible_v<value_slot<R>>)
          p.value.emplace(*step.value);
        else
          p.value.emplace(std::move(*step.value));
      }
      return;
    }
    p.exception = std::make_exception_ptr(script_error(unscripted_message(call_text(index))));
  }

  std::string unscripted_message(const std::string& call_text) const {
    std::string s = "faultline: " + call_text + " matches no script step";
    if (rules.empty()) return s + "; the script is empty: add a step with " + name() + ".on_call()...";
    s += "; the script has:";
    for (const auto& r : rules) {
      s += "\n  " + r.description + ":";
      for (const auto& step : r.steps) s += " " + step.describe() + ";";
    }
    return s;
  }

  std::vector<std::string> unmet() const override {
    std::vector<std::string> out;
    for (const auto& r : rules)
      for (std::size_t i = 0; i < r.steps.size(); ++i) {
        const auto& step = r.steps[i];
        if (!step.forever && step.used < step.times)
          out.push_back(name() + "." + r.description + " step " + std::to_string(i + 1) + " " + step.describe() +
                        ": never used up");
      }
    for (const auto& w : all_holds) {
      auto h = w.lock();
      if (!h) continue;
      if (!h->taken)
        out.push_back(name() + ": a hold was set (hold_next) but no call reached it");
      else if (!h->released && !h->call_ended_early)
        out.push_back(name() + ": a hold on call #" + std::to_string(h->call ? h->call->index : 0) +
                      " was never released");
    }
    return out;
  }
};

/// Completes one call of a double. ErrorCode selects the completion
/// signature: void(error_code, R) or void(exception_ptr, R).
template <bool ErrorCode, class R, class Handler, class IoExecutor, class... Args>
class call_op final : public typed_call<R, Args...> {
  using base = typed_call<R, Args...>;
  using kind = typename script_step<R, Args...>::kind;

 public:
  static call_op* make(Handler&& h, const IoExecutor& ex, fake_pin pin) {
    alloc_type alloc;
    call_op* p = alloc.allocate(1);
    try {
      ::new (static_cast<void*>(p)) call_op(std::move(h), ex, std::move(pin));
    } catch (...) {
      alloc.deallocate(p, 1);
      throw;
    }
    return p;
  }

  /// Hooks the handler's cancellation slot; done once the op is linked.
  void connect_cancellation() {
    slot_ = boost::asio::get_associated_cancellation_slot(handler_);
    if (slot_.is_connected()) slot_.template emplace<cancellation>(this);
  }

 private:
  using alloc_type = boost::asio::recycling_allocator<call_op>;
  struct cancellation {
    explicit cancellation(call_op* o) noexcept : op(o) {}
    call_op* op;
    void operator()(boost::asio::cancellation_type type) {
      using ct = boost::asio::cancellation_type;
      if ((type & (ct::terminal | ct::partial | ct::total)) != ct::none) op->owner()->cancel_call(op);
    }
  };

  call_op(Handler&& h, const IoExecutor& ex, fake_pin pin)
      : base(&do_complete, std::move(pin)), handler_(std::move(h)), work_(handler_, ex) {}

  static void do_complete(ready_op* op_base, bool invoke) {
    auto* self = static_cast<call_op*>(op_base);
    if (self->slot_.is_connected()) self->slot_.clear();
    // Declared first, dropped last: the double's state outlives the handler call.
    fake_pin pin(std::move(self->pin));
    auto* owner = static_cast<fake_state<R, Args...>*>(pin.get());
    owner->remove_pending(self);
    if (auto h = std::move(self->hold)) {
      h->call = nullptr;
      if (self->ec == boost::asio::error::operation_aborted && !h->released) h->call_ended_early = true;
    }
    Handler handler(std::move(self->handler_));
    handler_work<Handler, IoExecutor> work(std::move(self->work_));
    call_plan<R, Args...> plan(std::move(self->plan));
    const boost::system::error_code ec = self->ec;
    const std::size_t index = self->index;
    auto& entry = *self->entry;
    const std::uint32_t subject = self->subject;
    self->~call_op();
    alloc_type().deallocate(self, 1);
    if (!invoke) return;

    // Work out how the call ends, then record it, then deliver it.
    std::exception_ptr ex;
    boost::system::error_code err;
    std::optional<value_slot<R>> value;
    call_status status = call_status::returned;
    if (ec == boost::asio::error::operation_aborted || plan.what == kind::cancels) {
      err = boost::asio::error::operation_aborted;
      status = call_status::cancelled;
    } else if (plan.what == kind::fails) {
      err = plan.ec;
      status = call_status::failed;
    } else if (plan.what == kind::returns) {
      value = std::move(plan.value);
    } else if (plan.what == kind::invokes) {
      try {
        if constexpr (std::is_void_v<R>) {
          std::apply(plan.fn, owner->args_of(index));
          value.emplace();
        } else {
          value.emplace(std::apply(plan.fn, owner->args_of(index)));
        }
      } catch (...) {
        ex = std::current_exception();
        status = call_status::threw;
      }
    } else {  // throws, or no step served the call
      ex = plan.exception;
      status = call_status::threw;
    }

    // The trace's detail is made now (its hash covers the text); the
    // record keeps a copy of a plain value instead and prints it when read.
    sim_core& core = owner->live("async_fake");
    std::string detail;
    char digits[24];
    std::string_view text;
    event_kind ev = event_kind::call_returned;
    switch (status) {
      case call_status::returned:
        if constexpr (!std::is_void_v<R>) {
          text = result_text(*value, digits, detail);
          if constexpr (call_entry<R, Args...>::later_value) {
            entry.value = *value;
            entry.has_value = true;
          }
        }
        break;
      case call_status::threw:
        detail = describe_exception(ex);
        text = detail;
        ev = event_kind::call_threw;
        break;
      case call_status::failed:
        detail = err.message();
        text = detail;
        ev = event_kind::call_failed;
        break;
      case call_status::cancelled:
        ev = event_kind::call_cancelled;
        break;
      case call_status::pending:
        break;
    }
    owner->end_call(entry, index, core.now(), status, text);
    core.journal().record(core.now(), ev, subject, 0, text);

    if constexpr (ErrorCode) {
      if (ex) {
        try {
          std::rethrow_exception(ex);
        } catch (const script_error&) {
          err = error::unscripted_call;
        } catch (const boost::system::system_error& e) {
          err = e.code();
        } catch (...) {
          err = error::exception_not_representable;
        }
      }
      deliver(work, std::move(handler), err, std::move(value));
    } else {
      if (err && !ex) ex = std::make_exception_ptr(boost::system::system_error(err));
      deliver(work, std::move(handler), ex, std::move(value));
    }
  }

  template <class First>
  static void deliver(handler_work<Handler, IoExecutor>& work, Handler&& handler, First first,
                      std::optional<value_slot<R>>&& value) {
    if constexpr (std::is_void_v<R>) {
      work.complete([h = std::move(handler), first]() mutable { std::move(h)(first); });
    } else {
      R v = value ? std::move(*value) : R{};
      work.complete([h = std::move(handler), first, v = std::move(v)]() mutable { std::move(h)(first, std::move(v)); });
    }
  }

  Handler handler_;
  handler_work<Handler, IoExecutor> work_;
  boost::asio::cancellation_slot slot_;
};

/// Lets the sim's chaos engine change a call's plan: the script step is
/// used up either way, so faults never shift which step serves later calls.
template <class R, class... Args>
void apply_chaos(sim_core& core, const std::string& point, std::uint32_t subject, call_plan<R, Args...>& plan) {
  using kind = typename script_step<R, Args...>::kind;
  auto f = core.chaos().draw(point, subject);
  // An unscripted call is the test's mistake: chaos must not hide it.
  if (!f || plan.what == kind::none) return;
  switch (f->kind) {
    case fault_kind::latency:
      plan.latency = sim_clock::duration(detail::saturating_deadline(plan.latency.count(), f->latency.count()));
      return;
    case fault_kind::error:
      plan.what = kind::fails;
      plan.ec = f->error_code;
      break;
    case fault_kind::exception:
      plan.what = kind::throws;
      plan.exception = chaos_exception(*f);
      return;
    case fault_kind::hang: plan.what = kind::hangs; break;
    case fault_kind::cancel: plan.what = kind::cancels; break;
    case fault_kind::clock: return;  // draw() never returns one: wall clocks only
  }
  plan.value.reset();
}

/// Starts `op` as `plan` says, from now: queued at once, in the heap for its
/// latency, or hanging until cancelled.
template <class R, class... Args>
void start_call(sim_core& core, fake_state<R, Args...>& state, typed_call<R, Args...>* op) {
  using kind = typename script_step<R, Args...>::kind;
  if (op->plan.what == kind::hangs) {
    op->st = pending_call::state::hanging;
    core.journal().record(core.now(), event_kind::fault, op->subject, 0, "hangs until cancelled");
  } else if (op->plan.latency.count() > 0) {
    op->st = pending_call::state::latency;
    core.schedule(op, detail::saturating_deadline(core.now(), op->plan.latency.count()));
  } else {
    op->st = pending_call::state::completing;
    core.post(op);
    return;
  }
  state.add_pending(op);
}

template <class R, class... Args>
typed_call<R, Args...>* take_held(hold_state<R, Args...>& h, const char* caller) {
  auto fake = h.fake.lock();
  if (!fake) throw_script_misuse("async_fake", std::string(caller) + ": the double this hold belongs to is gone");
  fake->live(caller);  // the sim dropped the held call with everything else
  if (h.released)
    throw_script_misuse(fake->name(), std::string(caller) + ": this hold was already released; a hold releases one call");
  if (!h.taken)
    throw_script_misuse(fake->name(), std::string(caller) +
                                          ": no call has reached this hold yet; co_await h.reached() first");
  h.released = true;
  if (!h.call) return nullptr;  // the call was cancelled while held
  auto* op = h.call;
  fake->remove_pending(op);
  h.call = nullptr;
  op->hold.reset();  // may destroy `h`: nothing below touches it
  return op;
}

}  // namespace detail

// -- call_record --------------------------------------------------------------

template <class... Args>
std::string call_record<Args...>::describe() const {
  return detail::describe_call(text, started, ended, status, detail);
}

// -- script_builder -----------------------------------------------------------

template <class R, class... Args>
auto script_builder<R, Args...>::current() -> step_type& {
  return state_->rules[rule_].steps.back();
}

template <class R, class... Args>
auto script_builder<R, Args...>::action(kind k, const char* verb) -> step_type& {
  step_type& s = current();
  if (s.what != kind::none)
    detail::throw_script_misuse(state_->name(), std::string("this step already ") + detail::step_verb(static_cast<int>(s.what)) +
                                                    "; call .then() before ." + verb + "() to script the next call");
  s.what = k;
  return s;
}

template <class R, class... Args>
script_builder<R, Args...>& script_builder<R, Args...>::after(sim_clock::duration d) {
  if (d.count() < 0)
    detail::throw_script_misuse(state_->name(), "after(" + to_string(d) + "): a latency cannot be negative");
  current().latency = d;
  return *this;
}

template <class R, class... Args>
script_builder<R, Args...>& script_builder<R, Args...>::times(std::size_t n) {
  if (n == 0) detail::throw_script_misuse(state_->name(), "times(0): a step must serve at least one call");
  if constexpr (!std::is_copy_constructible_v<detail::value_slot<R>>)
    if (n > 1)
      detail::throw_script_misuse(state_->name(), "times(" + std::to_string(n) +
                                                      "): a move-only value can be returned once; script one step per call");
  current().times = n;
  current().forever = false;
  return *this;
}

template <class R, class... Args>
script_builder<R, Args...>& script_builder<R, Args...>::repeatedly() {
  if constexpr (!std::is_copy_constructible_v<detail::value_slot<R>>)
    detail::throw_script_misuse(state_->name(), "repeatedly(): a move-only value can be returned once");
  current().forever = true;
  return *this;
}

template <class R, class... Args>
script_builder<R, Args...>& script_builder<R, Args...>::then() {
  auto& steps = state_->rules[rule_].steps;
  if (steps.back().what == step_type::kind::none)
    detail::throw_script_misuse(state_->name(), "then(): the current step has no action yet");
  if (steps.back().forever)
    detail::throw_script_misuse(state_->name(), "then() after repeatedly(): the step before serves every call");
  steps.emplace_back();
  return *this;
}

// -- hold ---------------------------------------------------------------------

template <class R, class... Args>
template <class Token>
auto hold<R, Args...>::async_reached(Token&& token) {
  auto init = [](auto handler, std::shared_ptr<detail::hold_state<R, Args...>> s) {
    using handler_type = decltype(handler);
    auto fake = s->fake.lock();
    if (!fake) detail::throw_script_misuse("async_fake", "hold::reached: the double is gone");
    detail::sim_core& core = fake->live("hold::reached");
    auto ex = sim_context::executor_type(core.context().get_executor());
    auto* op = detail::latch_op<handler_type, sim_context::executor_type>::make(std::move(handler), ex);
    op->since = core.now();
    op->order = core.journal().total();
    s->reached.add(op);
  };
  return asio::async_initiate<Token, void(boost::system::error_code)>(init, token, state_);
}

template <class R, class... Args>
bool hold<R, Args...>::was_reached() const noexcept {
  return state_->taken;
}

template <class R, class... Args>
void hold<R, Args...>::release() {
  auto* op = detail::take_held(*state_, "hold::release");
  if (!op) return;
  auto& fake = *op->owner();
  detail::sim_core& core = fake.live("hold::release");
  fake.choose(fake.args_of(op->index), op->index, op->plan);
  detail::start_call(core, fake, op);
}

template <class R, class... Args>
template <class V, class, class>
void hold<R, Args...>::release_with(V&& v) {
  auto* op = detail::take_held(*state_, "hold::release_with");
  if (!op) return;
  op->plan = {};
  op->plan.what = detail::script_step<R, Args...>::kind::returns;
  op->plan.value.emplace(std::forward<V>(v));
  detail::start_call(op->owner()->live("hold::release_with"), *op->owner(), op);
}

template <class R, class... Args>
template <class, class>
void hold<R, Args...>::release_with() {
  auto* op = detail::take_held(*state_, "hold::release_with");
  if (!op) return;
  op->plan = {};
  op->plan.what = detail::script_step<R, Args...>::kind::returns;
  op->plan.value.emplace();
  detail::start_call(op->owner()->live("hold::release_with"), *op->owner(), op);
}

template <class R, class... Args>
void hold<R, Args...>::fail(boost::system::error_code ec) {
  auto* op = detail::take_held(*state_, "hold::fail");
  if (!op) return;
  op->plan = {};
  op->plan.what = detail::script_step<R, Args...>::kind::fails;
  op->plan.ec = ec;
  detail::start_call(op->owner()->live("hold::fail"), *op->owner(), op);
}

template <class R, class... Args>
template <class E, class>
void hold<R, Args...>::fail(E e) {
  auto* op = detail::take_held(*state_, "hold::fail");
  if (!op) return;
  op->plan = {};
  op->plan.what = detail::script_step<R, Args...>::kind::throws;
  op->plan.exception = std::make_exception_ptr(std::move(e));
  detail::start_call(op->owner()->live("hold::fail"), *op->owner(), op);
}

// -- async_fake ---------------------------------------------------------------

template <class R, class... Args>
async_fake<R(Args...)>::async_fake(sim_context& sim, std::string name, const char* file, int line)
    : state_(std::make_shared<state_type>(sim.core(), std::move(name), file, line)) {}

template <class R, class... Args>
async_fake<R(Args...)>::~async_fake() {
  state_->report_unmet_at_destruction();
  if (state_->core()) state_->cancel_all();
  // Calls still queued or being started end after the handle: they keep the state.
  if (state_->pins) state_->keep_alive = state_;
}

template <class R, class... Args>
const std::string& async_fake<R(Args...)>::name() const noexcept {
  return state_->name();
}

template <class R, class... Args>
script_builder<R, Args...> async_fake<R(Args...)>::on_call() {
  return on_call_if([](const std::decay_t<Args>&...) { return true; }, "on_call(any)");
}

template <class R, class... Args>
template <class... Expected, class>
script_builder<R, Args...> async_fake<R(Args...)>::on_call(Expected&&... expected) {
  std::tuple<std::decay_t<Expected>...> want(std::forward<Expected>(expected)...);
  std::string text = detail::format_call("on_call", want);
  return on_call_if(
      [want = std::move(want)](const std::decay_t<Args>&... args) {
        return std::apply([&](const auto&... w) { return ((args == w) && ...); }, want);
      },
      std::move(text));
}

template <class R, class... Args>
template <class Pred>
script_builder<R, Args...> async_fake<R(Args...)>::on_call_if(Pred pred, std::string description) {
  auto& rule = state_->rules.emplace_back();
  rule.matches = std::move(pred);
  rule.description = description.rfind("on_call", 0) == 0 ? std::move(description)
                                                           : "on_call_if(" + std::move(description) + ")";
  rule.steps.emplace_back();
  return script_builder<R, Args...>(state_, state_->rules.size() - 1);
}

template <class R, class... Args>
hold<R, Args...> async_fake<R(Args...)>::hold_next() {
  auto& core = state_->live("async_fake::hold_next");
  auto h = std::make_shared<detail::hold_state<R, Args...>>(core, "hold on " + state_->name());
  h->fake = state_;
  state_->holds.push_back(h);
  state_->all_holds.push_back(h);
  return hold<R, Args...>(std::move(h));
}

template <class R, class... Args>
auto async_fake<R(Args...)>::calls() const -> const std::deque<record_type>& {
  return state_->view();
}

template <class R, class... Args>
std::size_t async_fake<R(Args...)>::call_count() const {
  return state_->entries.size();
}

template <class R, class... Args>
std::vector<std::string> async_fake<R(Args...)>::unmet() const {
  return state_->unmet_seen();
}

template <class R, class... Args>
void async_fake<R(Args...)>::verify() const {
  auto u = unmet();
  if (u.empty()) return;
  std::string msg = "faultline: " + name() + " has unmet expectations:";
  for (auto& line : u) msg += "\n  " + line;
  throw script_error(msg);
}

template <class R, class... Args>
template <bool ErrorCode, class Token>
auto async_fake<R(Args...)>::initiate(std::tuple<std::decay_t<Args>...> args, Token&& token) {
  using first_arg = std::conditional_t<ErrorCode, boost::system::error_code, std::exception_ptr>;
  using signature = std::conditional_t<std::is_void_v<R>, void(first_arg), void(first_arg, detail::value_slot<R>)>;
  // The initiation holds a pin, not a shared_ptr: it may run later (use_awaitable
  // starts it at co_await), and a pin costs no atomic count.
  auto init = [](auto handler, detail::fake_pin pin, std::tuple<std::decay_t<Args>...> args) {
    using handler_type = decltype(handler);
    auto* state = static_cast<state_type*>(pin.get());
    detail::sim_core& core = state->live("async_fake call");
    auto ex = sim_context::executor_type(core.context().get_executor());
    {
      // A caller on an io_context or another sim would wait forever: the
      // call fails at once instead, through the caller's own executor.
      auto caller_ex = asio::get_associated_executor(handler, ex);
      auto& caller_ctx = asio::query(caller_ex, asio::execution::context);
      if (!state->caller_can_wait(caller_ctx)) [[unlikely]] {
        std::string why = state->wrong_caller(caller_ctx);
        first_arg first;
        if constexpr (ErrorCode)
          first = asio::error::operation_not_supported;
        else
          first = std::make_exception_ptr(std::logic_error(why));
        asio::post(caller_ex, [h = std::move(handler), first]() mutable {
          if constexpr (std::is_void_v<R>)
            std::move(h)(first);
          else
            std::move(h)(first, R{});
        });
        return;
      }
    }
    using op_type = detail::call_op<ErrorCode, R, handler_type, sim_context::executor_type, Args...>;

    // Only what the call needs now: its text is made when someone reads it.
    const std::size_t index = state->entries.size();
    auto& e = state->entries.emplace_back();
    e.args = std::move(args);
    if constexpr (!detail::call_entry<R, Args...>::later_args) e.text = detail::format_call(state->name(), e.args);
    e.started = core.now();
    const std::uint64_t order = core.journal().total();
    const std::uint32_t subject = state->add_call_subject(core, index);
    core.journal().record(core.now(), event_kind::call, subject);

    op_type* op = op_type::make(std::move(handler), ex, std::move(pin));
    op->index = index;
    op->entry = &e;
    op->subject = subject;
    op->since = core.now();
    op->order = order;
    op->connect_cancellation();
    if (!state->holds.empty()) {
      auto h = std::move(state->holds.front());
      state->holds.pop_front();
      e.held = true;
      h->taken = true;
      h->call = op;
      op->hold = h;
      op->st = detail::pending_call::state::held;
      state->add_pending(op);
      h->reached.open();
      return;
    }
    state->choose(e.args, index, op->plan);
    if (core.chaos_active()) [[unlikely]]
      detail::apply_chaos(core, state->name(), subject, op->plan);
    detail::count_plan_faults(core, static_cast<int>(op->plan.what), op->plan.latency.count() > 0);
    detail::start_call(core, *state, op);
  };
  return asio::async_initiate<Token, signature>(init, token, detail::fake_pin(state_.get()), std::move(args));
}

template <class R, class... Args>
template <class Token>
auto async_fake<R(Args...)>::async_call_ex(Args... args, Token&& token) {
  return initiate<false>(std::tuple<std::decay_t<Args>...>(std::move(args)...), std::forward<Token>(token));
}

template <class R, class... Args>
template <class Token>
auto async_fake<R(Args...)>::async_call(Args... args, Token&& token) {
  return initiate<true>(std::tuple<std::decay_t<Args>...>(std::move(args)...), std::forward<Token>(token));
}

}  // namespace faultline
