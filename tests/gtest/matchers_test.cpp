// Tests of the matchers: what they match, how they describe themselves, how they explain a mismatch.
#include <faultline/gtest/matchers.hpp>

#include <faultline/gtest.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest-spi.h>
#include <gtest/gtest.h>
#include <boost/asio/error.hpp>

#include <stdexcept>
#include <string>

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
using faultline::at;
using faultline::call_status;
using faultline::event_kind;
using faultline::outcome;
using namespace faultline::testing;
using ::testing::_;
using ::testing::AllOf;
using ::testing::AnyOf;
using ::testing::ElementsAre;
using ::testing::Ge;
using ::testing::HasSubstr;
using ::testing::Not;
using ::testing::StartsWith;

template <class T, class M>
std::string describe(const M& m, bool negation = false) {
  return ::testing::DescribeMatcher<T>(m, negation);
}

template <class T, class M>
std::string explain(const M& m, const T& value) {
  ::testing::StringMatchResultListener l;
  ::testing::ExplainMatchResult(m, value, &l);
  return l.str();
}

outcome<int> returned(int v, std::chrono::milliseconds t) { return outcome<int>::returned(v, at(t)); }
template <class E>
outcome<int> threw(E e, std::chrono::milliseconds t) {
  return outcome<int>::threw(std::make_exception_ptr(e), at(t));
}
outcome<int> cancelled(std::chrono::milliseconds t) {
  return threw(boost::system::system_error(asio::error::operation_aborted), t);
}

// -- outcomes -----------------------------------------------------------------

TEST(OutcomeMatchers, Returned) {
  EXPECT_THAT(returned(42, 1s), Returned(42));
  EXPECT_THAT(returned(42, 1s), Returned(Ge(40)));
  EXPECT_THAT(returned(42, 1s), Returned());
  EXPECT_THAT(returned(41, 1s), Not(Returned(42)));
  EXPECT_THAT(threw(std::logic_error("x"), 2s), Not(Returned()));
  EXPECT_THAT(outcome<void>::returned(at(1s)), Returned());
  EXPECT_THAT(outcome<std::string>::returned("ok", at(1s)), Returned(HasSubstr("o")));

  EXPECT_EQ(describe<outcome<int>>(Returned(42)), "returned a value that is equal to 42");
  EXPECT_EQ(describe<outcome<int>>(Returned(42), true), "did not return a value that is equal to 42");
  EXPECT_EQ(describe<outcome<void>>(Returned()), "returned");
  // The printed outcome says how it ended: explanations add nothing to it.
  EXPECT_EQ(explain<outcome<int>>(Returned(42), threw(std::logic_error("x"), 2s)), "");
  EXPECT_EQ(explain<outcome<int>>(Returned(42), returned(41, 1s)), "");
  EXPECT_EQ(explain<outcome<int>>(Returned(42), cancelled(500ms)), "");
  // A value matcher's own explanation is kept.
  EXPECT_EQ(explain<outcome<std::vector<int>>>(Returned(::testing::SizeIs(3)),
                                               outcome<std::vector<int>>::returned({1, 2}, at(1s))),
            "whose size 2 doesn't match");
}

// The message of the one failure `f` records.
template <class F>
std::string failure_message(F f) {
  ::testing::TestPartResultArray failures;
  {
    ::testing::ScopedFakeTestPartResultReporter reporter(
        ::testing::ScopedFakeTestPartResultReporter::INTERCEPT_ONLY_CURRENT_THREAD, &failures);
    f();
  }
  std::string all;
  for (int i = 0; i < failures.size(); ++i) all += failures.GetTestPartResult(i).message();
  return all;
}

