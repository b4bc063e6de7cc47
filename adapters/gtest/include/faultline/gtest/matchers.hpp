// faultline - gMock matchers for outcomes, call records of doubles, and trace events.
#pragma once

#include <faultline/fake.hpp>
#include <faultline/gtest/print.hpp>
#include <faultline/outcome.hpp>
#include <faultline/sim_clock.hpp>
#include <faultline/sim_context.hpp>
#include <faultline/trace.hpp>

#include <gmock/gmock-matchers.h>
#include <boost/system/error_code.hpp>
#include <boost/system/system_error.hpp>

#include <cstddef>
#include <exception>
#include <optional>
#include <ostream>
#include <string>
#include <tuple>
#include <type_traits>
#include <typeinfo>
#include <utility>
#include <vector>

namespace faultline::testing {

namespace detail {

/// The demangled name of a type, with `std::string` spelled so.
std::string type_name(const std::type_info& t);
/// The demangled dynamic type of an exception: "std::runtime_error".
std::string exception_type(const std::exception_ptr& e);
/// "system:111 (Connection refused)".
std::string describe_error_code(const boost::system::error_code& ec);
/// The tail of a list of events for an explanation: "; the last ones: ...".
std::string events_tail(const std::vector<trace_event>& events, std::size_t last);

template <class O>
struct outcome_traits : std::false_type {};
template <class T>
struct outcome_traits<outcome<T>> : std::true_type {
  using value_type = T;
};

template <class R>
struct record_traits : std::false_type {};
template <class... Args>
struct record_traits<call_record<Args...>> : std::true_type {
  using args_type = std::tuple<std::decay_t<Args>...>;
};

// Explanations never restate the outcome, record or event they explain:
// GoogleTest prints it right before ("Actual: returned 41 at t=1.000s"), so
// an explanation adds only what that text does not say, or nothing.

/// The hint for a cancellation matched as an exception or an error.
inline void explain_cancellation(::testing::MatchResultListener* l) {
  *l << "which is a cancellation: match it with WasCancelled()";
}

template <class M>
void describe(const M& m, std::ostream* os, bool negation = false) {
  if (negation)
    m.DescribeNegationTo(os);
  else
    m.DescribeTo(os);
}

// -- outcome ------------------------------------------------------------------

template <class M>
class returned_matcher {
 public:
  explicit returned_matcher(M m) : m_(std::move(m)) {}

  template <class O>
  operator ::testing::Matcher<O>() const {  // NOLINT
    using outcome_type = std::remove_cvref_t<O>;
    // If you get an error on the following line: Returned() matches a
    // faultline::outcome<T> (from sim.run(...) or task.result()).
    static_assert(outcome_traits<outcome_type>::value, "faultline: Returned() matches a faultline::outcome<T>");
    using T = typename outcome_traits<outcome_type>::value_type;
    return ::testing::Matcher<O>(new impl<T>(m_));
  }

 private:
  template <class T>
  class impl final : public ::testing::MatcherInterface<const outcome<T>&> {
   public:
    explicit impl(const M& m) : inner_(cast(m)) {}

    bool MatchAndExplain(const outcome<T>& o, ::testing::MatchResultListener* l) const override {
      if (!o.has_value()) return false;  // the printed outcome says how it ended
      if constexpr (std::is_void_v<T>) {
        return true;
      } else {
        if (!inner_) return true;
        ::testing::StringMatchResultListener inner;
        const bool ok = inner_->MatchAndExplain(o.value(), &inner);
        if (!ok) *l << inner.str();
        return ok;
      }
    }
    void DescribeTo(std::ostream* os) const override {
      *os << "returned";
      if (inner_) {
        *os << " a value that ";
        inner_->DescribeTo(os);
      }
    }
    void DescribeNegationTo(std::ostream* os) const override {
      *os << "did not return";
      if (inner_) {
        *os << " a value that ";
        inner_->DescribeTo(os);
      }
    }

   private:
    template <class U>
    struct matcher_of {
      using type = ::testing::Matcher<const U&>;
    };
    template <class U>
    struct matcher_of_void {
      using type = ::testing::Matcher<int>;  // unused: outcome<void> has no value
    };
    using value_matcher = typename std::conditional_t<std::is_void_v<T>, matcher_of_void<T>, matcher_of<T>>::type;
    static std::optional<value_matcher> cast(const M& m) {
      if constexpr (std::is_same_v<M, std::nullptr_t>) {
        return std::nullopt;
      } else {
        // If you get an error on the following line: Returned(m) on an
        // outcome<void>; there is no value to match, write Returned().
        static_assert(!std::is_void_v<T>, "faultline: Returned(m) on an outcome<void>: write Returned()");
        return ::testing::SafeMatcherCast<const T&>(m);
      }
    }
    std::optional<value_matcher> inner_;
  };

