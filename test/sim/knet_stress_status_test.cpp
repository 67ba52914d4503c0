#define BOOST_TEST_MODULE sim knet stress status
// `knet-stress status` reads an index of the Ready knet-stress pods by
// namespace and node (network_model_knet.cpp). These tests keep the index
// true through pod changes, and its answers equal to the first algorithm's
// (knet_stress_reference.hpp) over randomized small clusters.
#include <map>
#include <random>
#include <string>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "cnimig/sim/cluster_options.hpp"

#include "knet_stress_reference.hpp"
#include "network_model.hpp"

namespace json = boost::json;
using namespace cnimig::sim;
using cnimig::sim::test::pod;
using cnimig::sim::test::PodSpec;
using cnimig::sim::test::reference_knet_stress_status;
using cnimig::sim::test::reference_pod;
using cnimig::sim::test::ReferencePod;

namespace {

using Clock = NetworkModel::Clock;

json::object node(const std::string& name) {
  return json::object{{"metadata", json::object{{"name", name}}}, {"spec", json::object{}}};
}

// A NetworkModel fed by hand, remembering what it was fed (by key).
struct Model {
  ClusterOptions options;
  NetworkModel net;
  std::map<std::string, json::object> pods;
  std::map<std::string, json::object> nodes;
  Clock::time_point now{};

  explicit Model(ClusterOptions o = {}) : options(std::move(o)), net(options) {}

  void add_node(const std::string& name) {
    auto n = node(name);
    net.node_changed(nodes.count(name) ? &nodes.at(name) : nullptr, &n, now);
    nodes[name] = std::move(n);
  }
  void remove_node(const std::string& name) {
    auto it = nodes.find(name);
    if (it == nodes.end())
      return;
    net.node_changed(&it->second, nullptr, now);
    nodes.erase(it);
  }
  void put(const PodSpec& s) {
    auto p = pod(s);
    const auto k = s.ns + "/" + s.name;
    auto it = pods.find(k);
    net.pod_changed(it == pods.end() ? nullptr : &it->second, &p, now);
    pods[k] = std::move(p);
  }
  void remove(const std::string& k) {
    auto it = pods.find(k);
    if (it == pods.end())
      return;
    net.pod_changed(&it->second, nullptr, now);
    pods.erase(it);
  }
  // An agent pod of the DaemonSet on the node, Ready or not (hostNetwork).
  void agent(const std::string& ds, const std::string& ns, const std::string& on, bool ready) {
    put(PodSpec{ns, ds + "-" + on, on, ds, ready, "", true, ""});
  }
  void source_agent(const std::string& on, bool ready) {
    agent(options.source_cni_daemonset, options.source_cni_namespace, on, ready);
  }
  ExecResult status(const std::string& k) const { return net.knet_stress_status(pods.at(k)); }
  ExecResult reference(const std::string& k) const {
    std::vector<ReferencePod> all;
    for (const auto& [key, p] : pods)
      all.push_back(reference_pod(p));
    const auto& self = pods.at(k);
    const bool running =
        !cnimig::wire::host_network(self) && NetworkModel::interfaces_of(self).has_value();
    return reference_knet_stress_status(net, reference_pod(self), running, all);
  }
};

void check_same(const ExecResult& got, const ExecResult& want) {
  BOOST_TEST(got.exit_code == want.exit_code);
  BOOST_TEST(got.stdout_text == want.stdout_text);
  BOOST_TEST(got.stderr_text == want.stderr_text);
}

}  // namespace

BOOST_AUTO_TEST_CASE(index_follows_pods_added_and_removed) {
  Model m;
  for (const auto* n : {"node-0", "node-1"}) {
    m.add_node(n);
    m.source_agent(n, true);
  }
  BOOST_TEST(m.net.knet_stress_pods("knet") == 0u);
  m.put({.name = "a", .node = "node-0"});
  m.put({.name = "b", .node = "node-1", .ip = "10.64.1.2"});
  m.put({.name = "c", .node = "node-1", .owner = "knet-stress-2", .ip = "10.64.1.3"});
  BOOST_TEST(m.net.knet_stress_pods("knet") == 3u);
  BOOST_TEST(m.status("knet/a").stdout_text == "OK: reached 2 peers\n");
  m.remove("knet/b");
  BOOST_TEST(m.net.knet_stress_pods("knet") == 2u);
  BOOST_TEST(m.status("knet/a").stdout_text == "OK: reached 1 peers\n");
  m.remove("knet/c");
  m.remove("knet/a");
  BOOST_TEST(m.net.knet_stress_pods("knet") == 0u);
}

