// faultline - the trace ring buffer, its hash, and the timeline text.
#include <faultline/trace.hpp>

#include <faultline/detail/format.hpp>

#include "text.hpp"

#include <algorithm>
#include <cstring>
#include <fstream>
#include <map>
#include <ostream>
#include <stdexcept>

namespace faultline {
namespace {

// One multiply-xorshift round per 64-bit word: cheap enough to run on every
// event, and any difference in any field changes the result.
void mix(std::uint64_t& h, std::uint64_t v) noexcept {
  h = (h ^ v) * 0x9E3779B97F4A7C15ull;
  h ^= h >> 29;
}

void mix_bytes(std::uint64_t& h, std::string_view s) noexcept {
  std::uint64_t word = 0;
  std::size_t i = 0;
  for (; i + 8 <= s.size(); i += 8) {
    std::memcpy(&word, s.data() + i, 8);
    mix(h, word);
  }
  word = s.size();
  std::memcpy(&word, s.data() + i, s.size() - i);
  mix(h, word);
}

}  // namespace

const char* to_string(event_kind k) noexcept {
  switch (k) {
    case event_kind::spawned: return "spawned";
    case event_kind::returned: return "returned";
    case event_kind::threw: return "threw";
    case event_kind::cancelled: return "was cancelled";
    case event_kind::timer_wait: return "waits";
    case event_kind::timer_fired: return "fired";
    case event_kind::timer_cancelled: return "cancelled";
    case event_kind::stalled: return "stalled";
    case event_kind::livelock: return "livelock";
    case event_kind::horizon: return "horizon reached";
    case event_kind::note: return "note";
    case event_kind::call: return "called";
    case event_kind::call_returned: return "-> returned";
    case event_kind::call_threw: return "-> threw";
    case event_kind::call_failed: return "-> failed with";
    case event_kind::call_cancelled: return "-> was cancelled";
    case event_kind::fault: return "fault:";
    case event_kind::failpoint: return "failpoint hit:";
    case event_kind::io: return "io:";
    case event_kind::net: return "net:";
    case event_kind::invariant: return "invariant broken:";
  }
  return "event";
}

std::string trace_event::describe() const {
  std::string s = to_string(at);
  s += ' ';
  s += subject;
  s += ' ';
  s += to_string(kind);
  if (!detail.empty()) {
    s += kind == event_kind::note || kind == event_kind::stalled ? ": " : " ";
    s += detail;
  }
  return s;
}

trace::trace(std::size_t capacity) : capacity_(capacity == 0 ? 1 : capacity) {
  // One allocation up front for a typical test; larger runs grow it once or twice.
  ring_.reserve(capacity_ < 256 ? capacity_ : 256);
}

std::uint32_t trace::append_subject(std::uint32_t source, std::uint32_t key) {
  subjects_.push_back({subject_count_, 1, source, key});
  return subject_count_++;
}

std::uint32_t trace::add_subject(std::string name) {
  names_.push_back(std::move(name));
  return add_subject(named, static_cast<std::uint32_t>(names_.size() - 1));
}

std::uint32_t trace::add_source(const subject_source& source) {
  sources_.push_back(&source);
  return static_cast<std::uint32_t>(sources_.size() - 1);
}


std::string trace::subject_name(std::uint32_t subject) const {
  if (subject >= subject_count_) return {};
  // The last run starting at or before `subject`.
  auto it = std::upper_bound(subjects_.begin(), subjects_.end(), subject,
                             [](std::uint32_t s, const subject_run& r) { return s < r.first; });
  const subject_run& r = *--it;
  const std::uint32_t key = r.key + (subject - r.first);
  if (r.source == named) return names_[key];
  return sources_[r.source] ? sources_[r.source]->subject_name(key) : std::string();
}

void trace::retire_source(std::uint32_t source) noexcept {
  if (source >= sources_.size() || !sources_[source]) return;
  try {
    name_retained(source);
  } catch (...) {
    // Out of memory naming them: those events lose their subject's name, not the run.
  }
  sources_[source] = nullptr;
}

void trace::name_retained(std::uint32_t source) {
  // Retained events are the only readers left: give each subject of theirs
  // from this source a run of its own, pointing at its name.
  std::vector<std::uint32_t> used;
  for (const record_type& r : ring_)
    if (!(r.subject & timer_bit) && r.subject < subject_count_) used.push_back(r.subject);
  std::sort(used.begin(), used.end());
  used.erase(std::unique(used.begin(), used.end()), used.end());
  std::vector<subject_run> runs;
  runs.reserve(subjects_.size());
  auto next_used = used.begin();
  for (const subject_run& r : subjects_) {
    if (r.source != source) {
      runs.push_back(r);
      continue;
    }
    // Subjects of this run: the ones still read get names; the rest are
    // kept as a run of a retired source, which names nothing.
    std::uint32_t from = r.first;
    const std::uint32_t end = r.first + r.count;
    next_used = std::lower_bound(next_used, used.end(), r.first);
    for (; next_used != used.end() && *next_used < end; ++next_used) {
      const std::uint32_t s = *next_used;
      if (s > from) runs.push_back({from, s - from, source, r.key + (from - r.first)});
      names_.push_back(sources_[source]->subject_name(r.key + (s - r.first)));
      runs.push_back({s, 1, named, static_cast<std::uint32_t>(names_.size() - 1)});
      from = s + 1;
    }
    if (end > from) runs.push_back({from, end - from, source, r.key + (from - r.first)});
  }
  subjects_ = std::move(runs);
}

void trace::record(std::int64_t at_ns, event_kind kind, std::uint32_t subject, std::int64_t value,
                   std::string_view text) {
  mix(hash_, static_cast<std::uint64_t>(at_ns));
  mix(hash_, static_cast<std::uint64_t>(subject) << 8 | static_cast<std::uint64_t>(kind));
  mix(hash_, static_cast<std::uint64_t>(value));
  if (!text.empty()) mix_bytes(hash_, text);
  ++total_;
  if (ring_.size() < capacity_) {
    ring_.push_back({at_ns, value, subject, kind, std::string(text)});
    return;
  }
  record_type& slot = ring_[head_];
  slot.at_ns = at_ns;
  slot.value = value;
  slot.subject = subject;
  slot.kind = kind;
  if (text.empty())
    slot.text.clear();
  else
    slot.text.assign(text);  // reuses the slot's buffer
  if (++head_ == capacity_) head_ = 0;
}

void trace::note(std::string text) { record(now_ns_ ? *now_ns_ : 0, event_kind::note, 0, 0, text); }

trace_event trace::materialise(const record_type& r, std::uint64_t index) const {
  trace_event e;
  e.index = index;
  e.at = sim_clock::time_point(sim_clock::duration(r.at_ns));
  e.kind = r.kind;
  if (r.subject & timer_bit)
    e.subject = "timer#" + std::to_string(r.subject & ~timer_bit);
  else
    e.subject = subject_name(r.subject);
  switch (r.kind) {
    case event_kind::timer_wait:
      e.detail = r.value == std::numeric_limits<std::int64_t>::max()
                     ? "until cancelled"
                     : "until " + to_string(sim_clock::time_point(sim_clock::duration(r.value)));
      break;
    case event_kind::horizon:
      e.detail = "(next timer at " + to_string(sim_clock::time_point(sim_clock::duration(r.value))) + ")";
      break;
    case event_kind::livelock:
      // Appended piecewise: GCC 12 at -O3 misreports "(" + string as -Wrestrict.
      e.detail.push_back('(');
      e.detail += std::to_string(r.value);
      e.detail += " handlers at one instant)";
      break;
    default:
      e.detail = r.text;
  }
  return e;
}

std::vector<trace_event> trace::events() const {
  std::vector<trace_event> out;
  out.reserve(ring_.size());
  const std::uint64_t first = total_ - ring_.size();
  for (std::size_t i = 0; i < ring_.size(); ++i)
    out.push_back(materialise(ring_[(head_ + i) % ring_.size()], first + i));
  return out;
}

std::string trace::timeline(std::size_t last) const {
  const std::size_t n = ring_.size();
  const std::size_t skip = last >= n ? 0 : n - last;
  const std::uint64_t first = total_ - n;
  std::string s;
  for (std::size_t i = skip; i < n; ++i) {
    s += materialise(ring_[(head_ + i) % n], first + i).describe();
    s += '\n';
  }
  return s;
}

namespace {

void append_json_string(std::string& out, std::string_view s) {
  detail::append_quoted_text(out, s, detail::escape_style::json);
}

// Which events open and close a slice; the rest are instants.
int slice_edge(event_kind k) noexcept {
  switch (k) {
    case event_kind::spawned:
    case event_kind::call: return 1;
    case event_kind::returned:
    case event_kind::threw:
    case event_kind::cancelled:
    case event_kind::call_returned:
    case event_kind::call_threw:
    case event_kind::call_failed:
    case event_kind::call_cancelled: return -1;
    default: return 0;
  }
}

bool is_call(event_kind k) noexcept {
  return k == event_kind::call || k == event_kind::call_returned || k == event_kind::call_threw ||
         k == event_kind::call_failed || k == event_kind::call_cancelled;
}

// Microseconds with the nanoseconds kept as a fraction.
std::string chrome_ts(std::int64_t at_ns) {
  return std::to_string(at_ns / 1000) + "." + std::to_string(1000 + at_ns % 1000).substr(1);
}

// A connection's trace subject names both ends ("app:49152 -> db:5432",
// "db:5432 <- app:49152"); a host's own events name it alone, or with a port.
bool is_connection(std::string_view subject) noexcept {
  return subject.find(" -> ") != std::string_view::npos || subject.find(" <- ") != std::string_view::npos;
}

// What ends a connection's slice: its socket closed, reset, failed to
// connect, or vanished with its host.
bool ends_connection(std::string_view detail) noexcept {
  return detail == "close" || detail == "reset" || detail == "arrived: rst" || detail == "gone (host crashed)" ||
         detail.starts_with("connect failed");
}

// Where the network's events go in the Chrome export: one process per host
// (pid 2, 3, ... in order of first appearance), thread 1 for the host's own
// events, one thread per connection (by trace subject) with its lifetime as a slice.
struct net_tracks {
  struct connection {
    std::uint32_t subject;
    std::string name;
    int pid;
    int tid;
    bool open;  // begun and not ended
  };
  std::vector<std::string> hosts;  // pid - 2
  std::vector<int> next_tid;       // per host
  std::vector<connection> connections;
  std::map<std::uint32_t, std::size_t> by_subject;  // index in `connections`

