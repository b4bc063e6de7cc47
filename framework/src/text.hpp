// faultline - what the text parsers and printers share (FAULTLINE_FAILPOINTS specs, fault schedules,
// the Chrome trace export): character classes, whole numbers, quoting. Internal: framework/src only.
#pragma once

#include <charconv>
#include <string>
#include <string_view>
#include <system_error>

namespace faultline::detail {

constexpr bool is_digit(char c) noexcept { return c >= '0' && c <= '9'; }
constexpr bool is_lower(char c) noexcept { return c >= 'a' && c <= 'z'; }

// The whole of `digits` as an `Int`: false for a sign, any other character, an empty text or a
// value that does not fit, so callers can name the text in their message.
template <class Int>
bool parse_int(std::string_view digits, Int& out) noexcept {
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), out);
  return ec == std::errc{} && end == digits.data() + digits.size();
}

// How `append_quoted_text` writes a byte it escapes: `\xHH` in faultline's own texts (schedules,
// messages), `\u00HH` in JSON, which allows other bytes raw.
enum class escape_style { hex, json };

// `"..."` with `\"` and `\\`, and every control byte escaped; with `escape_style::hex` also every
// byte outside printable ASCII, so that a message shows exactly which bytes were wrong on one
// plain line, and a printed schedule survives logs and XML reports. (Doubles' arguments use
// detail::append_quoted of <faultline/detail/format.hpp>, which writes \n and \t instead.)
inline void append_quoted_text(std::string& out, std::string_view s, escape_style style = escape_style::hex) {
  static constexpr char hex_digits[] = "0123456789abcdef";
  out += '"';
  for (char c : s) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u < 0x20 || (style == escape_style::hex && u >= 0x7f)) {
      out += style == escape_style::hex ? "\\x" : "\\u00";
      out += hex_digits[u >> 4];
      out += hex_digits[u & 0xf];
    } else {
      out += c;
    }
  }
  out += '"';
}

inline std::string quoted_text(std::string_view s) {
  std::string out;
  append_quoted_text(out, s);
  return out;
}

}  // namespace faultline::detail
