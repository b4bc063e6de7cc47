// faultline - the FAULTLINE_FAILPOINTS parser and the canonical spec text.
#include <faultline/failpoint_spec.hpp>

#include "text.hpp"

#include <array>
#include <charconv>
#include <limits>
#include <string>
#include <system_error>
#include <unordered_map>
#include <utility>

namespace faultline {
namespace {

using detail::is_digit;
using detail::is_lower;
using detail::parse_int;
using detail::quoted_text;

constexpr std::string_view action_list = "an action (off, delay, throw, error, hang, cancel)";
constexpr std::string_view name_chars = "a failpoint name ([A-Za-z0-9_.:/-]+)";
constexpr std::string_view after_task = "'->', ';' or end of spec";
// The most milliseconds that still fit the sim clock's int64 nanoseconds.
constexpr std::int64_t max_delay_ms = std::numeric_limits<std::int64_t>::max() / 1'000'000;
const std::string delay_arg = "a non-negative whole number of milliseconds, at most " +
                              std::to_string(max_delay_ms) + " (about 292 years), as in delay(100)";
constexpr std::string_view error_arg =
    "an error name ([a-z_]+) or an error number from 1 to 2147483647, as in "
    "error(connection_refused)";

bool is_space(char c) noexcept {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}
bool is_alpha(char c) noexcept { return is_lower(c) || (c >= 'A' && c <= 'Z'); }
bool is_word(char c) noexcept { return is_alpha(c) || is_digit(c) || c == '_'; }
bool is_name(char c) noexcept {
  return is_word(c) || c == '.' || c == ':' || c == '/' || c == '-';
}

std::string_view trim(std::string_view s) noexcept {
  while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
  while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
  return s;
}

bool all_digits(std::string_view s) noexcept {
  if (s.empty()) return false;
  for (char c : s)
    if (!is_digit(c)) return false;
  return true;
}

class parser {
 public:
  explicit parser(std::string_view spec) : spec_(spec) {}

  std::vector<failpoint_config> parse() {
    std::vector<failpoint_config> out;
    // Name -> where it was set, for duplicates. The views point into the spec,
    // which outlives the parse; hashed, so a spec of n entries parses in
    // O(n), and only looked up, so its order reaches no output.
    std::unordered_map<std::string_view, std::size_t> name_at;
    for (;;) {
      skip_space();
      if (at_end()) return out;
      if (peek() == ';') {
        ++pos_;
        continue;
      }
      const std::size_t start = pos_;
      failpoint_config c;
      const std::string_view n = name();
      if (const auto [it, added] = name_at.try_emplace(n, start); !added)
        fail(start, "each failpoint set once",
             "a duplicate " + quoted_text(n) + " (first set at column " + std::to_string(it->second) + ")");
      c.name = std::string(n);
      skip_space();
      if (at_end() || peek() != '=')
        fail(pos_, "'=' after failpoint name " + quoted_text(c.name), found_here());
      ++pos_;
      for (;;) {
        c.tasks.push_back(task());
        skip_space();
        if (spec_.substr(pos_, 2) == "->") {
          pos_ += 2;
          continue;
        }
        if (at_end() || peek() == ';') break;
        if (peek() == ')') fail(pos_, std::string(after_task), "an unbalanced \")\"");
        fail(pos_, std::string(after_task), found_here());
      }
      out.push_back(std::move(c));
    }
  }

 private:
  [[noreturn]] void fail(std::size_t at, std::string expected, std::string found) const {
    throw failpoint_spec_error(spec_, at, std::move(expected), std::move(found));
  }

  bool at_end() const noexcept { return pos_ >= spec_.size(); }
  char peek() const noexcept { return spec_[pos_]; }
  void skip_space() noexcept {
    while (!at_end() && is_space(peek())) ++pos_;
  }

  // The token at pos_, for "found ...": a word, "->", or one character.
  std::string found_here() const {
    if (at_end()) return "end of spec";
    std::size_t end = pos_;
    while (end < spec_.size() && (is_word(spec_[end]) || spec_[end] == '.')) ++end;
    if (end == pos_) end = pos_ + (spec_.substr(pos_, 2) == "->" ? 2 : 1);
    return quoted_text(spec_.substr(pos_, end - pos_));
  }

