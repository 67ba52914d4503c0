// The watch cache's pod lists grow a few entries at a time (pod_list.hpp):
// a node's list never holds more than kPodListSlack unused PodStates, which
// std::vector's doubling would leave at up to a half (26 MiB at 5,000 nodes
// of 34 pods). Checked on the helper and on a ClusterCache synced against an
// in-process cnimig-sim whose nodes run over 32 pods each.

#include "cnimig/agent/pod_list.hpp"

#include <algorithm>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/test/unit_test.hpp>

#include "cnimig/agent/cluster_cache.hpp"
#include "cnimig/sim/cluster_model_factory.hpp"
#include "cnimig/sim/simulator.hpp"

#include "simulator_client.hpp"

namespace asio = boost::asio;
using namespace cnimig;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(pod_list)

BOOST_AUTO_TEST_CASE(appends_keep_order_and_at_most_the_slack_unused) {
  std::vector<migrate::PodState> list;
  for (int i = 0; i < 100; ++i) {
    migrate::PodState pod;
    pod.ns = "apps";
    pod.name = "web-" + std::to_string(i);
    agent::append_pod(list, std::move(pod));
    BOOST_TEST(list.capacity() - list.size() <= agent::kPodListSlack, "after " << i + 1);
  }
  BOOST_TEST_REQUIRE(list.size() == 100u);
  for (int i = 0; i < 100; ++i)
    BOOST_TEST(list[static_cast<std::size_t>(i)].name == "web-" + std::to_string(i));
}

BOOST_AUTO_TEST_CASE(a_synced_cache_leaves_little_room_in_any_node_list) {
  sim::SimulatorOptions options;
  options.nodes = 3;
  options.pods_per_node = 40;  // past 32 pods a node: doubling gives room for 64
  options.time_scale = 0.05;
  sim::Simulator simulator(options, sim::cluster_model_factory());
  asio::io_context io;
  test::SimulatorClient connected(simulator, io);
  BOOST_TEST_REQUIRE(simulator.wait_until_settled(60s).has_value());
  agent::ClusterCache cache(*connected.client, "cnimig.io/", {});
  asio::co_spawn(io, cache.run(), [](std::exception_ptr, Result<void>) {});
  bool synced = false;
  // Every node's pods in the cache, whether listed or seen by the watch.
  const auto each_node_over_32 = [&] {
    const auto& nodes = cache.snapshot().nodes;
    return nodes.size() == 3 && std::all_of(nodes.begin(), nodes.end(), [](const auto& n) {
             return n.second.pods.size() > 32;
           });
  };
  asio::co_spawn(
      io,
      [&]() -> asio::awaitable<void> {
        synced = (co_await cache.wait_synced(30s)).has_value();
        const auto deadline = std::chrono::steady_clock::now() + 30s;
        while (synced && !each_node_over_32() && std::chrono::steady_clock::now() < deadline)
          co_await cache.changes().wait(cache.changes().version(), deadline);
        cache.stop();
      },
      [](std::exception_ptr e) {
        if (e)
          std::rethrow_exception(e);
      });
  io.run_for(60s);
  simulator.stop();
  BOOST_TEST_REQUIRE(synced);
  BOOST_TEST_REQUIRE(each_node_over_32());
  for (const auto& [name, node] : cache.snapshot().nodes) {
    BOOST_TEST(node.pods.capacity() - node.pods.size() <= agent::kPodListSlack,
               name << ": " << node.pods.size() << " pods in room for " << node.pods.capacity());
  }
}

BOOST_AUTO_TEST_SUITE_END()
