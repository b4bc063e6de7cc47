// faultline demo: runs every sample's suite and a chaos sweep over a planted bug, and says what was tested.
//
// Each suite runs as its own process with FAULTLINE_REPORT set, so faultline::gtest_main writes one line
// per test (scenario): whether it passed, the virtual time its sims simulated and the faults they injected.
#include "demo_suites.hpp"  // generated: the suites' names and paths, the planted-bug demo

#include <array>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

constexpr std::array<const char*, 5> fault_kinds{"latency", "error", "exception", "hang", "cancel"};

struct suite_totals {
  int scenarios = 0;
  int failed = 0;
  std::array<std::uint64_t, fault_kinds.size()> faults{};
  std::uint64_t virtual_ns = 0;
  // Wall time, everywhere in the demo: real time elapsed, measured around the
  // process that ran (start-up included), never the tests' own clocks.
  std::uint64_t wall_us = 0;
};

std::uint64_t elapsed_us(std::chrono::steady_clock::time_point since) {
  return static_cast<std::uint64_t>(
      std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() - since).count());
}

std::string quote(const std::string& s) { return "'" + s + "'"; }

// Runs `command` through the shell with its output in `log`; returns its exit status.
int run(const std::string& command, const std::string& log) {
  const int rc = std::system((command + " > " + quote(log) + " 2>&1").c_str());
  return rc == -1 ? -1 : WEXITSTATUS(rc);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

std::uint64_t field(const std::string& line, const std::string& key) {
  const auto at = line.find(" " + key + "=");
  if (at == std::string::npos) return 0;
  return std::strtoull(line.c_str() + at + key.size() + 2, nullptr, 10);
}

suite_totals run_suite(const demo_suite& s) {
  const std::string report = std::string(demo_work_dir) + "/" + s.name + ".report";
  const std::string log = std::string(demo_work_dir) + "/" + s.name + ".log";
  std::remove(report.c_str());
  suite_totals t;
  const auto started = std::chrono::steady_clock::now();
  const int rc = run("FAULTLINE_REPORT=" + quote(report) + " " + quote(s.path), log);
  t.wall_us = elapsed_us(started);
  std::istringstream lines(read_file(report));
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("test ", 0) != 0) continue;
    ++t.scenarios;
    if (line.find(" failed ") != std::string::npos) ++t.failed;
    for (std::size_t k = 0; k < fault_kinds.size(); ++k) t.faults[k] += field(line, fault_kinds[k]);
    t.virtual_ns += field(line, "virtual_ns");
  }
  if (rc != 0 && t.failed == 0) t.failed = 1;  // crashed, or failed before any test ended
  if (t.failed) std::cout << "  " << s.name << " FAILED; its output is in " << log << "\n";
  return t;
}

std::string seconds(std::uint64_t ns) {
  std::ostringstream o;
  o << std::fixed << std::setprecision(3) << static_cast<double>(ns) / 1e9 << "s";
  return o.str();
}

std::string millis(std::uint64_t us) {
  std::ostringstream o;
  o << std::fixed << std::setprecision(1) << static_cast<double>(us) / 1e3 << "ms";
  return o.str();
}

std::string ordinal(unsigned long n) {
  static constexpr const char* words[] = {"first", "second", "third", "fourth", "fifth"};
  return n < 5 ? words[n] : "call #" + std::to_string(n);
}

// "fetch#0=cancel" -> "the first call of fetch was cancelled": a schedule's
// first fault in words. Empty if the text is not a fault.
std::string explain_fault(const std::string& f) {
  const auto hash = f.find('#');
  const auto eq = f.find('=', hash == std::string::npos ? 0 : hash);
  if (hash == std::string::npos || eq == std::string::npos) return "";
  const std::string point = f.substr(0, hash);
  const unsigned long call = std::strtoul(f.c_str() + hash + 1, nullptr, 10);
  const std::string kind = f.substr(eq + 1);
  std::string what;
  if (kind == "cancel") what = "was cancelled (ended with operation_aborted)";
  else if (kind == "hang") what = "hung until cancelled";
  else if (kind == "exception") what = "threw an exception";
  else if (kind.rfind("error", 0) == 0) what = "failed with an error" + kind.substr(5);
  else if (kind.rfind("latency", 0) == 0) what = "was delayed by " + kind.substr(8, kind.size() > 9 ? kind.size() - 9 : 0);
  else what = "got fault " + kind;
  return "the " + ordinal(call) + " call of " + point + " " + what;
}

// The failure a replay printed: GoogleTest's failure message and the virtual
// timeline the listener printed after it.
std::string failure_excerpt(const std::string& out) {
  std::istringstream lines(out);
  std::string excerpt;
  bool in_failure = false, in_timeline = false;
  int taken = 0;
  for (std::string line; std::getline(lines, line) && taken < 60;) {
    if (!in_failure && line.find(": Failure") != std::string::npos) in_failure = true;
    if (!in_failure) continue;
    if (line.rfind("[ timeline ]", 0) == 0) {
      in_timeline = true;
    } else if (in_timeline && line.rfind("  ", 0) != 0) {
      break;  // the end of the timeline block
    } else if (!in_timeline && line.rfind("[", 0) == 0) {
      continue;  // GoogleTest's and the chaos runner's own status lines
    }
    excerpt += "    " + line + "\n";
    ++taken;
  }
  return excerpt;
}