  std::string_view name() {
    const std::size_t start = pos_;
    while (!at_end() && is_name(peek())) ++pos_;
    if (pos_ == start) fail(start, std::string(name_chars), found_here());
    return spec_.substr(start, pos_ - start);
  }

  // digits ['.' digits]; the caller has checked that a digit comes first.
  std::string_view number() noexcept {
    const std::size_t start = pos_;
    while (!at_end() && is_digit(peek())) ++pos_;
    if (pos_ + 1 < spec_.size() && peek() == '.' && is_digit(spec_[pos_ + 1])) {
      ++pos_;
      while (!at_end() && is_digit(peek())) ++pos_;
    }
    return spec_.substr(start, pos_ - start);
  }

  void count(failpoint_task& t, std::size_t at, std::string_view digits) {
    std::uint64_t n = 0;
    if (!parse_int(digits, n) || n == 0)
      fail(at, "a count from 1 to " + std::to_string(std::numeric_limits<std::uint64_t>::max()),
           quoted_text(digits));
    t.count = n;
  }

  failpoint_task task() {
    failpoint_task t;
    skip_space();
    if (!at_end() && is_digit(peek())) {
      std::size_t at = pos_;
      std::string_view n = number();
      skip_space();
      if (!at_end() && peek() == '%') {
        const auto ec = std::from_chars(n.data(), n.data() + n.size(), t.probability).ec;
        if (ec != std::errc{} || t.probability > 100.0)
          fail(at, "a probability from 0 to 100", quoted_text(n));
        ++pos_;
        skip_space();
        if (!at_end() && is_digit(peek())) {
          at = pos_;
          n = number();
          skip_space();
          if (at_end() || peek() != '*')
            fail(pos_, "'*' after the count " + quoted_text(n), found_here());
          count(t, at, n);
          ++pos_;
        }
      } else if (!at_end() && peek() == '*') {
        count(t, at, n);
        ++pos_;
      } else {
        fail(pos_, "'%' or '*' after the number " + quoted_text(n), found_here());
      }
      skip_space();
    }
    const std::size_t action_at = pos_;
    std::size_t end = pos_;
    while (end < spec_.size() && is_word(spec_[end])) ++end;
    const std::string_view word = spec_.substr(pos_, end - pos_);
    static constexpr std::array actions{
        failpoint_action::off,  failpoint_action::delay, failpoint_action::throw_exception,
        failpoint_action::error, failpoint_action::hang, failpoint_action::cancel};
    bool known = false;
    for (auto a : actions) {
      if (word == to_string(a)) {
        t.action = a;
        known = true;
      }
    }
    if (!known) fail(action_at, std::string(action_list), found_here());
    pos_ = end;

    skip_space();
    const std::size_t open = pos_;
    std::optional<std::string_view> arg;
    if (!at_end() && peek() == '(') arg = parenthesised();

    switch (t.action) {
      case failpoint_action::off:
      case failpoint_action::hang:
      case failpoint_action::cancel:
        if (arg)
          fail(open,
               std::string(after_task) + " (" + to_string(t.action) + " takes no argument)",
               quoted_text(spec_.substr(open, pos_ - open)));
        break;
      case failpoint_action::throw_exception:
        if (arg) t.arg = std::string(trim(*arg));
        break;
      case failpoint_action::delay: {
        if (!arg) fail(open, "'(' after delay: " + std::string(delay_arg), found_here());
        const std::string_view ms = trim(*arg);
        std::int64_t n = 0;
        // Checked here, not left to the ms -> ns conversion to overflow.
        if (!all_digits(ms) || !parse_int(ms, n) || n > max_delay_ms)
          fail(arg_at(*arg), delay_arg, ms.empty() ? "\")\"" : quoted_text(ms));
        t.delay = std::chrono::milliseconds(n);
        break;
      }
      case failpoint_action::error: {
        if (!arg) fail(open, "'(' after error: " + std::string(error_arg), found_here());
        const std::string_view code = trim(*arg);
        bool ok = !code.empty();
        if (all_digits(code)) {
          std::int32_t n = 0;
          ok = parse_int(code, n) && n > 0;
          if (ok) t.arg = std::to_string(n);  // canonical: no leading zeros
        } else {
          for (char c : code) ok = ok && (is_lower(c) || c == '_');
          if (ok) t.arg = std::string(code);
        }
        if (!ok) fail(arg_at(*arg), std::string(error_arg), code.empty() ? "\")\"" : quoted_text(code));
        break;
      }
    }
    return t;
  }

