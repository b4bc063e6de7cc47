// faultline - libFuzzer target for parse_failpoints: whatever parses prints to a spec that parses to the same.
#include <faultline/failpoint_spec.hpp>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>
#include <vector>

namespace {

[[noreturn]] void broken(const char* property, const std::string& a, const std::string& b) {
  std::fprintf(stderr, "faultline: fuzz_failpoint_spec: %s\n  first:  %s\n  second: %s\n", property, a.c_str(),
               b.c_str());
  std::abort();
}

std::string print(const std::vector<faultline::failpoint_config>& configs) {
  std::string s;
  for (const auto& c : configs) {
    if (!s.empty()) s += ';';
    s += to_string(c);
  }
  return s;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view spec(reinterpret_cast<const char*>(data), size);
  std::vector<faultline::failpoint_config> configs;
  try {
    configs = faultline::parse_failpoints(spec);
  } catch (const faultline::failpoint_spec_error& e) {
    if (e.position() > spec.size()) broken("an error position past the end", std::string(spec), e.what());
    return 0;
  }
  for (const auto& c : configs) {
    if (c.name.empty() || c.tasks.empty()) broken("an empty name or chain", std::string(spec), to_string(c));
    for (const auto& t : c.tasks)
      if (t.delay.count() < 0 || t.delay.count() > 9'223'372'036'854 || !(t.probability >= 0 && t.probability <= 100))
        broken("a number out of its range", std::string(spec), to_string(t));
  }
  const std::string printed = print(configs);
  std::vector<faultline::failpoint_config> back;
  try {
    back = faultline::parse_failpoints(printed);
  } catch (const faultline::failpoint_spec_error& e) {
    broken("a printed spec does not parse", printed, e.what());
  }
  if (back != configs) broken("a printed spec parses to other configs", printed, print(back));
  if (print(back) != printed) broken("printing is not stable", printed, print(back));
  return 0;
}