  M m_;
};

template <class E>
class threw_matcher {
 public:
  explicit threw_matcher(std::optional<::testing::Matcher<const std::string&>> what) : what_(std::move(what)) {}

  template <class T>
  bool MatchAndExplain(const outcome<T>& o, ::testing::MatchResultListener* l) const {
    if (!o.has_exception()) {
      if (o.was_cancelled()) explain_cancellation(l);
      return false;
    }
    try {
      std::rethrow_exception(o.exception());
    } catch (const E& e) {
      if (!what_) return true;
      ::testing::StringMatchResultListener inner;
      const bool ok = what_->MatchAndExplain(std::string(e.what()), &inner);
      if (!ok) *l << inner.str();
      return ok;
    } catch (...) {
    }
    return false;  // the printed outcome names the exception's type
  }
  void DescribeTo(std::ostream* os) const { describe_to(os, "threw "); }
  void DescribeNegationTo(std::ostream* os) const { describe_to(os, "did not throw "); }

 private:
  void describe_to(std::ostream* os, const char* verb) const {
    *os << verb << type_name(typeid(E));
    if (what_) {
      *os << " whose what() ";
      what_->DescribeTo(os);
    }
  }
  std::optional<::testing::Matcher<const std::string&>> what_;
};

class failed_matcher {
 public:
  explicit failed_matcher(boost::system::error_code ec) : ec_(ec) {}

  template <class T>
  bool MatchAndExplain(const outcome<T>& o, ::testing::MatchResultListener* l) const {
    if (o.has_exception()) {
      try {
        std::rethrow_exception(o.exception());
      } catch (const boost::system::system_error& e) {
        if (e.code() == ec_) return true;
        // what() need not show the code; the category and number are what differ.
        *l << "whose code is " << describe_error_code(e.code());
        return false;
      } catch (...) {
      }
    }
    if (o.was_cancelled()) explain_cancellation(l);
    return false;
  }
  void DescribeTo(std::ostream* os) const { *os << "failed with " << describe_error_code(ec_); }
  void DescribeNegationTo(std::ostream* os) const { *os << "did not fail with " << describe_error_code(ec_); }

 private:
  boost::system::error_code ec_;
};

class cancelled_matcher {
 public:
  template <class T>
  bool MatchAndExplain(const outcome<T>& o, ::testing::MatchResultListener* /*l*/) const {
    return o.was_cancelled();  // the printed outcome says how it ended instead
  }
  void DescribeTo(std::ostream* os) const { *os << "was cancelled"; }
  void DescribeNegationTo(std::ostream* os) const { *os << "was not cancelled"; }
};

/// Compares an instant with an exact one or a matcher; says how far off it is.
class instant_check {
 public:
  explicit instant_check(sim_clock::time_point t) : exact_(t), m_(::testing::Eq(t)) {}
  explicit instant_check(::testing::Matcher<sim_clock::time_point> m) : m_(std::move(m)) {}

  /// `verb` null: the subject prints its own instant, so only the offset is
  /// explained ("which is 0.500s late").
  bool check(sim_clock::time_point t, const char* verb, ::testing::MatchResultListener* l) const;
  void describe(std::ostream* os, const char* verb) const;

 private:
  std::optional<sim_clock::time_point> exact_;
  ::testing::Matcher<sim_clock::time_point> m_;
};

class completed_at_matcher {
 public:
  explicit completed_at_matcher(instant_check c) : c_(std::move(c)) {}

  template <class T>
  bool MatchAndExplain(const outcome<T>& o, ::testing::MatchResultListener* l) const {
    return c_.check(o.completed_at(), nullptr, l);
  }
  void DescribeTo(std::ostream* os) const { c_.describe(os, "completed"); }
  void DescribeNegationTo(std::ostream* os) const {
    *os << "did not ";
    c_.describe(os, "complete");
  }

 private:
  instant_check c_;
};

class completed_within_matcher {
 public:
  explicit completed_within_matcher(sim_clock::duration d) : d_(d) {}

