#define BOOST_TEST_MODULE sim network model
#include "network_model.hpp"

#include <random>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "cni_config_selection.hpp"
#include "violation_tracker.hpp"

namespace json = boost::json;
using namespace cnimig::sim;

namespace {
constexpr NetworkMask SRC = network_bit(Network::source);
constexpr NetworkMask CIL = network_bit(Network::cilium);
constexpr NetworkMask BOTH = SRC | CIL;
RoleMask roles(std::initializer_list<AgentRole> rs) {
  RoleMask m = 0;
  for (auto r : rs)
    m |= role_bit(r);
  return m;
}
}  // namespace

BOOST_AUTO_TEST_CASE(no_config_means_no_sandbox) {
  auto r = create_sandbox(0, 0, "10-canal.conflist");
  BOOST_TEST(!r.interfaces.has_value());
  BOOST_TEST(r.message.find("cni config uninitialized") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(source_only_gives_source_interface) {
  auto r = create_sandbox(roles({AgentRole::source}), SRC, "10-canal.conflist");
  BOOST_TEST_REQUIRE(r.interfaces.has_value());
  BOOST_TEST(r.interfaces->config_file == "10-canal.conflist");
  BOOST_TEST((r.interfaces->primary == Network::source));
  BOOST_TEST(r.interfaces->networks == SRC);
}

BOOST_AUTO_TEST_CASE(cilium_99_is_present_but_unused) {
  auto r = create_sandbox(roles({AgentRole::source, AgentRole::cilium}), BOTH, "10-canal.conflist");
  BOOST_TEST_REQUIRE(r.interfaces.has_value());
  BOOST_TEST(r.interfaces->config_file == "10-canal.conflist");
  BOOST_TEST(r.interfaces->networks == SRC);
  // Alone, 99-cilium.conf is picked.
  auto c = create_sandbox(roles({AgentRole::cilium}), CIL, "10-canal.conflist");
  BOOST_TEST_REQUIRE(c.interfaces.has_value());
  BOOST_TEST(c.interfaces->config_file == "99-cilium.conf");
}

BOOST_AUTO_TEST_CASE(multus_source_primary_attaches_both) {
  auto r = create_sandbox(
      roles({AgentRole::source, AgentRole::cilium, AgentRole::multus_source_primary}), BOTH,
      "10-canal.conflist");
  BOOST_TEST_REQUIRE(r.interfaces.has_value());
  BOOST_TEST(r.interfaces->config_file == "00-multus.conflist");
  BOOST_TEST((r.interfaces->primary == Network::source));
  BOOST_TEST(r.interfaces->networks == BOTH);
}

BOOST_AUTO_TEST_CASE(multus_cilium_primary_takes_ip_from_cilium) {
  auto r = create_sandbox(
      roles({AgentRole::source, AgentRole::cilium, AgentRole::multus_cilium_primary}), BOTH,
      "10-calico.conflist");
  BOOST_TEST_REQUIRE(r.interfaces.has_value());
  BOOST_TEST((r.interfaces->primary == Network::cilium));
  BOOST_TEST(r.interfaces->networks == BOTH);
}

BOOST_AUTO_TEST_CASE(multus_fails_when_a_delegate_is_down) {
  // The multus config is present but Cilium's agent is not running: ADD fails.
  auto r = create_sandbox(roles({AgentRole::source, AgentRole::multus_source_primary}), SRC,
                          "10-canal.conflist");
  BOOST_TEST(!r.interfaces.has_value());
  BOOST_TEST(r.message.find("cilium") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(cilium_migrated_00_wins_over_everything) {
  auto r = create_sandbox(
      roles({AgentRole::cilium_migrated, AgentRole::multus_cilium_primary, AgentRole::source}),
      BOTH, "10-canal.conflist");
  BOOST_TEST_REQUIRE(r.interfaces.has_value());
  BOOST_TEST(r.interfaces->config_file == "00-cilium.conf");
  BOOST_TEST(r.interfaces->networks == CIL);
}

BOOST_AUTO_TEST_CASE(reachability_rules) {
  // Interface on B's IP network, agent up on both nodes.
  BOOST_TEST(reaches(SRC, SRC, Network::source, SRC));
  BOOST_TEST(!reaches(SRC, SRC, Network::cilium, BOTH));   // no cilium interface
  BOOST_TEST(!reaches(BOTH, SRC, Network::cilium, BOTH));  // cilium down on A's node
  BOOST_TEST(!reaches(BOTH, BOTH, Network::cilium, SRC));  // cilium down on B's node
  BOOST_TEST(reaches(BOTH, BOTH, Network::cilium, CIL));
}

// enable-host-legacy-routing on both nodes, both networks up on both: a pod
// on one network reaches a pod on the other through the hosts.
BOOST_AUTO_TEST_CASE(reachability_through_the_hosts) {
  const NodeHazards routed{0, 0, true}, plain{};
  BOOST_TEST(reaches(SRC, BOTH, routed, Network::cilium, BOTH, routed, false));
  BOOST_TEST(reaches(CIL, BOTH, routed, Network::source, BOTH, routed, false));
  BOOST_TEST(reaches(SRC, BOTH, routed, Network::cilium, BOTH, routed, true));
  BOOST_TEST(!reaches(SRC, BOTH, routed, Network::cilium, BOTH, plain, false));
  BOOST_TEST(!reaches(SRC, BOTH, plain, Network::cilium, BOTH, routed, false));
  BOOST_TEST(!reaches(SRC, SRC, routed, Network::cilium, BOTH, routed, false));  // no Cilium on A's
  BOOST_TEST(!reaches(SRC, BOTH, routed, Network::cilium, CIL, routed, false));  // no source on B's
  // The overlay the packet takes to B must work across nodes.
  const NodeHazards broken{CIL, 0, true};
  BOOST_TEST(!reaches(SRC, BOTH, routed, Network::cilium, BOTH, broken, false));
  // The tracker counts the pair by the same rule.
  for (const bool host_routing : {true, false}) {
    ViolationTracker t;
    const auto now = ViolationTracker::Clock::now();
    const auto a = t.node_index("a"), b = t.node_index("b");
    for (const auto n : {a, b}) {
      t.set_node_networks(n, BOTH, now);
      t.set_node_hazards(n, NodeHazards{0, 0, host_routing}, now);
    }
    t.add_pod(a, SRC, Network::source, now);
    t.add_pod(b, CIL, Network::cilium, now);
    BOOST_TEST(t.violations() == (host_routing ? 0u : 1u));
  }
}

BOOST_AUTO_TEST_CASE(class_count_equals_brute_force_on_random_clusters) {
  std::mt19937 rng(12345);
  for (int round = 0; round < 300; ++round) {
    ViolationTracker t;
    const std::size_t nodes = 1 + rng() % 6;
    std::vector<NetworkMask> up(nodes);
    std::vector<bool> cordoned(nodes);
    std::vector<ViolationTracker::PodSample> pods;
    const auto now = ViolationTracker::Clock::now();
    for (std::size_t n = 0; n < nodes; ++n)
      t.node_index("n" + std::to_string(n));
    const int steps = 40;
    for (int s = 0; s < steps; ++s) {
      switch (rng() % 4) {
        case 0: {
          const auto n = rng() % nodes;
          up[n] = static_cast<NetworkMask>(rng() % 4);
          t.set_node_networks(n, up[n], now);
          break;
        }
        case 1: {
          const auto n = rng() % nodes;
          cordoned[n] = rng() % 3 == 0;
          t.set_node_cordoned(n, cordoned[n], now);
          break;
        }
        case 2:
          if (!pods.empty()) {
            const auto i = rng() % pods.size();
            t.remove_pod(pods[i].node, pods[i].interfaces, pods[i].ip, now);
            pods.erase(pods.begin() + static_cast<long>(i));
            break;
          }
          [[fallthrough]];
        default: {
          ViolationTracker::PodSample p{rng() % nodes, static_cast<NetworkMask>(1 + rng() % 3),
                                        rng() % 2 ? Network::source : Network::cilium};
          if (!(p.interfaces & network_bit(p.ip)))
            p.interfaces |= network_bit(p.ip);
          pods.push_back(p);
          t.add_pod(p.node, p.interfaces, p.ip, now);
        }
      }
      BOOST_TEST_REQUIRE(t.violations() == ViolationTracker::count_pairs(pods, up, cordoned));
    }
  }
}

BOOST_AUTO_TEST_CASE(cordon_statistics) {
  ViolationTracker t;
  const auto t0 = ViolationTracker::Clock::now();
  const auto a = t.node_index("a"), b = t.node_index("b");
  t.set_node_cordoned(a, true, t0);
  t.set_node_cordoned(b, true, t0 + std::chrono::seconds(1));
  t.set_node_cordoned(a, false, t0 + std::chrono::seconds(5));
  t.set_node_cordoned(b, false, t0 + std::chrono::seconds(6));
  BOOST_TEST(t.max_cordoned_at_once() == 2u);
  auto r = t.report(t0 + std::chrono::seconds(10));
  BOOST_TEST(r.at("cordoned").at("longest_seconds").as_double() == 5.0);
  BOOST_TEST(r.at("cordoned").at("longest_node").as_string() == "a");
}

BOOST_AUTO_TEST_CASE(violation_time_accounting) {
  ViolationTracker t;
  const auto t0 = ViolationTracker::Clock::now();
  const auto a = t.node_index("a"), b = t.node_index("b");
  t.set_node_networks(a, SRC, t0);
  t.set_node_networks(b, SRC, t0);
  t.add_pod(a, SRC, Network::source, t0);
  t.add_pod(b, SRC, Network::source, t0);
  BOOST_TEST(t.violations() == 0u);
  t.set_node_networks(b, CIL, t0 + std::chrono::seconds(1));  // source gone from b
  BOOST_TEST(t.violations() == 1u);
  t.set_node_networks(b, SRC, t0 + std::chrono::seconds(4));
  BOOST_TEST(t.violations() == 0u);
  auto r = t.report(t0 + std::chrono::seconds(10));
  BOOST_TEST(r.at("violations").at("violation_seconds").as_double() == 3.0);
  BOOST_TEST(r.at("violations").at("max_concurrent").to_number<int>() == 1);
  BOOST_TEST(r.at("violations").at("episodes").to_number<int>() == 1);
}
