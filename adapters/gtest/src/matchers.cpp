// faultline - the non-template parts of the matchers: names, descriptions, explanations.
#include <faultline/gtest/matchers.hpp>

#include <cxxabi.h>
#include <cstdlib>
#include <memory>
#include <sstream>

namespace faultline {

void PrintTo(const trace& t, std::ostream* os) {
  *os << "a trace of " << t.total() << (t.total() == 1 ? " event" : " events");
  const std::string tail = t.timeline(10);
  if (!tail.empty()) *os << "; the last ones:\n" << tail;
}

}  // namespace faultline

namespace faultline::testing::detail {

namespace {

void replace_all(std::string& s, const std::string& from, const std::string& to) {
  for (std::size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
    s.replace(at, from.size(), to);
}

// "late" or "early" and by how much, for a mismatched instant.
std::string offset(sim_clock::time_point actual, sim_clock::time_point expected) {
  if (actual > expected) return to_string(actual - expected) + " late";
  return to_string(expected - actual) + " early";
}

}  // namespace

std::string type_name(const std::type_info& t) {
  int status = 0;
  std::unique_ptr<char, void (*)(void*)> p(abi::__cxa_demangle(t.name(), nullptr, nullptr, &status), std::free);
  std::string s = status == 0 && p ? std::string(p.get()) : std::string(t.name());
  replace_all(s, "std::__cxx11::basic_string<char, std::char_traits<char>, std::allocator<char> >", "std::string");
  replace_all(s, "std::__cxx11::", "std::");
  return s;
}

std::string exception_type(const std::exception_ptr& e) {
  if (!e) return "no exception";
  try {
    std::rethrow_exception(e);
  } catch (const std::exception& x) {
    return type_name(typeid(x));
  } catch (...) {
  }
  return "an exception not derived from std::exception";
}

std::string describe_error_code(const boost::system::error_code& ec) {
  return std::string(ec.category().name()) + ":" + std::to_string(ec.value()) + " (" + ec.message() + ")";
}

std::string events_tail(const std::vector<trace_event>& events, std::size_t last) {
  std::string s;
  const std::size_t from = events.size() > last ? events.size() - last : 0;
  for (std::size_t i = from; i < events.size(); ++i) s += "\n  " + events[i].describe();
  return s;
}

// -- instants -------------------------------------------------------------------

bool instant_check::check(sim_clock::time_point t, const char* verb, ::testing::MatchResultListener* l) const {
  if (m_.Matches(t)) return true;
  if (!verb) {
    if (exact_) *l << "which is " << offset(t, *exact_);
    return false;
  }
  *l << "which " << verb << " at " << to_string(t);
  if (exact_) *l << ", " << offset(t, *exact_);
  return false;
}

void instant_check::describe(std::ostream* os, const char* verb) const {
  *os << verb << " at ";
  if (exact_) {
    *os << to_string(*exact_);
  } else {
    *os << "an instant that ";
    m_.DescribeTo(os);
  }
}

void completed_within_matcher::DescribeTo(std::ostream* os) const {
  *os << "completed within " << to_string(d_) << " (by " << to_string(sim_clock::time_point(d_)) << ")";
}

void completed_within_matcher::DescribeNegationTo(std::ostream* os) const {
  *os << "did not complete within " << to_string(d_) << " (by " << to_string(sim_clock::time_point(d_)) << ")";
}

bool completed_within_matcher::check(sim_clock::time_point t, ::testing::MatchResultListener* l) const {
  const sim_clock::time_point bound(d_);
  if (t <= bound) return true;
  *l << "which is " << to_string(t - bound) << " too late";
  return false;
}

bool called_at_matcher::check_now(::testing::MatchResultListener* l) const {
  const sim_context* sim = sim_context::current();
  if (!sim) {
    *l << "which is made outside any running sim, so it has no virtual instant";
    return false;
  }
  return c_.check(sim->now(), "is made", l);
}

// -- call records -------------------------------------------------------------------

bool ended_by_matcher::check(call_status s, const std::string& detail, ::testing::MatchResultListener* l) const {
  if (!status_.Matches(s)) {
    *l << "which ";
    if (s == call_status::pending)
      *l << "is still pending";
    else
      *l << "ended with status " << to_string(s) << (detail.empty() ? "" : ": " + detail);
    return false;
  }
  if (!detail_) return true;
  ::testing::StringMatchResultListener inner;
  if (detail_->MatchAndExplain(detail, &inner)) return true;
  *l << "whose detail is " << ::testing::PrintToString(detail);
  if (!inner.str().empty()) *l << ", " << inner.str();
  return false;
}

void ended_by_matcher::describe(std::ostream* os, const char* verb) const {
  *os << verb << "with status ";
  if (exact_) {
    *os << to_string(*exact_);
  } else {
    *os << "that ";
    status_.DescribeTo(os);
  }
  if (detail_) {
    *os << " and a detail that ";
    detail_->DescribeTo(os);
  }
}

// -- trace ----------------------------------------------------------------------------

bool event_matcher_impl::MatchAndExplain(const trace_event& e, ::testing::MatchResultListener* l) const {
  if (e.kind != kind_) {
    *l << "which is a \"" << to_string(e.kind) << "\" event";
    return false;
  }
  if (at_ && e.at != *at_) {
    *l << "which happened at " << to_string(e.at) << ", " << offset(e.at, *at_);
    return false;
  }
  ::testing::StringMatchResultListener subject;
  if (subject_ && !subject_->MatchAndExplain(e.subject, &subject)) {
    *l << "whose subject is " << ::testing::PrintToString(e.subject);
    if (!subject.str().empty()) *l << ", " << subject.str();
    return false;
  }
  ::testing::StringMatchResultListener detail;
  if (detail_ && !detail_->MatchAndExplain(e.detail, &detail)) {
    *l << "whose detail is " << ::testing::PrintToString(e.detail);
    if (!detail.str().empty()) *l << ", " << detail.str();
    return false;
  }
  return true;
}

void event_matcher_impl::DescribeTo(std::ostream* os) const {
  *os << "is a \"" << to_string(kind_) << "\" event";
  if (at_) *os << " at " << to_string(*at_);
  if (subject_) {
    *os << " whose subject ";
    subject_->DescribeTo(os);
  }
  if (detail_) {
    *os << (subject_ ? " and whose detail " : " whose detail ");
    detail_->DescribeTo(os);
  }
}

void event_matcher_impl::DescribeNegationTo(std::ostream* os) const {
  *os << "isn't (";
  DescribeTo(os);
  *os << ")";
}

void has_events_matcher::DescribeTo(std::ostream* os) const {
  if (!in_order_) {
    *os << "has an event that ";
    ms_.front().DescribeTo(os);
    return;
  }
  *os << "has, in this order, events that";
  for (std::size_t i = 0; i < ms_.size(); ++i) {
    *os << (i == 0 ? " " : ", ") << "(" << i + 1 << ") ";
    ms_[i].DescribeTo(os);
  }
}

void has_events_matcher::DescribeNegationTo(std::ostream* os) const {
  if (!in_order_) {
    *os << "has no event that ";
    ms_.front().DescribeTo(os);
    return;
  }
  *os << "does not have, in this order, events that";
  for (std::size_t i = 0; i < ms_.size(); ++i) {
    *os << (i == 0 ? " " : ", ") << "(" << i + 1 << ") ";
    ms_[i].DescribeTo(os);
  }
}

bool has_events_matcher::match(const std::vector<trace_event>& events, ::testing::MatchResultListener* l) const {
  std::size_t next = 0;  // first event the next matcher may take
  for (std::size_t i = 0; i < ms_.size(); ++i) {
    std::size_t found = events.size();
    for (std::size_t j = next; j < events.size(); ++j)
      if (ms_[i].Matches(events[j])) {
        found = j;
        break;
      }
    if (found == events.size()) {
      if (!in_order_) {
        *l << "which has no such event among its " << events.size() << " retained events";
      } else if (i == 0) {
        *l << "which has no event matching (1) among its " << events.size() << " retained events";
      } else {
        *l << "whose events match (1) to (" << i << ") in order, the last at " << to_string(events[next - 1].at) << " ("
           << events[next - 1].describe() << "), but none after it matches (" << i + 1 << ")";
      }
      if (!events.empty()) *l << "; the last ones:" << events_tail(events, 10);
      return false;
    }
    if (!in_order_) *l << "whose event #" << events[found].index << " matches: " << events[found].describe();
    next = found + 1;
  }
  return true;
}

}  // namespace faultline::testing::detail