  template <class T>
  bool MatchAndExplain(const outcome<T>& o, ::testing::MatchResultListener* l) const {
    return check(o.completed_at(), l);
  }
  void DescribeTo(std::ostream* os) const;
  void DescribeNegationTo(std::ostream* os) const;

 private:
  bool check(sim_clock::time_point t, ::testing::MatchResultListener* l) const;
  sim_clock::duration d_;
};

// -- call records ---------------------------------------------------------------

class called_at_matcher {
 public:
  explicit called_at_matcher(instant_check c) : c_(std::move(c)) {}

  template <class O>
  bool MatchAndExplain(const O& o, ::testing::MatchResultListener* l) const {
    if constexpr (record_traits<O>::value) {
      return c_.check(o.started, nullptr, l);
    } else {
      // Anything else (gMock's argument tuple in `.With(CalledAt(t))`, or
      // one argument): the call is being made now, so its instant is the
      // running sim's clock.
      return check_now(l);
    }
  }
  void DescribeTo(std::ostream* os) const { c_.describe(os, "was called"); }
  void DescribeNegationTo(std::ostream* os) const {
    *os << "was not ";
    c_.describe(os, "called");
  }

 private:
  bool check_now(::testing::MatchResultListener* l) const;
  instant_check c_;
};

template <class... Ms>
class called_with_matcher {
 public:
  explicit called_with_matcher(Ms... ms) : ms_(std::move(ms)...) {}

  template <class O>
  operator ::testing::Matcher<O>() const {  // NOLINT
    using record_type = std::remove_cvref_t<O>;
    // If you get an error on the following line: CalledWith() matches a
    // faultline::call_record (an element of fake.calls()).
    static_assert(record_traits<record_type>::value, "faultline: CalledWith() matches a faultline::call_record");
    using args_type = typename record_traits<record_type>::args_type;
    // If you get an error on the following line: give CalledWith one value
    // or matcher per parameter of the double (::testing::_ for any).
    static_assert(std::tuple_size_v<args_type> == sizeof...(Ms),
                  "faultline: CalledWith() takes one matcher per parameter of the double");
    return ::testing::Matcher<O>(new impl<record_type>(ms_, std::make_index_sequence<sizeof...(Ms)>{}));
  }

 private:
  template <class Record>
  class impl final : public ::testing::MatcherInterface<const Record&> {
    using args_type = typename record_traits<Record>::args_type;
    template <class S>
    struct matchers_of;
    template <std::size_t... I>
    struct matchers_of<std::index_sequence<I...>> {
      using type = std::tuple<::testing::Matcher<const std::tuple_element_t<I, args_type>&>...>;
    };
    using matchers_type = typename matchers_of<std::make_index_sequence<sizeof...(Ms)>>::type;

   public:
    template <std::size_t... I>
    impl(const std::tuple<Ms...>& ms, std::index_sequence<I...>)
        : ms_(::testing::SafeMatcherCast<const std::tuple_element_t<I, args_type>&>(std::get<I>(ms))...) {}

    bool MatchAndExplain(const Record& r, ::testing::MatchResultListener* l) const override {
      return match(r, l, std::make_index_sequence<sizeof...(Ms)>{});
    }
    void DescribeTo(std::ostream* os) const override { describe(os, "was called with "); }
    void DescribeNegationTo(std::ostream* os) const override { describe(os, "was not called with "); }

   private:
    template <std::size_t... I>
    bool match(const Record& r, ::testing::MatchResultListener* l, std::index_sequence<I...>) const {
      bool ok = true;
      // Stops at the first argument that does not match and explains it.
      ((ok = ok && match_one<I>(r, l)), ...);
      return ok;
    }
    template <std::size_t I>
    bool match_one(const Record& r, ::testing::MatchResultListener* l) const {
      ::testing::StringMatchResultListener inner;
      if (std::get<I>(ms_).MatchAndExplain(std::get<I>(r.args), &inner)) return true;
      *l << "whose argument #" << I << " is " << ::testing::PrintToString(std::get<I>(r.args));
      if (!inner.str().empty()) *l << ", " << inner.str();
      return false;
    }
    void describe(std::ostream* os, const char* verb) const {
      *os << verb << "(";
      describe_each(os, std::make_index_sequence<sizeof...(Ms)>{});
      *os << ")";
    }
    template <std::size_t... I>
    void describe_each(std::ostream* os, std::index_sequence<I...>) const {
      ((*os << (I == 0 ? "" : ", "), std::get<I>(ms_).DescribeTo(os)), ...);
    }

