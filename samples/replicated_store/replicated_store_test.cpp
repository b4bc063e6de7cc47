// The replicated store on a simulated network: commits at exact instants, refuses to commit when both
// backups are cut off, and a planted lost write (the primary takes "sent" for "stored") that a chaos
// sweep with partitions and crashes finds, minimises and replays; the correct store survives it.
#include "replicated_store.hpp"

#include <faultline/chaos.hpp>
#include <faultline/net.hpp>
#include <faultline/sweep.hpp>

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>

namespace {

using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace net = faultline::net;
namespace store = samples::replicated_store;
using faultline::at;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// The same code builds against real TCP: these instantiations compile it over asio::ip::tcp.
[[maybe_unused]] const auto real_backup = &store::serve_backup<asio::ip::tcp>;
[[maybe_unused]] const auto real_primary = &store::serve_primary<asio::ip::tcp>;
[[maybe_unused]] const auto real_write = &store::write<asio::ip::tcp>;

// Primary n1 (port 7000), backups n2 and n3 (port 7001), a client on app; every link 5 ms. Each
// host boots its server, so a crashed replica serves again after its restart, with its disk.
struct cluster {
  faultline::sim_context& sim;
  net::network& network = net::network::of(sim);
  net::host& n1 = network.add_host("n1");
  net::host& n2 = network.add_host("n2");
  net::host& n3 = network.add_host("n3");
  net::host& app = network.add_host("app");
  store::disk d1, d2, d3;  // outlive crashes: what is on disk stays

  cluster(faultline::sim_context& s, store::ack_policy policy) : sim(s) {
    for (const char* h : {"n2", "n3", "app"}) network.set_latency("n1", h, 5ms);
    n2.boot("backup", [this] { return store::serve_backup<net::tcp>(n2.get_executor(), 7001, d2); });
    n3.boot("backup", [this] { return store::serve_backup<net::tcp>(n3.get_executor(), 7001, d3); });
    const std::array<net::tcp::endpoint, 2> backups{endpoint(n2, 7001), endpoint(n3, 7001)};
    n1.boot("primary", [this, backups, policy] {
      return store::serve_primary<net::tcp>(n1.get_executor(), 7000, d1, backups, {.policy = policy});
    });
  }
  static net::tcp::endpoint endpoint(const net::host& h, std::uint16_t port) { return {h.addresses().front(), port}; }