// GoogleTest prints the outcome before the explanation: the explanation must
// not say it again (it used to: `returned "ok" at t=0.200s, which returned "ok"...`).
TEST(OutcomeMatchers, AFailedExpectThatShowsTheOutcomeOnce) {
  EXPECT_THAT(failure_message([] { EXPECT_THAT(threw(std::logic_error("bad state"), 2s), Returned(42)); }),
              ::testing::EndsWith("Expected: returned a value that is equal to 42\n"
                                  "  Actual: threw std::logic_error: bad state at t=2.000s"));
  EXPECT_THAT(failure_message([] { EXPECT_THAT(outcome<std::string>::returned("ok", at(200ms)), Returned("fine")); }),
              ::testing::EndsWith("  Actual: returned \"ok\" at t=0.200s"));
  EXPECT_THAT(failure_message([] { EXPECT_THAT(cancelled(20ms), AllOf(Returned(), CompletedAt(at(20ms)))); }),
              ::testing::EndsWith("  Actual: was cancelled at t=0.020s"));
  // What the printed outcome does not say is still explained.
  EXPECT_THAT(failure_message([] { EXPECT_THAT(returned(1, 1500ms), CompletedAt(at(1s))); }),
              ::testing::EndsWith("  Actual: returned 1 at t=1.500s, which is 0.500s late"));
  EXPECT_THAT(failure_message([] { EXPECT_THAT(cancelled(1s), Threw<std::runtime_error>()); }),
              ::testing::EndsWith("  Actual: was cancelled at t=1.000s, which is a cancellation: match it with "
                                  "WasCancelled()"));
}

TEST(OutcomeMatchers, Threw) {
  EXPECT_THAT(threw(std::runtime_error("boom"), 1s), Threw<std::runtime_error>());
  EXPECT_THAT(threw(std::runtime_error("boom"), 1s), Threw<std::exception>());  // a base matches
  EXPECT_THAT(threw(std::runtime_error("boom"), 1s), Threw<std::runtime_error>(HasSubstr("oo")));
  EXPECT_THAT(threw(std::runtime_error("boom"), 1s), Threw<std::runtime_error>("boom"));
  EXPECT_THAT(threw(std::runtime_error("boom"), 1s), Not(Threw<std::logic_error>()));
  EXPECT_THAT(threw(std::runtime_error("boom"), 1s), Not(Threw<std::runtime_error>("bang")));
  EXPECT_THAT(returned(1, 1s), Not(Threw<std::exception>()));
  EXPECT_THAT(cancelled(1s), Not(Threw<boost::system::system_error>()));

  EXPECT_EQ(describe<outcome<int>>(Threw<std::runtime_error>()), "threw std::runtime_error");
  EXPECT_EQ(describe<outcome<int>>(Threw<std::runtime_error>(HasSubstr("x"))),
            "threw std::runtime_error whose what() has substring \"x\"");
  EXPECT_EQ(describe<outcome<int>>(Threw<std::runtime_error>(), true), "did not throw std::runtime_error");
  EXPECT_EQ(explain<outcome<int>>(Threw<std::runtime_error>(), threw(std::invalid_argument("n"), 30ms)), "");
  EXPECT_EQ(explain<outcome<int>>(Threw<std::runtime_error>("bang"), threw(std::runtime_error("boom"), 1s)), "");
  EXPECT_EQ(explain<outcome<int>>(Threw<std::runtime_error>(), returned(3, 1s)), "");
  EXPECT_EQ(explain<outcome<int>>(Threw<std::exception>(), cancelled(1s)),
            "which is a cancellation: match it with WasCancelled()");
}

TEST(OutcomeMatchers, Failed) {
  auto refused = threw(boost::system::system_error(asio::error::connection_refused), 1s);
  EXPECT_THAT(refused, Failed(asio::error::connection_refused));
  EXPECT_THAT(refused, Not(Failed(asio::error::timed_out)));
  EXPECT_THAT(threw(std::runtime_error("x"), 1s), Not(Failed(asio::error::connection_refused)));
  EXPECT_THAT(cancelled(1s), Not(Failed(asio::error::operation_aborted)));

  EXPECT_THAT(describe<outcome<int>>(Failed(asio::error::timed_out)), StartsWith("failed with system:110 ("));
  EXPECT_THAT(describe<outcome<int>>(Failed(asio::error::timed_out), true), StartsWith("did not fail with system:110"));
  EXPECT_THAT(explain<outcome<int>>(Failed(asio::error::timed_out), refused), StartsWith("whose code is system:111 ("));
  EXPECT_EQ(explain<outcome<int>>(Failed(asio::error::operation_aborted), cancelled(1s)),
            "which is a cancellation: match it with WasCancelled()");
}