BOOST_AUTO_TEST_CASE(index_follows_readiness) {
  Model m;
  for (const auto* n : {"node-0", "node-1"}) {
    m.add_node(n);
    m.source_agent(n, true);
  }
  m.put({.name = "a", .node = "node-0"});
  m.put({.name = "b", .node = "node-1", .ready = false});
  BOOST_TEST(m.net.knet_stress_pods("knet") == 1u);
  BOOST_TEST(m.status("knet/a").stdout_text == "OK: reached 0 peers\n");
  m.put({.name = "b", .node = "node-1"});
  BOOST_TEST(m.net.knet_stress_pods("knet") == 2u);
  BOOST_TEST(m.status("knet/a").stdout_text == "OK: reached 1 peers\n");
  m.put({.name = "b", .node = "node-1", .ready = false});
  BOOST_TEST(m.net.knet_stress_pods("knet") == 1u);
  // A pod that is not Ready still answers (as before): its peers are the others.
  BOOST_TEST(m.status("knet/b").stdout_text == "OK: reached 1 peers\n");
}

BOOST_AUTO_TEST_CASE(index_is_per_namespace_and_knet_stress_daemonsets_only) {
  Model m;
  m.add_node("node-0");
  m.source_agent("node-0", true);
  m.put({.name = "a", .node = "node-0"});
  m.put({.ns = "other", .name = "a", .node = "node-0"});
  m.put({.ns = "other", .name = "b", .node = "node-0"});
  m.put({.name = "web", .node = "node-0", .owner = "web"});
  m.put({.name = "bare", .node = "node-0", .owner = ""});
  BOOST_TEST(m.net.knet_stress_pods("knet") == 1u);
  BOOST_TEST(m.net.knet_stress_pods("other") == 2u);
  BOOST_TEST(m.status("knet/a").stdout_text == "OK: reached 0 peers\n");
  BOOST_TEST(m.status("other/a").stdout_text == "OK: reached 1 peers\n");
}

// An update moves the pod's entry: its node, IP and network are the new ones.
BOOST_AUTO_TEST_CASE(index_follows_a_pods_node_ip_and_network) {
  Model m;
  for (const auto* n : {"node-0", "node-1"})
    m.add_node(n);
  m.source_agent("node-0", true);
  m.source_agent("node-1", false);
  m.put({.name = "a", .node = "node-0"});
  m.put({.name = "b", .node = "node-1", .ip = "10.64.1.2"});
  auto r = m.status("knet/a");
  BOOST_TEST(r.exit_code == 1);
  BOOST_TEST(r.stdout_text == "FAIL: 1 of 1 peers unreachable\n");
  BOOST_TEST(r.stderr_text == "unreachable: b (10.64.1.2 on node-1)\n");
  m.put({.name = "b", .node = "node-1", .ip = "10.64.1.9"});
  BOOST_TEST(m.status("knet/a").stderr_text == "unreachable: b (10.64.1.9 on node-1)\n");
  m.remove("knet/b");
  m.put({.name = "b", .node = "node-0", .ip = "10.64.0.3"});
  BOOST_TEST(m.status("knet/a").stdout_text == "OK: reached 1 peers\n");
  m.put({.name = "b", .node = "node-0", .interfaces = "cilium", .ip = "10.128.0.3"});
  BOOST_TEST(m.status("knet/a").stderr_text == "unreachable: b (10.128.0.3 on node-0)\n");
  m.put(
      {.name = "b", .node = "node-0", .interfaces = "", .host_network = true, .ip = "172.16.0.1"});
  BOOST_TEST(m.status("knet/a").stdout_text == "OK: reached 1 peers\n");
}