    matchers_type ms_;
  };

  std::tuple<Ms...> ms_;
};

class ended_by_matcher {
 public:
  ended_by_matcher(std::optional<call_status> exact, ::testing::Matcher<call_status> status,
                   std::optional<::testing::Matcher<const std::string&>> detail)
      : exact_(exact), status_(std::move(status)), detail_(std::move(detail)) {}

  template <class... Args>
  bool MatchAndExplain(const call_record<Args...>& r, ::testing::MatchResultListener* l) const {
    return check(r.status, r.detail, l);
  }
  void DescribeTo(std::ostream* os) const { describe(os, "ended "); }
  void DescribeNegationTo(std::ostream* os) const { describe(os, "did not end "); }

 private:
  bool check(call_status s, const std::string& detail, ::testing::MatchResultListener* l) const;
  void describe(std::ostream* os, const char* verb) const;

  std::optional<call_status> exact_;
  ::testing::Matcher<call_status> status_;
  std::optional<::testing::Matcher<const std::string&>> detail_;
};

class ended_at_matcher {
 public:
  explicit ended_at_matcher(instant_check c) : c_(std::move(c)) {}

  template <class... Args>
  bool MatchAndExplain(const call_record<Args...>& r, ::testing::MatchResultListener* l) const {
    if (!r.ended) {
      *l << "which is still pending";
      return false;
    }
    return c_.check(*r.ended, nullptr, l);
  }
  void DescribeTo(std::ostream* os) const { c_.describe(os, "ended"); }
  void DescribeNegationTo(std::ostream* os) const {
    *os << "did not ";
    c_.describe(os, "end");
  }

 private:
  instant_check c_;
};

// -- trace --------------------------------------------------------------------

class event_matcher_impl final : public ::testing::MatcherInterface<const trace_event&> {
 public:
  event_matcher_impl(std::optional<sim_clock::time_point> at, event_kind kind,
                     std::optional<::testing::Matcher<const std::string&>> subject,
                     std::optional<::testing::Matcher<const std::string&>> detail)
      : at_(at), kind_(kind), subject_(std::move(subject)), detail_(std::move(detail)) {}

  bool MatchAndExplain(const trace_event& e, ::testing::MatchResultListener* l) const override;
  void DescribeTo(std::ostream* os) const override;
  void DescribeNegationTo(std::ostream* os) const override;

 private:
  std::optional<sim_clock::time_point> at_;
  event_kind kind_;
  std::optional<::testing::Matcher<const std::string&>> subject_;
  std::optional<::testing::Matcher<const std::string&>> detail_;
};

inline const std::vector<trace_event>& events_of(const std::vector<trace_event>& v) { return v; }
inline std::vector<trace_event> events_of(const trace& t) { return t.events(); }

class has_events_matcher {
 public:
  /// `in_order`: every matcher must match, each on an event after the one
  /// the previous matcher took; otherwise one matcher, any event.
  has_events_matcher(std::vector<::testing::Matcher<const trace_event&>> ms, bool in_order)
      : ms_(std::move(ms)), in_order_(in_order) {}

  template <class C>
  bool MatchAndExplain(const C& c, ::testing::MatchResultListener* l) const {
    // If you get an error on the following line: HasEvent and
    // HasEventsInOrder match a faultline::trace (sim.trace()) or a
    // std::vector<faultline::trace_event> (sim.trace().events()).
    static_assert(std::is_same_v<C, trace> || std::is_same_v<C, std::vector<trace_event>>,
                  "faultline: HasEvent() matches a trace or a vector of trace events");
    return match(events_of(c), l);
  }
  void DescribeTo(std::ostream* os) const;
  void DescribeNegationTo(std::ostream* os) const;