  // At '(': consumes up to the matching ')' and returns what lies between.
  std::string_view parenthesised() {
    const std::size_t open = pos_++;
    int depth = 1;
    for (; !at_end(); ++pos_) {
      if (peek() == '(') {
        ++depth;
      } else if (peek() == ')' && --depth == 0) {
        ++pos_;
        return spec_.substr(open + 1, pos_ - open - 2);
      }
    }
    fail(pos_, "')' to close the '(' at column " + std::to_string(open), "end of spec");
  }

  // Where an argument's trimmed text starts, or its ')' if it is blank.
  std::size_t arg_at(std::string_view arg) const noexcept {
    const auto start = static_cast<std::size_t>(arg.data() - spec_.data());
    std::size_t i = 0;
    while (i < arg.size() && is_space(arg[i])) ++i;
    return start + i;
  }

  std::string_view spec_;
  std::size_t pos_ = 0;
};

std::string describe(std::string_view spec, std::size_t position, const std::string& expected,
                     const std::string& found) {
  std::string s = "faultline: bad FAULTLINE_FAILPOINTS at column " + std::to_string(position) +
                  ": expected " + expected + ", found " + found + "\n  ";
  // Control characters would break the caret's alignment (or the line).
  for (char c : spec) {
    const auto u = static_cast<unsigned char>(c);
    s += (u < 0x20 || u == 0x7f) ? ' ' : c;
  }
  s += "\n  ";
  s.append(position, ' ');
  s += '^';
  return s;
}

}  // namespace

failpoint_spec_error::failpoint_spec_error(std::string_view spec, std::size_t position,
                                           std::string expected, std::string found)
    : std::invalid_argument(describe(spec, position, expected, found)),
      data_(std::make_shared<const data>(
          data{std::string(spec), position, std::move(expected), std::move(found)})) {}

const char* to_string(failpoint_action a) noexcept {
  switch (a) {
    case failpoint_action::off: return "off";
    case failpoint_action::delay: return "delay";
    case failpoint_action::throw_exception: return "throw";
    case failpoint_action::error: return "error";
    case failpoint_action::hang: return "hang";
    case failpoint_action::cancel: return "cancel";
  }
  return "off";
}

std::vector<failpoint_config> parse_failpoints(std::string_view spec) {
  return parser(spec).parse();
}

std::string to_string(const failpoint_task& t) {
  std::string s;
  if (t.probability != 100.0) {
    // Shortest text that reads back as the same double, without an exponent
    // (which the grammar does not allow).
    std::array<char, 512> buf{};
    const auto [end, ec] =
        std::to_chars(buf.data(), buf.data() + buf.size(), t.probability, std::chars_format::fixed);
    if (ec == std::errc{}) s.append(buf.data(), end);
    s += '%';
  }
  if (t.count) {
    s += std::to_string(*t.count);
    s += '*';
  }
  s += to_string(t.action);
  switch (t.action) {
    case failpoint_action::delay:
      s += '(' + std::to_string(t.delay.count()) + ')';
      break;
    case failpoint_action::throw_exception:
      if (!t.arg.empty()) s += '(' + t.arg + ')';
      break;
    case failpoint_action::error:
      s += '(' + t.arg + ')';
      break;
    default:
      break;
  }
  return s;
}

std::string to_string(const failpoint_config& c) {
  std::string s = c.name;
  s += '=';
  for (std::size_t i = 0; i < c.tasks.size(); ++i) {
    if (i > 0) s += "->";
    s += to_string(c.tasks[i]);
  }
  return s;
}

}  // namespace faultline
