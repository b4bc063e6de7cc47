// replicated_store against real TCP: the same primary and backups on one
// io_context over loopback, three committed writes, then every disk holds them.
// Exits 0 when they do, 1 otherwise (bounded by 5 s).
#include <array>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <chrono>
#include <cstdint>
#include <cstdio>

#include "replicated_store.hpp"

namespace asio = boost::asio;
using asio::ip::tcp;
using namespace std::chrono_literals;
namespace rs = samples::replicated_store;

namespace {

// The servers bind a port they are given (as in production); ask the kernel for
// free ones.
std::uint16_t free_port(asio::io_context &io) {
  tcp::acceptor probe(io, {asio::ip::make_address("127.0.0.1"), 0});
  return probe.local_endpoint().port();
}

}  // namespace

int main() {
  asio::io_context io;
  const auto ex = io.get_executor();
  const std::array<std::uint16_t, 3> port{free_port(io), free_port(io), free_port(io)};
  const auto loopback = asio::ip::make_address("127.0.0.1");
  std::array<rs::disk, 3> disks;

  asio::co_spawn(io, rs::serve_backup<tcp>(ex, port[1], disks[1]), asio::detached);
  asio::co_spawn(io, rs::serve_backup<tcp>(ex, port[2], disks[2]), asio::detached);
  asio::co_spawn(io,
                 rs::serve_primary<tcp>(ex, port[0], disks[0],
                                        {tcp::endpoint(loopback, port[1]), tcp::endpoint(loopback, port[2])}),
                 asio::detached);

  int committed = 0;
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        for (std::int32_t value : {7, 8, 9})
          if (co_await rs::write<tcp>(ex, tcp::endpoint(loopback, port[0]), value, 2s)) ++committed;
        io.stop();  // the servers run until stopped, as in production
      },
      [](std::exception_ptr e) {
        if (e) std::rethrow_exception(e);
      });
  io.run_for(5s);

  const rs::disk expected{7, 8, 9};
  const bool ok = committed == 3 && disks[0] == expected && disks[1] == expected && disks[2] == expected;
  std::printf("replicated_store_real: %d of 3 writes committed; disks hold %zu, %zu and %zu values: %s\n", committed,
              disks[0].size(), disks[1].size(), disks[2].size(), ok ? "ok" : "FAILED");
  return ok ? 0 : 1;
}
