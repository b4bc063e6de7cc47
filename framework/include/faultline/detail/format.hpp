// faultline - printing arguments and values of doubles for records, traces and messages.
#pragma once

#include <ostream>
#include <sstream>
#include <string>
#include <string_view>
#include <tuple>
#include <type_traits>
#include <utility>

namespace faultline::detail {

/// Appends `s` in double quotes, escaping quotes, backslashes and controls.
void append_quoted(std::string& out, std::string_view s);

template <class T, class = void>
struct is_streamable : std::false_type {};
template <class T>
struct is_streamable<T, std::void_t<decltype(std::declval<std::ostream&>() << std::declval<const T&>())>>
    : std::true_type {};

/// Appends a readable form of `v`: strings quoted, numbers as numbers,
/// anything with operator<< through it, other types as "<N-byte object>".
template <class T>
void append_value(std::string& out, const T& v) {
  if constexpr (std::is_same_v<T, bool>) {
    out += v ? "true" : "false";
  } else if constexpr (std::is_same_v<T, char>) {
    append_quoted(out, std::string_view(&v, 1));
  } else if constexpr (std::is_arithmetic_v<T>) {
    out += std::to_string(v);
  } else if constexpr (std::is_convertible_v<const T&, std::string_view>) {
    append_quoted(out, std::string_view(v));
  } else if constexpr (std::is_enum_v<T>) {
    out += std::to_string(static_cast<std::underlying_type_t<T>>(v));
  } else if constexpr (is_streamable<T>::value) {
    std::ostringstream s;
    s << v;
    out += s.str();
  } else {
    out += "<" + std::to_string(sizeof(T)) + "-byte object>";
  }
}

/// `name(arg1, arg2)`.
template <class Tuple>
std::string format_call(std::string_view name, const Tuple& args) {
  std::string out(name);
  out += '(';
  std::apply(
      [&out](const auto&... a) {
        bool first = true;
        ((out += first ? "" : ", ", first = false, append_value(out, a)), ...);
      },
      args);
  out += ')';
  return out;
}

}  // namespace faultline::detail
