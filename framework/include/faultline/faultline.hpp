// faultline - everything in the core library, in one include.
#pragma once

#include <faultline/chaos.hpp>
#include <faultline/error.hpp>
#include <faultline/fault.hpp>
#include <faultline/failpoint.hpp>
#include <faultline/fake.hpp>
#include <faultline/invariant.hpp>
#include <faultline/faulty_stream.hpp>
#include <faultline/memory_stream.hpp>
#include <faultline/failpoint_spec.hpp>
#include <faultline/outcome.hpp>
#include <faultline/sim_clock.hpp>
#include <faultline/sim_context.hpp>
#include <faultline/steady_clock.hpp>
#include <faultline/steady_timer.hpp>
#include <faultline/sweep.hpp>
#include <faultline/system_clock.hpp>
#include <faultline/trace.hpp>
#include <faultline/wall_clock.hpp>