TEST(OutcomeMatchers, WasCancelled) {
  EXPECT_THAT(cancelled(500ms), WasCancelled());
  EXPECT_THAT(returned(1, 1s), Not(WasCancelled()));
  EXPECT_THAT(outcome<void>::threw(std::make_exception_ptr(std::runtime_error("x")), at(1s)), Not(WasCancelled()));
  EXPECT_EQ(describe<outcome<int>>(WasCancelled()), "was cancelled");
  EXPECT_EQ(describe<outcome<int>>(WasCancelled(), true), "was not cancelled");
  EXPECT_EQ(explain<outcome<int>>(WasCancelled(), threw(std::runtime_error("x"), 1s)), "");
}

TEST(OutcomeMatchers, CompletedAtAndWithin) {
  EXPECT_THAT(returned(1, 1500ms), CompletedAt(at(1500ms)));
  EXPECT_THAT(cancelled(1500ms), CompletedAt(at(1500ms)));
  EXPECT_THAT(returned(1, 1500ms), CompletedAt(Ge(at(1s))));
  EXPECT_THAT(returned(1, 1500ms), Not(CompletedAt(at(1s))));
  EXPECT_THAT(returned(1, 1500ms), CompletedWithin(1500ms));
  EXPECT_THAT(returned(1, 1500ms), Not(CompletedWithin(1s)));
  EXPECT_THAT(returned(1, 1500ms), AllOf(Returned(1), CompletedAt(at(1500ms))));

  EXPECT_EQ(describe<outcome<int>>(CompletedAt(at(1s))), "completed at t=1.000s");
  EXPECT_EQ(describe<outcome<int>>(CompletedAt(at(1s)), true), "did not complete at t=1.000s");
  EXPECT_EQ(describe<outcome<int>>(CompletedAt(Ge(at(1s)))), "completed at an instant that is >= t=1.000s");
  EXPECT_EQ(explain<outcome<int>>(CompletedAt(at(1s)), returned(1, 1500ms)), "which is 0.500s late");
  EXPECT_EQ(explain<outcome<int>>(CompletedAt(at(2s)), returned(1, 1500ms)), "which is 0.500s early");
  EXPECT_EQ(explain<outcome<int>>(CompletedAt(Ge(at(2s))), returned(1, 1500ms)), "");
  EXPECT_EQ(describe<outcome<int>>(CompletedWithin(1s)), "completed within 1.000s (by t=1.000s)");
  EXPECT_EQ(describe<outcome<int>>(CompletedWithin(1s), true), "did not complete within 1.000s (by t=1.000s)");
  EXPECT_EQ(explain<outcome<int>>(CompletedWithin(1s), returned(1, 1250ms)), "which is 0.250s too late");
}

// -- call records ----------------------------------------------------------------

faultline::call_record<std::string, int> record() {
  faultline::call_record<std::string, int> r;
  r.args = {"/a", 3};
  r.text = "fetch(\"/a\", 3)";
  r.started = at(1s);
  r.ended = at(1100ms);
  r.status = call_status::threw;
  r.detail = "std::runtime_error: boom";
  return r;
}

TEST(RecordMatchers, CalledAt) {
  using rec = faultline::call_record<std::string, int>;
  EXPECT_THAT(record(), CalledAt(at(1s)));
  EXPECT_THAT(record(), Not(CalledAt(at(2s))));
  EXPECT_EQ(describe<rec>(CalledAt(at(1s))), "was called at t=1.000s");
  EXPECT_EQ(describe<rec>(CalledAt(at(1s)), true), "was not called at t=1.000s");
  EXPECT_EQ(explain(CalledAt(at(1500ms)), record()), "which is 0.500s early");
}

TEST(RecordMatchers, CalledAtAsAnArgumentsMatcherReadsTheRunningSim) {
  // Outside a sim there is no instant to compare.
  EXPECT_EQ(explain(CalledAt(at(0ms)), std::make_tuple(1)),
            "which is made outside any running sim, so it has no virtual instant");
  faultline::sim_context sim;
  auto r = sim.run([]() -> boost::asio::awaitable<std::string> {
    co_await faultline::sleep_for(250ms);
    co_return explain(CalledAt(at(1s)), std::make_tuple(1)) + "|" +
        (::testing::Matches(CalledAt(at(250ms)))(std::make_tuple(1)) ? "matches" : "no");
  });
  EXPECT_EQ(r.value(), "which is made at t=0.250s, 0.750s early|matches");
}