// The answers equal the first algorithm's while agents come and go, nodes are
// deleted, and pods change namespace, owner, readiness, node, interfaces and
// hostNetwork; with flannel and Cilium on VXLAN's port (cross-node traffic
// broken where both run), with Cilium's host legacy routing, and with
// Cilium's pool on flannel's (pod CIDR overlap).
BOOST_AUTO_TEST_CASE(equals_the_reference_over_random_clusters) {
  const std::vector<std::map<std::string, std::string>> cilium_configs{
      {{"tunnel-protocol", "vxlan"}, {"tunnel-port", ""}},
      {{"enable-host-legacy-routing", "true"}},
      {{"cluster-pool-ipv4-cidr", "10.244.0.0/16"}},
  };
  const std::vector<std::string> interfaces{"", "source", "cilium", "source,cilium",
                                            "cilium,source"};
  const std::vector<std::string> owners{"knet-stress", "knet-stress-2", "web", ""};
  std::size_t compared = 0, failing = 0, passing = 0;
  bool broken_seen = false, overlap_seen = false, host_routing_seen = false;
  for (std::uint32_t seed = 1; seed <= 12; ++seed) {
    std::mt19937 rng(seed);
    auto pick = [&](std::size_t n) { return static_cast<std::size_t>(rng() % n); };
    ClusterOptions o;
    BOOST_REQUIRE(set_source_cni(o, "flannel"));
    Model m(o);
    json::object data;
    for (const auto& [k, v] : cilium_configs[seed % cilium_configs.size()])
      data[k] = v;
    const json::object cm{
        {"metadata", json::object{{"name", "cilium-config"}, {"namespace", "kube-system"}}},
        {"data", data}};
    m.net.configmap_changed(nullptr, &cm, m.now);
    const json::object flannel{
        {"metadata", json::object{{"name", "kube-flannel-cfg"}, {"namespace", "kube-flannel"}}},
        {"data", json::object{{"net-conf.json",
                               R"({"Network": "10.244.0.0/16", "Backend": {"Type": "vxlan"}})"}}}};
    m.net.configmap_changed(nullptr, &flannel, m.now);
    std::vector<std::string> nodes;
    for (int i = 0; i < 5; ++i) {
      nodes.push_back("node-" + std::to_string(i));
      m.add_node(nodes.back());
    }
    for (int step = 0; step < 200; ++step) {
      const auto& on = nodes[pick(nodes.size())];
      switch (pick(8)) {
        case 0:
          m.source_agent(on, pick(3) != 0);
          break;
        case 1:
          m.agent("cilium", "kube-system", on, pick(3) != 0);
          break;
        case 2:
          if (pick(4) == 0)
            m.remove_node(on);
          else
            m.add_node(on);
          break;
        case 3:
          if (!m.pods.empty())
            m.remove(std::next(m.pods.begin(), static_cast<long>(pick(m.pods.size())))->first);
          break;
        default: {
          PodSpec s;
          s.ns = pick(4) == 0 ? "other" : "knet";
          s.name = "p" + std::to_string(pick(24));
          s.node = pick(12) == 0 ? "" : on;
          s.owner = owners[pick(owners.size())];
          s.ready = pick(4) != 0;
          s.host_network = pick(10) == 0;
          s.interfaces = s.host_network ? "" : interfaces[pick(interfaces.size())];
          s.ip = "10.64." + std::to_string(pick(5)) + "." + std::to_string(2 + pick(200));
          m.put(s);
        }
      }
      for (const auto& [k, p] : m.pods) {
        if (k.rfind("knet/", 0) != 0 && k.rfind("other/", 0) != 0)
          continue;
        const auto got = m.status(k);
        check_same(got, m.reference(k));
        ++compared;
        failing += got.stdout_text.rfind("FAIL", 0) == 0;
        passing += got.stdout_text.rfind("OK", 0) == 0;
      }
      for (const auto& n : nodes) {
        broken_seen = broken_seen || m.net.hazards(n).cross_broken != 0;
        overlap_seen = overlap_seen || m.net.hazards(n).overlap != 0;
        host_routing_seen = host_routing_seen || m.net.hazards(n).host_routing;
      }
    }
  }
  // The clusters were varied enough to fail some checks and pass others.
  BOOST_TEST(compared > 10'000u);
  BOOST_TEST(failing > 1'000u);
  BOOST_TEST(passing > 1'000u);
  BOOST_TEST(broken_seen);
  BOOST_TEST(overlap_seen);
  BOOST_TEST(host_routing_seen);
}
