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
  std::uint64_t wall_us = 0;
};

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
  const int rc = run("FAULTLINE_REPORT=" + quote(report) + " " + quote(s.path), log);
  suite_totals t;
  std::istringstream lines(read_file(report));
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("test ", 0) != 0) continue;
    ++t.scenarios;
    if (line.find(" failed ") != std::string::npos) ++t.failed;
    for (std::size_t k = 0; k < fault_kinds.size(); ++k) t.faults[k] += field(line, fault_kinds[k]);
    t.virtual_ns += field(line, "virtual_ns");
    t.wall_us += field(line, "wall_us");
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

// The planted-bug sweep: found, minimised, replayed.
bool chaos_demo() {
  if (!*demo_bug.path) return true;
  std::cout << "\nA chaos sweep over a planted bug (" << demo_bug.description << "):\n";
  const std::string log = std::string(demo_work_dir) + "/planted_bug.log";
  const int rc = run("FAULTLINE_SEEDS=200 " + quote(demo_bug.path) + " --gtest_filter=" + quote(demo_bug.filter), log);
  const std::string out = read_file(log);
  std::istringstream lines(out);
  std::string replay, found, minimal;
  int seeds = 0;
  for (std::string line; std::getline(lines, line);) {
    if (line.find("[ chaos    ]") == 0 && line.find(" seed ") != std::string::npos &&
        line.find("failed") == std::string::npos)
      ++seeds;
    if (line.find("chaos sweep failed at seed") != std::string::npos && found.empty()) found = line;
    if (line.find("minimal schedule (") != std::string::npos && minimal.empty()) minimal = line;
    if (line.find("  replay: ") == 0 && replay.empty()) replay = line.substr(10);
  }
  if (rc == 0 || found.empty() || replay.empty()) {
    std::cout << "  the sweep did not report the planted bug; its output is in " << log << "\n";
    return false;
  }
  std::cout << "  found after " << seeds << " seeds:" << found.substr(found.find(" chaos sweep") ) << "\n"
            << "  " << minimal.substr(minimal.find_first_not_of(' ')) << "\n"
            << "  replay command: " << replay << "\n";
  const std::string replay_log = std::string(demo_work_dir) + "/planted_bug_replay.log";
  const int replay_rc = run(replay, replay_log);
  const std::string replayed = read_file(replay_log);
  const bool reproduced = replay_rc != 0 && replayed.find("replaying schedule") != std::string::npos;
  std::cout << "  replayed: " << (reproduced ? "the same failure, from the schedule alone" : "DID NOT REPRODUCE")
            << "\n";
  return reproduced;
}

}  // namespace

int main() {
  std::cout << "faultline demo: the lesson's async error-handling patterns, each a sample with a test suite\n"
               "that injects latencies, errors, exceptions, hangs and cancellations in virtual time.\n\n";
  std::cout << std::left << std::setw(18) << "sample" << std::right << std::setw(10) << "scenarios";
  for (const char* k : fault_kinds) std::cout << std::setw(10) << k;
  std::cout << std::setw(14) << "virtual time" << std::setw(12) << "wall time" << "\n";

  suite_totals all;
  int suites_failed = 0;
  const auto started = std::chrono::steady_clock::now();
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
  const auto wall = std::chrono::steady_clock::now() - started;
  std::cout << "\n" << all.scenarios << " scenarios injected " << faults << " faults and simulated "
            << seconds(all.virtual_ns) << " of virtual time in "
            << millis(static_cast<std::uint64_t>(std::chrono::duration_cast<std::chrono::microseconds>(wall).count()))
            << " of wall time (processes included).\n";
  if (suites_failed == 0 && all.failed == 0 && chaos_ok && all.scenarios > 0) {
    std::cout << "all " << demo_suites.size() << " samples passed and the planted bug was found and replayed\n";
    return 0;
  }
  std::cout << "demo FAILED: " << all.failed << " scenarios failed" << (chaos_ok ? "" : "; the chaos demo failed")
            << "\n";
  return 1;
}
