// faultline - fault schedules: printing, parsing, and the checks that make every printed schedule parse back.
#include <faultline/chaos.hpp>

#include <faultline/detail/error_names.hpp>

#include "text.hpp"

#include <algorithm>
#include <cstdint>
#include <limits>
#include <functional>
#include <optional>
#include <unordered_map>
#include <utility>

namespace faultline {

namespace detail {
// Also used by chaos.cpp for the trace: `step(-30s)`, `slew(+500ppm,10s)`, ...
std::string clock_fault_text(const fault& f);
}  // namespace detail

namespace {

using detail::append_quoted_text;
using detail::is_digit;
using detail::is_lower;
using detail::parse_int;

// -- quoting ----------------------------------------------------------------------

// A point name is printed bare when every byte is printable ASCII other than
// the schedule's own punctuation; the parser reads exactly that set bare.
bool is_bare(char c) noexcept {
  const auto u = static_cast<unsigned char>(c);
  return u > 0x20 && u < 0x7f && c != ';' && c != '=' && c != '"' && c != '\\';
}

bool needs_quotes(std::string_view name) noexcept {
  if (name.empty()) return true;
  for (char c : name)
    if (!is_bare(c)) return true;
  return false;
}

// For messages: the offending text, quoted as a schedule prints a name, cut at 80 bytes so
// that a megabyte of schedule never becomes a megabyte of message.
std::string shown(std::string_view s) {
  constexpr std::size_t max = 80;
  std::string out;
  append_quoted_text(out, s.substr(0, max));
  if (s.size() > max) out += "...";
  return out;
}

// The most readable exact unit: 250ms, 1500us, 3s; 0ns.
std::string duration_token(sim_clock::duration d) {
  const auto ns = d.count();
  if (ns != 0 && ns % 1'000'000'000 == 0) return std::to_string(ns / 1'000'000'000) + "s";
  if (ns != 0 && ns % 1'000'000 == 0) return std::to_string(ns / 1'000'000) + "ms";
  if (ns != 0 && ns % 1'000 == 0) return std::to_string(ns / 1'000) + "us";
  return std::to_string(ns) + "ns";
}

// A signed duration, always with its sign: +120ms, -30s, +0ns.
std::string signed_duration_token(sim_clock::duration d) {
  if (d.count() < 0) {
    // -min() does not exist: print its magnitude in nanoseconds by hand.
    if (d == sim_clock::duration::min()) return "-9223372036854775808ns";
    return "-" + duration_token(-d);
  }
  return "+" + duration_token(d);
}

std::string signed_ppm_token(std::int64_t n) { return (n < 0 ? "" : "+") + std::to_string(n) + "ppm"; }

bool is_default_error(const boost::system::error_code& ec) {
  return !ec || ec == make_error_code(error::injected_fault);
}

constexpr std::string_view form =
    "; write point#call=kind with kinds error, error(name), exception, hang, cancel, latency(250ms) (and at "
    "wall_clock points step(-30s), slew(+500ppm,10s), skew(+120ms,-80ppm)), separated "
    "by ';', and quote a point name holding ; = \" \\ or spaces: \"GET /x?id=1\"#0=hang";

// -- the parser ---------------------------------------------------------------------

bool is_space(char c) noexcept { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

int hex_value(char c) noexcept {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

// Membership only (nothing iterates it, so its order reaches no output):
// expected O(1) per fault keeps parsing linear.
struct call_key_hash {
  std::size_t operator()(const std::pair<std::string_view, std::uint64_t>& k) const noexcept {
    return std::hash<std::string_view>()(k.first) ^ (std::hash<std::uint64_t>()(k.second) * 0x9e3779b97f4a7c15ull);
  }
};
using call_set = std::unordered_map<std::pair<std::string_view, std::uint64_t>, std::size_t, call_key_hash>;

std::string unprintable(const fault& f);

class parser {
 public:
  explicit parser(std::string_view text) : text_(text) {}

  fault_schedule parse() {
    std::vector<fault> faults;
    std::vector<std::size_t> starts, ends;  // where each fault's entry is, for duplicates
    for (;;) {
      skip_space();
      if (at_end()) break;
      if (peek() == ';') {
        ++pos_;
        continue;
      }
      entry_ = pos_;
      starts.push_back(pos_);
      faults.push_back(entry());
      ends.push_back(pos_);
      skip_space();
      if (at_end()) break;
      if (peek() != ';') fail(pos_, "is followed by " + shown(token_here()) + " where ';' or the end belongs");
      ++pos_;
    }
    // Duplicates once every name is in place (the views must not move):
    // one hashed look-up per fault, and the second fault is the one reported.
    call_set seen;
    seen.reserve(faults.size());
    for (std::size_t i = 0; i < faults.size(); ++i) {
      const auto [it, added] = seen.try_emplace({faults[i].point, faults[i].call}, i);
      if (!added) {
        entry_ = starts[i];
        pos_ = ends[i];
        fail(starts[i], "gives a second fault to the same call (the first is at column " +
                            std::to_string(starts[it->second]) + ")");
      }
    }
    fault_schedule s;
    s.faults() = std::move(faults);
    return s;
  }

 private:
  bool at_end() const noexcept { return pos_ >= text_.size(); }
  char peek() const noexcept { return text_[pos_]; }
  void skip_space() noexcept {
    while (!at_end() && is_space(peek())) ++pos_;
  }

  // The entry being parsed, from its start to the next ';' (or the end).
  std::string_view entry_text() const {
    auto end = text_.find(';', std::max(pos_, entry_));
    if (end == std::string_view::npos) end = text_.size();
    return text_.substr(entry_, end - entry_);
  }

  // What stands at pos_ for a message: up to the next punctuation.
  std::string_view token_here() const {
    std::size_t end = pos_;
    while (end < text_.size() && text_[end] != ';' && text_[end] != '(' && text_[end] != ')' && !is_space(text_[end]))
      ++end;
    if (end == pos_ && end < text_.size()) ++end;
    return text_.substr(pos_, end - pos_);
  }

  [[noreturn]] void fail(std::size_t at, const std::string& why) const {
    throw schedule_error("faultline: bad fault schedule at column " + std::to_string(at) + ": " +
                             shown(entry_text()) + " " + why + std::string(form),
                         at);
  }

  fault entry() {
    fault f;
    if (peek() == '"') {
      f.point = quoted();
      if (at_end() || peek() != '#')
        fail(pos_, "is not of the form point#call=kind: '#' and the call index must follow the quoted name");
      ++pos_;
      f.call = call_index(text_.size());
    } else {
      const std::size_t start = pos_;
      while (!at_end() && is_bare(peek())) ++pos_;
      const std::string_view bare = text_.substr(start, pos_ - start);
      // The call index follows the last '#', so names may hold '#' ("faulty_stream#1").
      const auto hash = bare.rfind('#');
      if (hash == std::string_view::npos || hash == 0) {
        if (!at_end() && peek() != '=' && peek() != ';') bad_bare_char();
        fail(start, "is not of the form point#call=kind");
      }
      f.point = std::string(bare.substr(0, hash));
      const std::size_t end = pos_;
      pos_ = start + hash + 1;
      f.call = call_index(end);
      if (pos_ != end) fail(pos_, "has no call index after '#' (found " + shown(text_.substr(pos_, end - pos_)) + ")");
    }
    skip_space();
    if (at_end() || peek() != '=') {
      if (!at_end() && peek() != ';' && !is_space(peek())) bad_bare_char();
      fail(pos_, "is not of the form point#call=kind: '=' and a kind must follow the call index");
    }
    ++pos_;
    skip_space();
    const std::size_t kind_at = pos_;
    kind(f);
    if (auto why = unprintable(f); !why.empty()) fail(kind_at, why);
    return f;
  }

  // At a byte that ended a bare name where the name seems to go on.
  [[noreturn]] void bad_bare_char() const {
    const std::string c = shown(text_.substr(pos_, 1));
    if (static_cast<unsigned char>(peek()) >= 0x80)
      fail(pos_, "has a byte that is not ASCII (" + c +
                     ") in a bare point name; quote the name, as in \"caf\\xc3\\xa9\"#0=hang");
    fail(pos_, "has " + c + " in a bare point name; quote the name, as in \"GET /x?id=1\"#0=hang");
  }

  // At '"': the decoded name; pos_ ends after the closing quote.
  std::string quoted() {
    const std::size_t open = pos_++;
    std::string out;
    for (;;) {
      if (at_end()) fail(open, "opens a quoted point name without closing it");
      const char c = peek();
      if (c == '"') {
        ++pos_;
        return out;
      }
      if (c != '\\') {
        out += c;
        ++pos_;
        continue;
      }
      const std::size_t esc = pos_++;
      if (at_end()) fail(esc, "ends inside an escape; write \\\", \\\\ or \\xHH");
      const char e = peek();
      if (e == '"' || e == '\\') {
        out += e;
        ++pos_;
      } else if (e == 'x' && pos_ + 2 < text_.size() && hex_value(text_[pos_ + 1]) >= 0 &&
                 hex_value(text_[pos_ + 2]) >= 0) {
        out += static_cast<char>(hex_value(text_[pos_ + 1]) * 16 + hex_value(text_[pos_ + 2]));
        pos_ += 3;
      } else {
        fail(esc, "has the escape " + shown(text_.substr(esc, std::min<std::size_t>(4, text_.size() - esc))) +
                      " in a quoted name; write \\\", \\\\ or \\xHH (two hex digits)");
      }
    }
  }

  // Digits from pos_ up to `end` at most: 0 to 2^64-1, nothing else.
  std::uint64_t call_index(std::size_t end) {
    const std::size_t start = pos_;
    while (pos_ < end && is_digit(text_[pos_])) ++pos_;
    const std::string_view digits = text_.substr(start, pos_ - start);
    if (digits.empty()) fail(start, "has no call index after '#'");
    std::uint64_t n = 0;
    if (!parse_int(digits, n))
      fail(start, "has the call index " + shown(digits) + ", beyond the largest, " +
                      std::to_string(std::numeric_limits<std::uint64_t>::max()));
    return n;
  }

  void kind(fault& f) {
    const std::size_t at = pos_;
    while (!at_end() && is_lower(peek())) ++pos_;
    const std::string_view word = text_.substr(at, pos_ - at);
    std::optional<std::string_view> arg;
    std::size_t arg_at = pos_;
    if (!at_end() && peek() == '(') {
      const std::size_t open = pos_++;
      arg_at = pos_;
      const auto close = text_.find(')', pos_);
      const auto semi = text_.find(';', pos_);
      if (close == std::string_view::npos || (semi != std::string_view::npos && semi < close))
        fail(open, "opens '(' without closing it");
      arg = text_.substr(pos_, close - pos_);
      pos_ = close + 1;
    }
    if (word == "error") {
      f.kind = fault_kind::error;
      f.error_code = make_error_code(error::injected_fault);
      if (!arg) return;
      boost::system::error_code ec;
      if (arg->empty()) fail(arg_at, "has error() with no code; write error, or name the code: error(timed_out)");
      if (!detail::lookup_error(*arg, ec))
        fail(arg_at, "names an unknown error " + shown(*arg) + "; use " + detail::error_name_list() +
                         " up to 2147483647, or category:number with a category of system, generic, asio.* or "
                         "faultline (system:2); never 0 (success)");
      f.error_code = ec;
      return;
    }
    if (word == "latency") {
      f.kind = fault_kind::latency;
      if (!arg) fail(at, "has latency without a duration; write latency(250ms)");
      f.latency = duration(arg_at, *arg);
      return;
    }
    if (word == "step" || word == "slew" || word == "skew") {
      clock_kind(f, word, at, arg, arg_at);
      return;
    }
    if (word == "exception") f.kind = fault_kind::exception;
    else if (word == "hang") f.kind = fault_kind::hang;
    else if (word == "cancel") f.kind = fault_kind::cancel;
    else
      fail(at, "has an unknown fault kind " + shown(word.empty() ? token_here() : word) +
                   "; kinds are error, exception, hang, cancel, latency, step, slew, skew");
    if (arg) fail(arg_at - 1, "gives " + std::string(word) + " an argument " + shown(*arg) + "; " +
                                  std::string(word) + " takes none");
  }

  // step(±d), slew(±n ppm[,d]), skew(±d,±n ppm); `at` is the kind's column.
  void clock_kind(fault& f, std::string_view word, std::size_t at, std::optional<std::string_view> arg,
                  std::size_t arg_at) {
    f.kind = fault_kind::clock;
    const char* example = word == "step" ? "step(-30s)" : word == "slew" ? "slew(+500ppm,10s)" : "skew(+120ms,-80ppm)";
    if (!arg || arg->empty())
      fail(at, "has " + std::string(word) + " without its argument; write " + example);
    const auto comma = arg->find(',');
    const std::string_view first = arg->substr(0, comma);
    const std::optional<std::string_view> second =
        comma == std::string_view::npos ? std::nullopt : std::optional(arg->substr(comma + 1));
    const std::size_t second_at = arg_at + comma + 1;
    if (word == "step") {
      if (second) fail(second_at - 1, "gives step two arguments; write " + std::string(example));
      f.clock_step = signed_duration(arg_at, first);
    } else if (word == "slew") {
      f.clock_ppm = signed_ppm(arg_at, first);
      if (second) f.clock_for = duration(second_at, *second);
    } else {
      if (!second) fail(arg_at, "gives skew one argument; write " + std::string(example));
      f.clock_step = signed_duration(arg_at, first);
      f.clock_ppm = signed_ppm(second_at, *second);
    }
  }

  sim_clock::duration signed_duration(std::size_t at, std::string_view s) {
    if (!s.empty() && s[0] == '-') {
      // Whole magnitudes up to 2^63 - 1 ns: -min() is out of reach, like a
      // latency's +2^63.
      return -duration(at + 1, s.substr(1));
    }
    if (!s.empty() && s[0] == '+') return duration(at + 1, s.substr(1));
    return duration(at, s);
  }

  std::int64_t signed_ppm(std::size_t at, std::string_view s) {
    const bool negative = !s.empty() && s[0] == '-';
    const std::size_t sign = !s.empty() && (s[0] == '-' || s[0] == '+') ? 1 : 0;
    std::size_t i = sign;
    while (i < s.size() && is_digit(s[i])) ++i;
    const std::string_view digits = s.substr(sign, i - sign);
    if (digits.empty() || s.substr(i) != "ppm")
      fail(at, "has the rate " + shown(s) + ", not a whole number of ppm: +500ppm");
    std::int64_t n = 0;
    const bool parsed = parse_int(digits, n);
    if (negative) n = -n;
    if (!parsed || n < ppm::min || n > ppm::max)
      fail(at, "has the rate " + shown(s) + ", outside " + std::to_string(ppm::min) + "ppm to +" +
                   std::to_string(ppm::max) + "ppm");
    return n;
  }

  sim_clock::duration duration(std::size_t at, std::string_view s) {
    std::size_t i = 0;
    while (i < s.size() && is_digit(s[i])) ++i;
    const std::string_view digits = s.substr(0, i);
    const std::string_view unit = s.substr(i);
    if (digits.empty())
      fail(at, "has the latency " + shown(s) + ", not a whole, non-negative number with a unit: latency(250ms)");
    std::int64_t scale = 0;
    if (unit == "ns") scale = 1;
    else if (unit == "us") scale = 1'000;
    else if (unit == "ms") scale = 1'000'000;
    else if (unit == "s") scale = 1'000'000'000;
    else
      fail(at + i, "has a latency without a unit (ns, us, ms or s): " + shown(s));
    constexpr auto max = std::numeric_limits<std::int64_t>::max();
    std::uint64_t n = 0;
    if (!parse_int(digits, n) || n > static_cast<std::uint64_t>(max / scale))
      fail(at, "has the latency " + shown(s) + ", beyond the largest, " + std::to_string(max) +
                   "ns (about 292 years)");
    return sim_clock::duration(static_cast<std::int64_t>(n) * scale);
  }

  std::string_view text_;
  std::size_t pos_ = 0;
  std::size_t entry_ = 0;
};

// Why `f` cannot be printed and parsed back, or empty.
std::string unprintable(const fault& f) {
  if (f.kind == fault_kind::latency && f.latency.count() < 0)
    return "has a negative latency (" + std::to_string(f.latency.count()) + "ns); use a latency >= 0";
  if (f.kind == fault_kind::error && !is_default_error(f.error_code) &&
      !detail::error_name_round_trips(f.error_code))
    return "has the error code " + detail::error_name(f.error_code) + " (\"" + f.error_code.message() +
           "\"), which a schedule cannot name; use a code of the system, generic, asio or faultline categories";
  const bool clock_point = fault::is_clock_point(f.point);
  if (f.kind == fault_kind::clock && !clock_point)
    return "is a wall-clock fault at a point that is not a wall-clock read; name wall_clock or wall_clock@<host>";
  if (f.kind != fault_kind::clock && clock_point)
    return "is a " + std::string(to_string(f.kind)) +
           " fault at a wall-clock read, which takes only step, slew and skew";
  switch (f.kind) {
    case fault_kind::latency:
    case fault_kind::error:
    case fault_kind::exception:
    case fault_kind::hang:
    case fault_kind::cancel: return {};
    case fault_kind::clock:
      if (f.clock_step == sim_clock::duration::min())
        return "steps the clock by the one duration a schedule cannot print (-2^63ns); step by less";
      if (f.clock_for.count() < 0) return "slews the clock for a negative time; give a length >= 0";
      if (f.clock_ppm < ppm::min || f.clock_ppm > ppm::max)
        return "changes the clock's rate by " + std::to_string(f.clock_ppm) + "ppm, outside " +
               std::to_string(ppm::min) + " to " + std::to_string(ppm::max);
      if (f.clock_step.count() == 0 && f.clock_ppm == 0) return "changes nothing (no step, no rate change)";
      if (f.clock_step.count() != 0 && f.clock_ppm != 0 && f.clock_for.count() != 0)
        return "steps the clock and changes its rate for a while, which no kind prints; split it, or make the "
               "rate change for good (clock_for 0: skew)";
      if (f.clock_ppm == 0 && f.clock_for.count() != 0)
        return "has a slew length without a rate change; set clock_for to 0 for a step";
      return {};
  }
  return "has no known fault kind (" + std::to_string(static_cast<int>(f.kind)) + ")";
}

}  // namespace

std::string fault::to_string() const {
  std::string s;
  if (needs_quotes(point)) append_quoted_text(s, point);
  else s += point;
  s += '#';
  s += std::to_string(call);
  s += '=';
  switch (kind) {
    case fault_kind::error:
      s += "error";
      if (!is_default_error(error_code)) s += "(" + detail::error_name(error_code) + ")";
      break;
    case fault_kind::exception: s += "exception"; break;
    case fault_kind::hang: s += "hang"; break;
    case fault_kind::cancel: s += "cancel"; break;
    case fault_kind::latency: s += "latency(" + duration_token(latency) + ")"; break;
    case fault_kind::clock: s += detail::clock_fault_text(*this); break;
  }
  return s;
}

bool fault::is_clock_point(std::string_view point) noexcept {
  constexpr std::string_view name = "wall_clock";
  if (point.substr(0, name.size()) != name) return false;
  return point.size() == name.size() || (point[name.size()] == '@' && point.size() > name.size() + 1);
}

namespace detail {
std::string clock_fault_text(const fault& f) {
  if (f.clock_ppm == 0) return "step(" + signed_duration_token(f.clock_step) + ")";
  if (f.clock_step.count() == 0) {
    std::string s = "slew(" + signed_ppm_token(f.clock_ppm);
    if (f.clock_for.count() != 0) s += "," + duration_token(f.clock_for);
    return s + ")";
  }
  return "skew(" + signed_duration_token(f.clock_step) + "," + signed_ppm_token(f.clock_ppm) + ")";
}
}  // namespace detail

bool operator==(const fault& a, const fault& b) noexcept {
  if (a.point != b.point || a.call != b.call || a.kind != b.kind) return false;
  if (a.kind == fault_kind::latency) return a.latency == b.latency;
  if (a.kind == fault_kind::clock)
    return a.clock_step == b.clock_step && a.clock_ppm == b.clock_ppm && a.clock_for == b.clock_for;
  if (a.kind == fault_kind::error)
    return a.error_code == b.error_code || (is_default_error(a.error_code) && is_default_error(b.error_code));
  return true;
}

fault_schedule::fault_schedule(std::vector<fault> faults) : faults_(std::move(faults)) {
  call_set seen;
  seen.reserve(faults_.size());
  for (std::size_t i = 0; i < faults_.size(); ++i) {
    const fault& f = faults_[i];
    if (auto why = unprintable(f); !why.empty())
      throw schedule_error("faultline: fault_schedule: fault " + std::to_string(i) + " (" + shown(f.point) + "#" +
                           std::to_string(f.call) + ") " + why);
    if (!seen.try_emplace({f.point, f.call}, i).second)
      throw schedule_error("faultline: fault_schedule: faults " + std::to_string(seen[{f.point, f.call}]) +
                           " and " + std::to_string(i) + " both hit call #" + std::to_string(f.call) + " of " +
                           shown(f.point) + "; give each call one fault");
  }
}

fault_schedule fault_schedule::parse(std::string_view text) { return parser(text).parse(); }

std::string fault_schedule::to_string() const {
  std::string s;
  for (const auto& f : faults_) {
    if (!s.empty()) s += ';';
    s += f.to_string();
  }
  return s;
}

const fault* fault_schedule::find(std::string_view point, std::uint64_t call) const noexcept {
  for (const auto& f : faults_)
    if (f.call == call && f.point == point) return &f;
  return nullptr;
}

}  // namespace faultline
