// faultline - the hash functions behind seeded decisions (failpoint draws, chaos, perturbation).
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

namespace faultline {
struct latency_dist;
}

namespace faultline::detail {

// Decisions are pure functions of (seed, name, index): replays need no
// generator state, and a draw at one point never shifts another's.
constexpr std::uint64_t splitmix64(std::uint64_t x) noexcept {
  x += 0x9e3779b97f4a7c15ull;
  x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
  x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
  return x ^ (x >> 31);
}

constexpr std::uint64_t fnv1a(std::string_view s) noexcept {
  std::uint64_t h = 14695981039346656037ull;
  for (char c : s) {
    h ^= static_cast<unsigned char>(c);
    h *= 1099511628211ull;
  }
  return h;
}

/// A uniform double in [0, 1) from the top 53 bits of `h`.
constexpr double unit_interval(std::uint64_t h) noexcept { return static_cast<double>(h >> 11) * 0x1.0p-53; }

/// The delay `l` gives the draw `h`, in nanoseconds (unrounded), or nullopt when `h` misses
/// `l.probability`. One definition (chaos.cpp) for chaos points and `link_faults::latency`.
std::optional<double> draw_latency_ns(const latency_dist& l, std::uint64_t h) noexcept;

/// Throws `std::invalid_argument` ("<caller>the latency probability 1.500000 is not in [0, 1]; ...")
/// for a probability outside [0, 1], a negative bound or a uniform range high end first. `caller`
/// ends in ": ". One definition (chaos.cpp) for `chaos_plan::point` and `link_faults::latency`.
void check_latency_dist(const latency_dist& l, std::string_view caller);

}  // namespace faultline::detail
