// faultline - what the network tests share: the completion token that returns (error_code, value) tuples,
// and two hosts with a listener.
#pragma once

#include <faultline/net.hpp>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

#include <string>
#include <vector>

namespace faultline_test {

// Outcomes are asserted as values, so no test needs try/catch around an expected error.
inline constexpr auto use_tuple = boost::asio::as_tuple(boost::asio::use_awaitable);

// "db" listening on 5432 and "app", 5 ms apart; a client socket on app and a server socket on db, unconnected.
struct db_app_hosts {
  faultline::sim_context sim;  // declared first: everything below lives on it
  faultline::net::network& network = faultline::net::network::of(sim);
  faultline::net::host& db = network.add_host("db");
  faultline::net::host& app = network.add_host("app");
  faultline::net::tcp::acceptor acceptor{db.get_executor()};
  faultline::net::tcp::socket client{app.get_executor()};
  faultline::net::tcp::socket server{db.get_executor()};

  explicit db_app_hosts(const faultline::sim_options& options = {}) : sim(options) {
    network.set_latency("app", "db", std::chrono::milliseconds(5));
    acceptor = faultline::net::tcp::acceptor(db.get_executor(), {boost::asio::ip::tcp::v4(), 5432});
  }
  boost::asio::ip::tcp::endpoint endpoint() const { return {db.addresses().front(), 5432}; }
  bool has(const std::string& text) const { return sim.trace().timeline().find(text) != std::string::npos; }
  // Connects client and server (both connected at t=10ms when nothing interferes); throws on failure.
  void connect() {
    using namespace boost::asio::experimental::awaitable_operators;
    sim.run([&]() -> boost::asio::awaitable<void> {
      co_await (acceptor.async_accept(server, boost::asio::use_awaitable) &&
                client.async_connect(endpoint(), boost::asio::use_awaitable));
    }).value();
  }
  // The client writes `bytes`; the server's next `reads` reads, each as "t=0.015s <bytes read>".
  std::vector<std::string> reads_of(std::string bytes, int reads) {
    std::vector<std::string> log;
    sim.spawn("reader", [&]() -> boost::asio::awaitable<void> {
      for (int i = 0; i < reads; ++i) {
        char buf[16];
        auto [ec, n] = co_await server.async_read_some(boost::asio::buffer(buf), use_tuple);
        log.push_back(faultline::to_string(sim.now()) + " " + (ec ? ec.message() : std::string(buf, n)));
      }
    });
    boost::asio::async_write(client, boost::asio::buffer(bytes), [](boost::system::error_code, std::size_t) {});
    sim.run();
    return log;
  }
};

}  // namespace faultline_test

namespace faultline::net::detail {
// Reads what a host keeps so that a crash can cancel its tasks.
struct host_test_access {
  static std::size_t crash_entries(const host& h) { return h.on_crash_.size(); }
};
}  // namespace faultline::net::detail