TEST(RecordMatchers, CalledWith) {
  EXPECT_THAT(record(), CalledWith("/a", 3));
  EXPECT_THAT(record(), CalledWith(StartsWith("/"), _));
  EXPECT_THAT(record(), Not(CalledWith("/b", 3)));
  using rec = faultline::call_record<std::string, int>;
  EXPECT_EQ(describe<rec>(CalledWith("/a", Ge(2))), "was called with (is equal to \"/a\", is >= 2)");
  EXPECT_EQ(describe<rec>(CalledWith("/a", _), true), "was not called with (is equal to \"/a\", is anything)");
  EXPECT_EQ(explain<rec>(CalledWith("/a", 4), record()), "whose argument #1 is 3");
}

TEST(RecordMatchers, EndedByAndEndedAt) {
  EXPECT_THAT(record(), EndedBy(call_status::threw));
  EXPECT_THAT(record(), EndedBy(call_status::threw, HasSubstr("boom")));
  EXPECT_THAT(record(), EndedBy(AnyOf(call_status::threw, call_status::failed)));
  EXPECT_THAT(record(), Not(EndedBy(call_status::returned)));
  EXPECT_THAT(record(), Not(EndedBy(call_status::threw, HasSubstr("bang"))));
  EXPECT_THAT(record(), EndedAt(at(1100ms)));
  auto pending = record();
  pending.ended.reset();
  pending.status = call_status::pending;
  pending.detail.clear();
  EXPECT_THAT(pending, Not(EndedAt(at(1100ms))));

  using rec = faultline::call_record<std::string, int>;
  EXPECT_EQ(describe<rec>(EndedBy(call_status::returned)), "ended with status returned");
  EXPECT_EQ(describe<rec>(EndedBy(call_status::threw, HasSubstr("x")), true),
            "did not end with status threw and a detail that has substring \"x\"");
  EXPECT_EQ(describe<rec>(EndedBy(AnyOf(call_status::threw, call_status::failed))),
            "ended with status that (is equal to threw) or (is equal to failed)");
  EXPECT_EQ(explain<rec>(EndedBy(call_status::returned), record()),
            "which ended with status threw: std::runtime_error: boom");
  EXPECT_EQ(explain<rec>(EndedBy(call_status::threw, "x"), record()), "whose detail is \"std::runtime_error: boom\"");
  EXPECT_EQ(explain<rec>(EndedBy(call_status::returned), pending), "which is still pending");
  EXPECT_EQ(describe<rec>(EndedAt(at(1s))), "ended at t=1.000s");
  EXPECT_EQ(explain<rec>(EndedAt(at(1s)), record()), "which is 0.100s late");
  EXPECT_EQ(explain<rec>(EndedAt(at(1s)), pending), "which is still pending");
}

TEST(RecordMatchers, WorkOnTheRecordsOfARealDouble) {
  faultline::sim_context sim;
  faultline::async_fake<std::string(std::string)> fetch(sim, "fetch");
  fetch.on_call().after(100ms).returns("ok").then().after(50ms).fails(asio::error::timed_out);
  sim.run(fetch("/a"));
  sim.run(fetch("/b"));
  EXPECT_THAT(fetch.calls(), ElementsAre(AllOf(CalledAt(at(0ms)), CalledWith("/a"), EndedBy(call_status::returned)),
                                         AllOf(CalledAt(at(100ms)), CalledWith("/b"), EndedBy(call_status::failed),
                                               EndedAt(at(150ms)))));
}

// -- trace ----------------------------------------------------------------------

class TraceMatchers : public ::testing::Test {
 protected:
  void SetUp() override {
    fetch_.on_call().after(100ms).throws(std::runtime_error("boom")).then().after(20ms).returns("ok");
    sim_.run(fetch_("/a"));
    sim_.run(fetch_("/b"));
  }
  faultline::sim_context sim_;
  faultline::async_fake<std::string(std::string)> fetch_{sim_, "fetch"};
};

