// faultline - libFuzzer target for fault_schedule::parse: whatever parses prints to text that parses to the same.
#include <faultline/chaos.hpp>

#include <boost/asio/error.hpp>
#include <fuzzer/FuzzedDataProvider.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <limits>
#include <string>
#include <string_view>
#include <vector>

namespace {

[[noreturn]] void broken(const char* property, const std::string& a, const std::string& b) {
  std::fprintf(stderr, "faultline: fuzz_fault_schedule: %s\n  first:  %s\n  second: %s\n", property, a.c_str(),
               b.c_str());
  std::abort();
}

// Property 1: text that parses prints to text that parses to an equal
// schedule, and that text is a fixed point of print(parse(.)).
void text_round_trip(std::string_view text) {
  faultline::fault_schedule s;
  try {
    s = faultline::fault_schedule::parse(text);
  } catch (const faultline::schedule_error& e) {
    if (e.position() > text.size()) broken("an error position past the end", std::string(text), e.what());
    return;
  }
  const std::string printed = s.to_string();
  faultline::fault_schedule back;
  try {
    back = faultline::fault_schedule::parse(printed);
  } catch (const faultline::schedule_error& e) {
    broken("a printed schedule does not parse", printed, e.what());
  }
  if (!(back == s)) broken("a printed schedule parses to another schedule", printed, back.to_string());
  if (back.to_string() != printed) broken("printing is not stable", printed, back.to_string());
  try {
    faultline::fault_schedule checked(s.faults());  // the constructor accepts whatever parse returns
  } catch (const faultline::schedule_error& e) {
    broken("the constructor refuses a parsed schedule", printed, e.what());
  }
}

// Property 2: parse(print(x)) == x for schedules built from the bytes, with
// any point name and every kind of code a schedule can hold.
void built_round_trip(const std::uint8_t* data, std::size_t size) {
  FuzzedDataProvider in(data, size);
  std::vector<faultline::fault> faults;
  const auto n = in.ConsumeIntegralInRange<int>(0, 8);
  for (int i = 0; i < n && in.remaining_bytes() > 0; ++i) {
    faultline::fault f;
    f.point = in.ConsumeRandomLengthString(24);
    f.call = in.ConsumeIntegral<std::uint64_t>();
    f.kind = static_cast<faultline::fault_kind>(in.ConsumeIntegralInRange<int>(0, faultline::fault_kind_count - 1));
    if (f.kind == faultline::fault_kind::latency)
      f.latency = faultline::sim_clock::duration(in.ConsumeIntegralInRange<std::int64_t>(
          0, std::numeric_limits<std::int64_t>::max()));
    if (f.kind == faultline::fault_kind::error) {
      const int v = in.ConsumeIntegral<int>();
      switch (in.ConsumeIntegralInRange<int>(0, 4)) {
        case 0: f.error_code = {v, boost::system::system_category()}; break;
        case 1: f.error_code = {v, boost::system::generic_category()}; break;
        case 2: f.error_code = {v, boost::asio::error::get_misc_category()}; break;
        case 3: f.error_code = {v, faultline::error_category()}; break;
        default: f.error_code = {v, boost::asio::error::get_netdb_category()}; break;
      }
    }
    faults.push_back(std::move(f));
  }
  faultline::fault_schedule s;
  try {
    s = faultline::fault_schedule(faults);
  } catch (const faultline::schedule_error&) {
    return;  // two faults at one call: refused, as it should be
  }
  const std::string printed = s.to_string();
  try {
    if (!(faultline::fault_schedule::parse(printed) == s))
      broken("a built schedule parses back different", printed, faultline::fault_schedule::parse(printed).to_string());
  } catch (const faultline::schedule_error& e) {
    broken("a built schedule prints text that does not parse", printed, e.what());
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  text_round_trip(std::string_view(reinterpret_cast<const char*>(data), size));
  built_round_trip(data, size);
  return 0;
}
