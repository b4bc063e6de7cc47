// faultline - the failure-timeline listener.
#include <faultline/gtest/listener.hpp>

#include <faultline/sim_context.hpp>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <ostream>
#include <string>
#include <system_error>

namespace faultline::testing {

namespace {
constexpr std::size_t default_events = 30;
}  // namespace

std::size_t timeline_events_from_env() {
  const char* v = std::getenv("FAULTLINE_TIMELINE_EVENTS");
  if (!v || !*v) return default_events;
  std::size_t n = 0;
  const char* end = v + std::strlen(v);
  auto [p, ec] = std::from_chars(v, end, n);
  if (ec != std::errc() || p != end) {
    std::cerr << "faultline: FAULTLINE_TIMELINE_EVENTS=\"" << v << "\" is not a number of events; using "
              << default_events << " (set a whole number, or 0 to switch failure timelines off)\n";
    return default_events;
  }
  return n;
}

void print_timeline(std::ostream& out, const sim_context& sim, std::size_t events, std::size_t index,
                    std::size_t count) {
  const auto& t = sim.trace();
  const auto retained = t.events().size();
  const std::size_t shown = std::min(events, retained);
  out << "[ timeline ] sim " << index << " of " << count << " at " << to_string(sim.now()) << ", ";
  if (t.total() == 0)
    out << "no events\n";
  else if (shown == t.total())
    out << (shown == 1 ? "the only event" : "all " + std::to_string(shown) + " events") << ":\n";
  else
    out << "last " << shown << " of " << t.total() << " events:\n";
  if (shown == 0) return;
  std::string lines = t.timeline(shown);
  std::size_t start = 0;
  while (start < lines.size()) {
    std::size_t end = lines.find('\n', start);
    if (end == std::string::npos) end = lines.size();
    out << "  ";
    out.write(lines.data() + start, static_cast<std::streamsize>(end - start));
    out << '\n';
    start = end + 1;
  }
}

void timeline_listener::OnTestStart(const ::testing::TestInfo&) { printed_.clear(); }

void timeline_listener::OnTestEnd(const ::testing::TestInfo&) { printed_.clear(); }

void timeline_listener::OnTestPartResult(const ::testing::TestPartResult& result) {
  if (!result.failed() || events_ == 0) return;
  const auto sims = sim_context::alive_on_this_thread();
  std::ostream& out = out_ ? *out_ : std::cout;
  bool any = false;
  for (std::size_t i = 0; i < sims.size(); ++i) {
    if (std::find(printed_.begin(), printed_.end(), sims[i]) != printed_.end()) continue;
    printed_.push_back(sims[i]);
    print_timeline(out, *sims[i], events_, i + 1, sims.size());
    any = true;
  }
  if (any) out.flush();
}

timeline_listener& install_timeline_listener() {
  // GoogleTest owns and deletes the listeners it is given.
  static timeline_listener* installed = [] {
    auto* l = new timeline_listener();
    ::testing::UnitTest::GetInstance()->listeners().Append(l);
    return l;
  }();
  return *installed;
}

void report_listener::OnTestStart(const ::testing::TestInfo&) {
  before_ = totals_on_this_thread();
  started_ = std::chrono::steady_clock::now();
}

void report_listener::OnTestEnd(const ::testing::TestInfo& info) {
  const auto wall = std::chrono::steady_clock::now() - started_;
  const sim_totals after = totals_on_this_thread();
  std::ofstream out(path_, std::ios::app);
  const auto* r = info.result();
  out << "test " << info.test_suite_name() << "." << info.name() << " "
      << (r->Skipped() ? "skipped" : r->Failed() ? "failed" : "passed") << " sims=" << after.sims - before_.sims
      << " virtual_ns=" << (after.virtual_time - before_.virtual_time).count()
      << " wall_us=" << std::chrono::duration_cast<std::chrono::microseconds>(wall).count();
  for (std::size_t k = 0; k < fault_kind_count; ++k)
    out << " " << to_string(static_cast<fault_kind>(k)) << "=" << after.faults.by_kind[k] - before_.faults.by_kind[k];
  out << "\n";
}

bool install_report_listener_from_env() {
  const char* path = std::getenv("FAULTLINE_REPORT");
  if (!path || !*path) return false;
  ::testing::UnitTest::GetInstance()->listeners().Append(new report_listener(path));
  return true;
}

}  // namespace faultline::testing