TEST_F(TraceMatchers, EventAndEventAt) {
  auto events = sim_.trace().events();
  EXPECT_THAT(events, ::testing::Contains(Event(event_kind::call, "fetch(\"/a\")")));
  EXPECT_THAT(events, ::testing::Contains(Event(event_kind::call_threw, _, HasSubstr("boom"))));
  EXPECT_THAT(events, ::testing::Contains(EventAt(at(120ms), event_kind::call_returned, "fetch(\"/b\")")));
  EXPECT_THAT(events, Not(::testing::Contains(EventAt(at(100ms), event_kind::call_returned))));

  using ev = const faultline::trace_event&;
  EXPECT_EQ(describe<ev>(Event(event_kind::call_threw, "fetch(\"/a\")", HasSubstr("boom"))),
            "is a \"-> threw\" event whose subject is equal to \"fetch(\\\"/a\\\")\" and whose detail has "
            "substring \"boom\"");
  EXPECT_EQ(describe<ev>(EventAt(at(1s), event_kind::call)), "is a \"called\" event at t=1.000s");
  EXPECT_EQ(describe<ev>(Event(event_kind::call), true), "isn't (is a \"called\" event)");

  faultline::trace_event e;
  e.at = at(120ms);
  e.kind = event_kind::call_returned;
  e.subject = "fetch(\"/b\")";
  e.detail = "\"ok\"";
  EXPECT_EQ(explain<faultline::trace_event>(Event(event_kind::call), e), "which is a \"-> returned\" event");
  EXPECT_EQ(explain<faultline::trace_event>(EventAt(at(100ms), event_kind::call_returned), e),
            "which happened at t=0.120s, 0.020s late");
  EXPECT_EQ(explain<faultline::trace_event>(Event(event_kind::call_returned, "fetch(\"/a\")"), e),
            "whose subject is \"fetch(\\\"/b\\\")\"");
  EXPECT_EQ(explain<faultline::trace_event>(Event(event_kind::call_returned, _, "\"no\""), e),
            "whose detail is \"\\\"ok\\\"\"");
}

TEST_F(TraceMatchers, HasEvent) {
  EXPECT_THAT(sim_.trace(), HasEvent(event_kind::call_threw, "fetch(\"/a\")", "std::runtime_error: boom"));
  EXPECT_THAT(sim_.trace().events(), HasEvent(EventAt(at(100ms), event_kind::call, "fetch(\"/b\")")));
  EXPECT_THAT(sim_.trace(), Not(HasEvent(event_kind::call, "fetch(\"/c\")")));

  EXPECT_EQ(describe<const faultline::trace&>(HasEvent(event_kind::call)), "has an event that is a \"called\" event");
  EXPECT_EQ(describe<const faultline::trace&>(HasEvent(event_kind::call), true),
            "has no event that is a \"called\" event");
  EXPECT_THAT(
      explain<faultline::trace>(HasEvent(event_kind::call, "fetch(\"/c\")"), sim_.trace()),
      AllOf(StartsWith("which has no such event among its "), HasSubstr("\n  t=0.100s fetch(\"/b\") called\n")));
  EXPECT_THAT(explain<faultline::trace>(HasEvent(event_kind::call, "fetch(\"/b\")"), sim_.trace()),
              StartsWith("whose event #"));
}

TEST_F(TraceMatchers, HasEventsInOrder) {
  EXPECT_THAT(sim_.trace(),
              HasEventsInOrder(Event(event_kind::call, "fetch(\"/a\")"), Event(event_kind::call_threw, "fetch(\"/a\")"),
                               EventAt(at(120ms), event_kind::call_returned)));
  EXPECT_THAT(sim_.trace(), Not(HasEventsInOrder(Event(event_kind::call, "fetch(\"/b\")"),
                                                 Event(event_kind::call, "fetch(\"/a\")"))));
  EXPECT_EQ(describe<const faultline::trace&>(HasEventsInOrder(Event(event_kind::call), Event(event_kind::call_threw))),
            "has, in this order, events that (1) is a \"called\" event, (2) is a \"-> threw\" event");
  EXPECT_THAT(explain<faultline::trace>(
                  HasEventsInOrder(Event(event_kind::call, "fetch(\"/b\")"), Event(event_kind::call, "fetch(\"/a\")")),
                  sim_.trace()),
              StartsWith("whose events match (1) to (1) in order, the last at t=0.100s (t=0.100s fetch(\"/b\") "
                         "called), but none after it matches (2); the last ones:"));
  EXPECT_THAT(explain<faultline::trace>(HasEventsInOrder(Event(event_kind::horizon)), sim_.trace()),
              StartsWith("which has no event matching (1) among its "));
}

}  // namespace
