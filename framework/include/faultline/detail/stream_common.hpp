// faultline - what memory_stream and faulty_stream share: per-sim stream names, error names.
#pragma once

#include <faultline/detail/error_names.hpp>

#include <boost/system/error_code.hpp>

#include <string>

namespace faultline::detail {

class sim_core;

/// "stream#3": the next name with `prefix` on this sim. Numbered per sim (in
/// a service of the sim_context), never per process, so that the same test
/// gives the same trace however many tests ran before it.
std::string next_stream_name(sim_core& core, const char* prefix);

}  // namespace faultline::detail