// The planted-bug sweep: found, minimised, replayed.
bool chaos_demo() {
  if (!*demo_bug.path) return true;
  std::cout << "\nA chaos sweep over a planted bug (" << demo_bug.description << ", in " << demo_bug.source
            << "):\n";
  const std::string log = std::string(demo_work_dir) + "/planted_bug.log";
  const int rc = run("FAULTLINE_SEEDS=200 " + quote(demo_bug.path) + " --gtest_filter=" + quote(demo_bug.filter), log);
  const std::string out = read_file(log);
  std::istringstream lines(out);
  std::string replay, found, minimal;
  int seeds = 0;
  for (std::string line; std::getline(lines, line);) {
    // The report's "ran <n> seeds; seed <n> failed ...": no line is printed per seed.
    if (line.rfind("ran ", 0) == 0 && seeds == 0) seeds = std::atoi(line.c_str() + 4);
    if (line.find("chaos sweep failed at seed") != std::string::npos && found.empty()) found = line;
    if (line.find("minimal schedule (") != std::string::npos && minimal.empty()) minimal = line;
    if (line.find("  replay: ") == 0 && replay.empty()) replay = line.substr(10);
  }
  if (rc == 0 || found.empty() || replay.empty()) {
    std::cout << "  the sweep did not report the planted bug; its output is in " << log << "\n";
    return false;
  }
  std::cout << "  found after " << seeds << " seeds:" << found.substr(found.find(" chaos sweep")) << "\n";
  if (!minimal.empty()) {
    std::cout << "  " << minimal.substr(minimal.find_first_not_of(' ')) << "\n";
    // A schedule is the list of faults injected, `point#call=fault` (calls
    // counted from 0), separated by ';'.
    const auto colon = minimal.rfind("): ");
    const std::string schedule = colon == std::string::npos ? "" : minimal.substr(colon + 3);
    const std::string first = schedule.substr(0, schedule.find(';'));
    const std::string words = explain_fault(first);
    if (!words.empty())
      std::cout << "  (a schedule lists the faults injected as point#call=fault, calls counted from 0: " << first
                << " means " << words << ")\n";
  }
  std::cout << "  replay command: " << replay << "\n";
  const std::string replay_log = std::string(demo_work_dir) + "/planted_bug_replay.log";
  const int replay_rc = run(replay, replay_log);
  const std::string replayed = read_file(replay_log);
  const bool reproduced = replay_rc != 0 && replayed.find("replaying schedule") != std::string::npos;
  std::cout << "  replayed: " << (reproduced ? "the same failure, from the schedule alone" : "DID NOT REPRODUCE")
            << "\n";
  const std::string excerpt = failure_excerpt(replayed);
  if (!excerpt.empty()) std::cout << "  what broke, and when (virtual time):\n" << excerpt;
  std::cout << "  the bug: " << demo_bug.source << " (look for PLANTED BUG)\n";
  return reproduced;
}

}  // namespace

int main() {
  std::cout << "faultline demo: the lesson's async error-handling patterns, each a sample with a test suite\n"
               "that injects latencies, errors, exceptions, hangs and cancellations in virtual time.\n\n";
  std::cout << std::left << std::setw(18) << "sample" << std::right << std::setw(10) << "scenarios";
  for (const char* k : fault_kinds) std::cout << std::setw(10) << k;
  std::cout << std::setw(14) << "virtual time" << std::setw(12) << "wall time" << "\n";
  std::cout << "(wall time, here and below: real time elapsed running each suite's process, start-up included)\n";

  suite_totals all;
  int suites_failed = 0;
  for (const auto& s : demo_suites) {
    const suite_totals t = run_suite(s);
    std::cout << std::left << std::setw(18) << s.name << std::right << std::setw(10) << t.scenarios;
    for (auto f : t.faults) std::cout << std::setw(10) << f;
    std::cout << std::setw(14) << seconds(t.virtual_ns) << std::setw(12) << millis(t.wall_us) << "\n";
    all.scenarios += t.scenarios;
    all.failed += t.failed;
    for (std::size_t k = 0; k < fault_kinds.size(); ++k) all.faults[k] += t.faults[k];
    all.virtual_ns += t.virtual_ns;
    all.wall_us += t.wall_us;
    suites_failed += t.failed ? 1 : 0;
  }
  std::uint64_t faults = 0;
  for (auto f : all.faults) faults += f;
  std::cout << std::left << std::setw(18) << "all" << std::right << std::setw(10) << all.scenarios;
  for (auto f : all.faults) std::cout << std::setw(10) << f;
  std::cout << std::setw(14) << seconds(all.virtual_ns) << std::setw(12) << millis(all.wall_us) << "\n";

  const bool chaos_ok = chaos_demo();
  // The suites' own total (the "all" row), not the demo's: the chaos sweep
  // is not among these scenarios, and "wall time" keeps the table's meaning.
  std::cout << "\n" << all.scenarios << " scenarios injected " << faults << " faults and simulated "
            << seconds(all.virtual_ns) << " of virtual time in " << millis(all.wall_us) << " of wall time.\n";
  if (suites_failed == 0 && all.failed == 0 && chaos_ok && all.scenarios > 0) {
    std::cout << "all " << demo_suites.size() << " samples passed and the planted bug was found and replayed\n";
    return 0;
  }
  std::cout << "demo FAILED: " << all.failed << " scenarios failed" << (chaos_ok ? "" : "; the chaos demo failed")
            << "\n";
  return 1;
}