  // The client writes 1, 2, 3 in turn, each given up after 3s; the values committed.
  std::vector<std::int32_t> write_three() {
    return sim.run([this]() -> asio::awaitable<std::vector<std::int32_t>> {
      std::vector<std::int32_t> committed;
      for (std::int32_t v = 1; v <= 3; ++v)
        if (co_await store::write<net::tcp>(app.get_executor(), endpoint(n1, 7000), v, 3s)) committed.push_back(v);
      co_return committed;
    }).value();
  }
};

// Writes three values, lets in-flight faults play out, then checks what a failover to a backup
// relies on: every committed value is on n2's or n3's disk.
faultline::chaos_scenario store_scenario(store::ack_policy policy) {
  return [policy](faultline::sim_context& sim) {
    cluster c(sim, policy);
    const auto committed = c.write_three();
    sim.run_until(sim.now() + 10s);  // drawn crashes restart, drawn cuts heal
    for (std::int32_t v : committed)
      if (std::find(c.d2.begin(), c.d2.end(), v) == c.d2.end() && std::find(c.d3.begin(), c.d3.end(), v) == c.d3.end())
        throw std::runtime_error("lost write: " + std::to_string(v) +
                                 " was committed, but neither backup has it (failover to n2 or n3 loses it)");
  };
}

// Partitions between the primary and each backup (for good) and crashes of each backup (back after
// 500 ms), each at 15% of the calls of its point; no other faults.
faultline::sweep_options partitions_and_crashes(std::uint64_t seeds) {
  using faultline::fault_rates, faultline::latency_dist;
  faultline::sweep_options o;
  o.seeds = seeds;
  o.plan.point("net:n1->n2:partition", fault_rates().hang(0.15))
      .point("net:n1->n3:partition", fault_rates().hang(0.15))
      .point("net:n2:crash", fault_rates().latency(latency_dist::fixed(500ms, 0.15)))
      .point("net:n3:crash", fault_rates().latency(latency_dist::fixed(500ms, 0.15)));
  return o;
}

TEST(ReplicatedStore, EachWriteCommitsAfterOneRoundTripToTheBackups) {
  faultline::sim_context sim;
  cluster c(sim, store::ack_policy::stored);
  EXPECT_THAT(c.write_three(), ElementsAre(1, 2, 3));
  // Per write: connect (10ms), value to n1 (5ms), n1 connects to both backups (10ms), value and
  // ack (10ms), the answer (5ms): 40ms.
  EXPECT_EQ(sim.now(), at(120ms));
  EXPECT_THAT(c.d1, ElementsAre(1, 2, 3));
  EXPECT_THAT(c.d2, ElementsAre(1, 2, 3));
  EXPECT_THAT(c.d3, ElementsAre(1, 2, 3));
}

TEST(ReplicatedStore, AWriteNoBackupAcknowledgesIsNotCommittedAndOneBackupIsEnough) {
  faultline::sim_context sim;
  cluster c(sim, store::ack_policy::stored);
  c.network.partition("n1", "n2");
  c.network.partition("n1", "n3");
  const auto r = sim.run([&]() -> asio::awaitable<bool> {
    co_return co_await store::write<net::tcp>(c.app.get_executor(), cluster::endpoint(c.n1, 7000), 7, 3s);
  });
  EXPECT_FALSE(r.value());
  EXPECT_EQ(r.completed_at(), at(1020ms));  // the primary waited 1s for each backup from t=15ms
  c.network.heal("n1", "n3");
  const auto again = sim.run([&]() -> asio::awaitable<bool> {
    co_return co_await store::write<net::tcp>(c.app.get_executor(), cluster::endpoint(c.n1, 7000), 8, 3s);
  });
  EXPECT_TRUE(again.value());
  EXPECT_EQ(again.completed_at(), at(2040ms));  // n3 acknowledged; n2, still cut off, is counted out after 1s
  // The primary gave up on 7 before the heal, so its held SYNs found no socket: nobody stored 7.
  EXPECT_THAT(c.d1, ElementsAre(7, 8));
  EXPECT_THAT(c.d3, ElementsAre(8));
  EXPECT_TRUE(c.d2.empty());
}

TEST(ReplicatedStore, ACrashedBackupServesAgainAfterItsRestartWithItsDisk) {
  faultline::sim_context sim;
  cluster c(sim, store::ack_policy::stored);
  EXPECT_THAT(c.write_three(), ElementsAre(1, 2, 3));
  c.network.crash("n2");
  c.network.restart("n2");  // the boot function listens again
  EXPECT_THAT(c.write_three(), ElementsAre(1, 2, 3));
  EXPECT_THAT(c.d2, ElementsAre(1, 2, 3, 1, 2, 3));
}

TEST(ReplicatedStore, ASweepWithPartitionsAndCrashesFindsTheLostWriteMinimisesAndReplaysIt) {
  // Measured over seeds 1..200, 85 runs lose a write (p = 0.42), so 9 seeds in a row miss it with
  // a chance of 0.58^9 < 1%: the bound.
  const auto o = partitions_and_crashes(9);
  const auto r = faultline::sweep(o, store_scenario(store::ack_policy::sent));
  ASSERT_TRUE(r.failure.has_value()) << "not found within 9 seeds";
  EXPECT_THAT(r.failure->failure, HasSubstr("lost write"));
  EXPECT_LE(r.failure->seed, 9u);
  ASSERT_TRUE(r.minimal.has_value());
  ASSERT_TRUE(r.minimal->reproduced);
  // Found at seed 1 with three faults; minimised to two: n1 cut from n2 for good from the first
  // write, and n3 crashing right after it accepted the primary's connection for value 2 (its call
  // #2: accept and ack for 1, then this accept), down for as little as 1us: the value reaches a
  // rebooted n3, which answers with an RST. The primary had taken "sent" for "stored".
  EXPECT_EQ(r.failure->seed, 1u);
  EXPECT_EQ(r.failure->schedule.to_string(),
            "net:n1->n2:partition#1=hang;net:n3:crash#2=latency(500ms);net:n1->n3:partition#5=hang");
  EXPECT_EQ(r.minimal->schedule.to_string(), "net:n1->n2:partition#0=hang;net:n3:crash#2=latency(1us)");
  EXPECT_THAT(r.minimal->failure, HasSubstr("lost write: 2 was committed"));
  const auto minimal = faultline::run_schedule(o, faultline::fault_schedule::parse(r.minimal->schedule.to_string()),
                                               r.failure->seed, store_scenario(store::ack_policy::sent));
  EXPECT_TRUE(minimal.failed);
  // The failing seed's schedule replays the same run, bit for bit.
  const auto replayed = faultline::run_schedule(o, r.failure->schedule, r.failure->seed,
                                                store_scenario(store::ack_policy::sent));
  EXPECT_TRUE(replayed.failed);
  EXPECT_EQ(replayed.trace_hash, r.failure->trace_hash);
}

TEST(ReplicatedStore, TheCorrectStoreSurvivesTheSameSweep) {
  const auto r = faultline::sweep(partitions_and_crashes(100), store_scenario(store::ack_policy::stored));
  EXPECT_EQ(r.seeds_run, 100u);
  EXPECT_FALSE(r.failure.has_value()) << faultline::describe(r);
  EXPECT_GT(r.coverage.at("net:n2:crash").injected.total(), 0u);
}

}  // namespace
