// faultline - host clocks: each simulated host's offset and drift on top of the sim's wall clock.
#include <faultline/net/network.hpp>
#include <faultline/wall_clock.hpp>

namespace faultline::net {

namespace {
// The sim owns both services; reading the clock does not change the network.
wall_clock& wall_of(const network& n) {
  return wall_clock_of(static_cast<sim_context&>(const_cast<network&>(n).context()));
}
}  // namespace

void network::set_clock(std::string_view name, system_clock::duration offset, ppm drift) {
  const host& h = get_host(name);  // throws, listing the hosts, for an unknown name
  wall_of(*this).set_host_clock(h.name(), offset, drift);
}

system_clock::time_point network::clock_now(std::string_view name) const {
  const host& h = get_host(name);
  return wall_of(*this).now_on(h.name());
}

}  // namespace faultline::net