 private:
  bool match(const std::vector<trace_event>& events, ::testing::MatchResultListener* l) const;
  std::vector<::testing::Matcher<const trace_event&>> ms_;
  bool in_order_;
};

inline std::optional<::testing::Matcher<const std::string&>> text_matcher(std::nullptr_t) { return std::nullopt; }
template <class M>
std::optional<::testing::Matcher<const std::string&>> text_matcher(const M& m) {
  return ::testing::SafeMatcherCast<const std::string&>(m);
}

}  // namespace detail

// -- outcome matchers -----------------------------------------------------------

/// Matches an `outcome<T>` that holds a value matching `m` (a value or a
/// matcher). Describes itself as "returned a value that is equal to 42"; a
/// mismatch is explained by the printed outcome itself ("threw
/// std::logic_error: x at t=2.000s"), plus the value matcher's explanation.
///
/// **Example**:
/// ```
/// auto r = sim.run(fetch_with_retry(client, "/a"));
/// EXPECT_THAT(r, AllOf(Returned("ok"), CompletedAt(faultline::at(3500ms))));
/// ```
template <class M>
detail::returned_matcher<M> Returned(M m) {
  return detail::returned_matcher<M>(std::move(m));
}
/// Matches an outcome that holds a value (any value; also `outcome<void>`).
inline detail::returned_matcher<std::nullptr_t> Returned() { return detail::returned_matcher<std::nullptr_t>(nullptr); }

/// Matches an outcome that ended with an exception of type `E` (or derived
/// from it). A cancellation is not matched: use `WasCancelled()`.
template <class E>
::testing::PolymorphicMatcher<detail::threw_matcher<E>> Threw() {
  return ::testing::MakePolymorphicMatcher(detail::threw_matcher<E>(std::nullopt));
}
/// The same, when also `e.what()` matches `what` (a string or a matcher such
/// as `HasSubstr("timeout")`): "threw std::runtime_error whose what() has
/// substring "timeout"".
template <class E, class M>
::testing::PolymorphicMatcher<detail::threw_matcher<E>> Threw(const M& what) {
  // If you get an error on the following line: Threw<E>(m) reads E::what();
  // E must be derived from std::exception.
  static_assert(std::is_base_of_v<std::exception, E>, "faultline: Threw<E>(what) needs E derived from std::exception");
  return ::testing::MakePolymorphicMatcher(detail::threw_matcher<E>(detail::text_matcher(what)));
}

/// Matches an outcome that ended with `boost::system::system_error` carrying
/// `ec` (as thrown by `use_awaitable` for an error completion, or by
/// `FailAfter`). A cancellation is not matched: use `WasCancelled()`.
inline ::testing::PolymorphicMatcher<detail::failed_matcher> Failed(boost::system::error_code ec) {
  return ::testing::MakePolymorphicMatcher(detail::failed_matcher(ec));
}

/// Matches an outcome that ended by cancellation (`operation_aborted`).
inline ::testing::PolymorphicMatcher<detail::cancelled_matcher> WasCancelled() {
  return ::testing::MakePolymorphicMatcher(detail::cancelled_matcher());
}

/// Matches an outcome that ended at the virtual instant `t`, however it
/// ended; explains a mismatch with how far off it was ("0.500s late").
inline ::testing::PolymorphicMatcher<detail::completed_at_matcher> CompletedAt(sim_clock::time_point t) {
  return ::testing::MakePolymorphicMatcher(detail::completed_at_matcher(detail::instant_check(t)));
}
/// The same with a matcher on the instant: `CompletedAt(Ge(faultline::at(1s)))`.
template <class M>
::testing::PolymorphicMatcher<detail::completed_at_matcher> CompletedAt(const M& m) {
  return ::testing::MakePolymorphicMatcher(
      detail::completed_at_matcher(detail::instant_check(::testing::SafeMatcherCast<sim_clock::time_point>(m))));
}

/// Matches an outcome that ended no later than `d` after the sim's start
/// (for `sim.run(...)` from a fresh sim: within `d` of starting).
template <class Rep, class Period>
::testing::PolymorphicMatcher<detail::completed_within_matcher> CompletedWithin(std::chrono::duration<Rep, Period> d) {
  return ::testing::MakePolymorphicMatcher(
      detail::completed_within_matcher(std::chrono::duration_cast<sim_clock::duration>(d)));
}

// -- call-record matchers ---------------------------------------------------------

/// Matches a `call_record` (an element of `fake.calls()`) of a call made at
/// `t`. Also a gMock argument matcher for `EXPECT_CALL(...).With(CalledAt(t))`:
/// there it checks that the call is being made at `t` on the running sim.
///
/// **Example**:
/// ```
/// EXPECT_THAT(fetch.calls(), ElementsAre(CalledAt(at(0ms)), CalledAt(at(1500ms))));
/// EXPECT_CALL(mock, fetch("/a")).With(CalledAt(at(1500ms))).WillOnce(ReturnAfter(10ms, "ok"));
/// ```
inline ::testing::PolymorphicMatcher<detail::called_at_matcher> CalledAt(sim_clock::time_point t) {
  return ::testing::MakePolymorphicMatcher(detail::called_at_matcher(detail::instant_check(t)));
}

/// Matches a call record whose arguments match `ms...`, one value or matcher
/// per parameter of the double (`::testing::_` for any).
template <class... Ms>
detail::called_with_matcher<Ms...> CalledWith(Ms... ms) {
  return detail::called_with_matcher<Ms...>(std::move(ms)...);
}

/// Matches a call record that ended with `status` (`call_status::threw`, ...)
/// or, given a matcher, with a status it matches (`AnyOf(...)`).
template <class S>
::testing::PolymorphicMatcher<detail::ended_by_matcher> EndedBy(const S& status) {
  std::optional<call_status> exact;
  if constexpr (std::is_same_v<S, call_status>) exact = status;
  return ::testing::MakePolymorphicMatcher(
      detail::ended_by_matcher(exact, ::testing::SafeMatcherCast<call_status>(status), std::nullopt));
}
/// The same, when also the record's detail (the value, exception or error it
/// ended with, as text) matches `detail`: `EndedBy(call_status::threw, HasSubstr("boom"))`.
template <class S, class D>
::testing::PolymorphicMatcher<detail::ended_by_matcher> EndedBy(const S& status, const D& detail) {
  std::optional<call_status> exact;
  if constexpr (std::is_same_v<S, call_status>) exact = status;
  return ::testing::MakePolymorphicMatcher(
      detail::ended_by_matcher(exact, ::testing::SafeMatcherCast<call_status>(status), detail::text_matcher(detail)));
}

/// Matches a call record of a call that ended at `t` (not one still pending).
inline ::testing::PolymorphicMatcher<detail::ended_at_matcher> EndedAt(sim_clock::time_point t) {
  return ::testing::MakePolymorphicMatcher(detail::ended_at_matcher(detail::instant_check(t)));
}

// -- trace matchers ---------------------------------------------------------------

/// Matches a `trace_event` of `kind` whose subject and detail match
/// `subject` and `detail` (strings or matchers; omitted: any). Works in
/// `ElementsAre`, `Contains`, `HasEvent` and `HasEventsInOrder`.
///
/// **Example**:
/// ```
/// EXPECT_THAT(sim.trace(), HasEvent(Event(event_kind::call_threw, "fetch(\"/a\")", HasSubstr("boom"))));
/// ```
template <class S = std::nullptr_t, class D = std::nullptr_t>
::testing::Matcher<const trace_event&> Event(event_kind kind, const S& subject = nullptr, const D& detail = nullptr) {
  return ::testing::MakeMatcher(
      new detail::event_matcher_impl(std::nullopt, kind, detail::text_matcher(subject), detail::text_matcher(detail)));
}

/// The same, for an event recorded at the virtual instant `t`.
template <class S = std::nullptr_t, class D = std::nullptr_t>
::testing::Matcher<const trace_event&> EventAt(sim_clock::time_point t, event_kind kind, const S& subject = nullptr,
                                               const D& detail = nullptr) {
  return ::testing::MakeMatcher(
      new detail::event_matcher_impl(t, kind, detail::text_matcher(subject), detail::text_matcher(detail)));
}

/// Matches a `trace` (`sim.trace()`) or a vector of its events with at least
/// one retained event matching `m`; a mismatch shows the last events.
template <class M>
::testing::PolymorphicMatcher<detail::has_events_matcher> HasEvent(const M& m) {
  return ::testing::MakePolymorphicMatcher(
      detail::has_events_matcher({::testing::SafeMatcherCast<const trace_event&>(m)}, false));
}
/// `HasEvent(Event(kind, subject, detail))`.
template <class S = std::nullptr_t, class D = std::nullptr_t>
::testing::PolymorphicMatcher<detail::has_events_matcher> HasEvent(event_kind kind, const S& subject = nullptr,
                                                                   const D& detail = nullptr) {
  return HasEvent(Event(kind, subject, detail));
}

/// Matches a trace whose events include, in this order, one matching each of
/// `ms...`; other events may come before, between and after them.
template <class... Ms>
::testing::PolymorphicMatcher<detail::has_events_matcher> HasEventsInOrder(const Ms&... ms) {
  return ::testing::MakePolymorphicMatcher(
      detail::has_events_matcher({::testing::SafeMatcherCast<const trace_event&>(ms)...}, true));
}

}  // namespace faultline::testing
