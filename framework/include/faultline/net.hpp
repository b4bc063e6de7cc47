// faultline - the simulated network: hosts, addresses, a resolver and drop-in TCP types on a sim.
#pragma once

#include <faultline/net/host_executor.hpp>
#include <faultline/net/network.hpp>
#include <faultline/net/tcp.hpp>