  int pid_of(std::string_view subject) {
    const std::string_view host = subject.substr(0, subject.find(':'));
    const auto it = std::find(hosts.begin(), hosts.end(), host);
    if (it != hosts.end()) return static_cast<int>(it - hosts.begin()) + 2;
    hosts.emplace_back(host);
    next_tid.push_back(2);
    return static_cast<int>(hosts.size()) + 1;
  }
  // The connection of `subject`, made on its first event (true in `is_new`).
  connection& connection_of(std::uint32_t subject, std::string_view name, bool& is_new) {
    const auto [it, inserted] = by_subject.try_emplace(subject, connections.size());
    is_new = inserted;
    if (!inserted) return connections[it->second];
    const int pid = pid_of(name);
    return connections.emplace_back(connection{subject, std::string(name), pid, next_tid[static_cast<std::size_t>(pid - 2)]++, true});
  }
};

void append_args(std::string& s, event_kind kind, const std::string& detail) {
  s += ",\"args\":{\"event\":";
  append_json_string(s, to_string(kind));
  if (!detail.empty()) {
    s += ",\"detail\":";
    append_json_string(s, detail);
  }
  s += "}}";
}

void append_metadata(std::string& s, const char* what, int pid, int tid, std::string_view name) {
  s += ",\n{\"name\":\"";
  s += what;
  s += "\",\"ph\":\"M\",\"pid\":" + std::to_string(pid);
  if (tid) s += ",\"tid\":" + std::to_string(tid);
  s += ",\"args\":{\"name\":";
  append_json_string(s, name);
  s += "}}";
}

}  // namespace

void trace::write_chrome_json(std::ostream& out) const {
  std::string s = "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[";
  bool first = true;
  net_tracks net;
  std::vector<std::pair<int, int>> host_threads;  // (pid, tid) of each host's own events
  const std::size_t n = ring_.size();
  for (std::size_t i = 0; i < n; ++i) {
    const record_type& r = ring_[(head_ + i) % n];
    const trace_event e = materialise(r, total_ - n + i);
    if (!first) s += ',';
    first = false;
    if (r.kind == event_kind::net) {
      // The network's events: on their host's process, a connection's on its own thread.
      int pid = 0;
      int tid = 1;
      const char* ph = "\"i\",\"s\":\"t\"";
      std::string name = e.subject + " " + e.detail;
      if (is_connection(e.subject)) {
        bool is_new = false;
        net_tracks::connection& c = net.connection_of(r.subject, e.subject, is_new);
        pid = c.pid;
        tid = c.tid;
        if (is_new) {
          ph = "\"B\"";
          name = e.subject;
        } else if (c.open && ends_connection(e.detail)) {
          ph = "\"E\"";
          c.open = false;
        }
      } else {
        pid = net.pid_of(e.subject);
        if (std::find(host_threads.begin(), host_threads.end(), std::pair(pid, 1)) == host_threads.end())
          host_threads.emplace_back(pid, 1);
      }
      s += "\n{\"name\":";
      append_json_string(s, name);
      s += ",\"cat\":\"net\",\"ph\":";
      s += ph;
      s += ",\"ts\":" + chrome_ts(r.at_ns) + ",\"pid\":" + std::to_string(pid) + ",\"tid\":" + std::to_string(tid);
      append_args(s, r.kind, e.detail);
      continue;
    }
    const int edge = slice_edge(r.kind);
    s += "\n{\"name\":";
    append_json_string(s, edge ? e.subject : e.subject + " " + to_string(r.kind));
    s += ",\"cat\":";
    s += edge ? (is_call(r.kind) ? "\"call\"" : "\"task\"") : "\"event\"";
    s += ",\"ph\":";
    s += edge > 0 ? "\"b\"" : edge < 0 ? "\"e\"" : "\"i\",\"s\":\"g\"";
    if (edge) s += ",\"id\":" + std::to_string(r.subject);
    s += ",\"ts\":" + chrome_ts(r.at_ns) + ",\"pid\":1,\"tid\":1";
    append_args(s, r.kind, e.detail);
  }
  if (!net.hosts.empty()) {
    // Connections still open end with the trace; then the names of processes and threads.
    const std::string last = chrome_ts(ring_[(head_ + n - 1) % n].at_ns);
    for (const net_tracks::connection& c : net.connections)
      if (c.open)
        s += ",\n{\"name\":\"open at the end of the trace\",\"cat\":\"net\",\"ph\":\"E\",\"ts\":" + last +
             ",\"pid\":" + std::to_string(c.pid) + ",\"tid\":" + std::to_string(c.tid) + ",\"args\":{}}";
    append_metadata(s, "process_name", 1, 0, "sim");
    for (std::size_t h = 0; h < net.hosts.size(); ++h)
      append_metadata(s, "process_name", static_cast<int>(h) + 2, 0, net.hosts[h]);
    for (const auto& [pid, tid] : host_threads)
      append_metadata(s, "thread_name", pid, tid, net.hosts[static_cast<std::size_t>(pid - 2)]);
    for (const net_tracks::connection& c : net.connections) append_metadata(s, "thread_name", c.pid, c.tid, c.name);
  }
  s += "\n]}\n";
  out << s;
}

void trace::write_chrome_json(const std::string& path) const {
  std::ofstream f(path, std::ios::binary);
  if (f) write_chrome_json(f);
  if (!f) throw std::runtime_error("faultline: trace::write_chrome_json: cannot write " + path);
}

}  // namespace faultline
