#define BOOST_TEST_MODULE sim CNI stack hazards
// The oracle models what breaks when the source CNI and Cilium run side by
// side with the wrong settings (src/sim/cni_hazards.hpp), read from the
// cluster's objects as the components read them: each hazardous setting shows
// violations (or NotReady agents), the safe one beside it shows none. The
// migrator's steps are played by editing labels and DaemonSets, as in
// oracle_test.cpp.
#include <random>

#include <boost/asio/ip/network_v4.hpp>
#include <boost/test/unit_test.hpp>

#include "sim_cluster_harness.hpp"

using namespace cnimig::sim;
using cnimig::sim::test::Harness;
namespace json = boost::json;

namespace {

const std::string& L = cnimig::sim::test::kRolePrefix;
const std::vector<std::string>& node_names = cnimig::sim::test::kFourNodes;
using cnimig::sim::test::agent_ds;
using cnimig::sim::test::install_knet_stress;

// cilium-config as resources/cilium.yaml has it, with `changes` applied.
json::object cilium_config(const std::map<std::string, std::string>& changes) {
  json::object data{{"cni-exclusive", "false"},
                    {"routing-mode", "tunnel"},
                    {"tunnel-protocol", "geneve"},
                    {"tunnel-port", "6081"},
                    {"ipam", "cluster-pool"},
                    {"cluster-pool-ipv4-cidr", "10.217.0.0/16"},
                    {"cluster-pool-ipv4-mask-size", "24"}};
  for (const auto& [k, v] : changes) {
    if (v.empty())
      data.erase(k);
    else
      data[k] = v;
  }
  return json::object{
      {"metadata", json::object{{"name", "cilium-config"}, {"namespace", "kube-system"}}},
      {"data", std::move(data)}};
}

ClusterOptions source(std::string_view cni) {
  auto o = Harness::zero_delays();
  BOOST_REQUIRE(set_source_cni(o, cni));
  return o;
}

// A 4-node cluster of `options`' source CNI with knet-stress, cilium-config
// from `cilium` in place before the migration starts.
struct Cluster {
  Harness h;
  const ResourceType& config_maps = resource_type("", "configmaps");

  Cluster(ClusterOptions options, const std::map<std::string, std::string>& cilium)
      : h(std::move(options)) {
    h.model.bootstrap(node_names.size(), 2);
    BOOST_REQUIRE(h.settle());
    BOOST_REQUIRE(install_knet_stress(h));
    BOOST_REQUIRE(h.store.create(config_maps, cilium_config(cilium)).has_value());
    BOOST_REQUIRE(h.settle());
  }

  const ClusterOptions& options() const { return h.model.options(); }
  std::uint64_t max_violations() const { return h.model.network().tracker().max_violations(); }
  std::uint64_t violations() const { return h.model.network().tracker().violations(); }

  // Step 1: both CNIs on every node, multus with the source first.
  void prepare() {
    for (const auto& n : node_names) {
      h.label_node(n, L + "calico-cilium", "true");
      h.label_node(n, L + "priority-calico", "true");
    }
    h.edit(h.daemonsets, options().source_cni_namespace, options().source_cni_daemonset,
           [](json::object& ds) {
             ds["spec"].as_object()["template"].as_object()["spec"].as_object()["nodeSelector"] =
                 json::object{{L + "calico-cilium", "true"}};
           });
    for (auto [name, label] :
         {std::pair{"cilium", "calico-cilium"}, std::pair{"cilium-migrated", "cilium"},
          std::pair{"kube-multus-calico", "priority-calico"},
          std::pair{"kube-multus-cilium", "priority-cilium"}})
      BOOST_REQUIRE(h.store.create(h.daemonsets, agent_ds("kube-system", name, label)).has_value());
    BOOST_REQUIRE(h.settle());
  }

  // Step 2 on one node: its pods re-created (DaemonSet pods too).
  void roll(const std::string& node) {
    h.cordon(node, true);
    for (const auto& p : h.store.pods_on_node(node))
      if (!p->at("spec").as_object().contains("hostNetwork") ||
          !p->at("spec").at("hostNetwork").as_bool())
        h.delete_pod(*p);
    BOOST_REQUIRE(h.settle());
    h.cordon(node, false);
    BOOST_REQUIRE(h.settle());
  }

  std::size_t failing_knet_stress() {
    std::size_t failing = 0;
    for (const auto& p : h.pods_of("knet-stress"))
      if (h.model.exec(*p, {"/knet-stress", "status"}).exit_code != 0)
        ++failing;
    return failing;
  }

  std::vector<std::string> interfaces_on(const std::string& node) {
    std::vector<std::string> out;
    for (const auto& p : h.store.pods_on_node(node))
      if (p->at("metadata").at("namespace").as_string() == "knet-stress")
        out.emplace_back(p->at("metadata").at("annotations").at(interfaces_annotation).as_string());
    return out;
  }

  std::vector<std::string> ready_source_agents() {
    std::vector<std::string> out;
    for (const auto& p : h.pods_of(options().source_cni_namespace))
      if (Harness::ready(*p) &&
          p->at("metadata").at("ownerReferences").at(0).at("name").as_string() ==
              options().source_cni_daemonset)
        out.push_back(Harness::node_of(*p));
    return out;
  }

  // "knet-stress/NAME" of `owner`'s pod on `node`.
  std::string knet_pod(const std::string& node, std::string_view owner) {
    for (const auto& p : h.store.pods_on_node(node))
      if (p->at("metadata").at("namespace").as_string() == "knet-stress" &&
          p->at("metadata").at("ownerReferences").at(0).at("name").as_string() == owner)
        return "knet-stress/" + std::string(p->at("metadata").at("name").as_string());
    return {};
  }

  std::int64_t report(std::string_view key) {
    return h.model.report().at("cni_stack").at(key).to_number<std::int64_t>();
  }
};

}  // namespace

// (a) cni-exclusive "true": the Ready Cilium agent renames multus's and the
// source's configs, so the pods a roll re-creates get Cilium alone and lose
// every pod still on the source network.
BOOST_AUTO_TEST_CASE(cni_exclusive_true_renames_the_other_configs) {
  Cluster c(Harness::zero_delays(), {{"cni-exclusive", "true"}});
  c.prepare();
  BOOST_TEST(c.h.model.network().config_files("node-0") ==
             (std::vector<std::string>{"00-multus.conflist.cilium_bak",
                                       "10-canal.conflist.cilium_bak", "99-cilium.conf"}));
  BOOST_TEST(c.report("nodes_configs_renamed") == 4);
  c.roll("node-0");
  for (const auto& i : c.interfaces_on("node-0"))
    BOOST_TEST(i == "cilium");
  BOOST_TEST(c.violations() > 0u);
  BOOST_TEST(c.failing_knet_stress() > 0u);
}

// cni-exclusive unset counts as true (Helm's cni.exclusive default).
BOOST_AUTO_TEST_CASE(cni_exclusive_unset_is_exclusive) {
  Cluster c(Harness::zero_delays(), {{"cni-exclusive", ""}});
  c.prepare();
  BOOST_TEST(c.report("nodes_configs_renamed") == 4);
}

BOOST_AUTO_TEST_CASE(cni_exclusive_false_keeps_multus) {
  Cluster c(Harness::zero_delays(), {{"cni-exclusive", "false"}});
  c.prepare();
  BOOST_TEST(
      c.h.model.network().config_files("node-0") ==
      (std::vector<std::string>{"00-multus.conflist", "10-canal.conflist", "99-cilium.conf"}));
  c.roll("node-0");
  for (const auto& i : c.interfaces_on("node-0"))
    BOOST_TEST(i == "source,cilium");
  BOOST_TEST(c.max_violations() == 0u);
  BOOST_TEST(c.failing_knet_stress() == 0u);
  BOOST_TEST(c.report("nodes_configs_renamed") == 0);
}

// enable-host-legacy-routing (resources/cilium.yaml sets it) does not count
// where multus runs: pods there are judged by their interfaces, so a node
// whose pods took Cilium IPs before the others got a Cilium interface (the
// roll skipped) still shows.
BOOST_AUTO_TEST_CASE(host_routing_does_not_count_where_multus_runs) {
  Cluster c(Harness::zero_delays(), {{"enable-host-legacy-routing", "true"}});
  c.prepare();
  BOOST_TEST(c.report("nodes_host_legacy_routing") == 0);
  c.h.label_node("node-0", L + "priority-calico", nullptr);
  c.h.label_node("node-0", L + "priority-cilium", "true");
  BOOST_REQUIRE(c.h.settle());
  c.roll("node-0");
  for (const auto& i : c.interfaces_on("node-0"))
    BOOST_TEST(i == "cilium,source");
  BOOST_TEST(c.violations() > 0u);
}

// (b) flannel's VXLAN (UDP 8472) and Cilium's VXLAN on its default port
// (8472): every node running both agents loses cross-node traffic on both
// networks; pods on one node still reach each other.
BOOST_AUTO_TEST_CASE(tunnel_port_clash_breaks_both_overlays) {
  Cluster c(source("flannel"), {{"tunnel-protocol", "vxlan"}, {"tunnel-port", ""}});
  BOOST_TEST(c.max_violations() == 0u);  // flannel alone
  c.prepare();
  BOOST_TEST(c.report("tunnel_clash_port") == 8472);
  BOOST_TEST(c.report("nodes_cross_node_broken") == 4);
  BOOST_TEST(c.violations() > 0u);
  BOOST_TEST(c.failing_knet_stress() == 8u);
  const auto& net = c.h.model.network();
  BOOST_TEST(
      net.pod_reaches(c.knet_pod("node-0", "knet-stress"), c.knet_pod("node-0", "knet-stress-2")));
  BOOST_TEST(
      !net.pod_reaches(c.knet_pod("node-0", "knet-stress"), c.knet_pod("node-1", "knet-stress")));
}

BOOST_AUTO_TEST_CASE(tunnel_on_another_port_is_safe) {
  for (const auto& cilium : {std::map<std::string, std::string>{},  // Geneve 6081
                             std::map<std::string, std::string>{{"tunnel-protocol", "vxlan"},
                                                                {"tunnel-port", "8473"}}}) {
    Cluster c(source("flannel"), cilium);
    c.prepare();
    c.roll("node-0");
    BOOST_TEST(c.report("tunnel_clash_port") == 0);
    BOOST_TEST(c.max_violations() == 0u);
    BOOST_TEST(c.failing_knet_stress() == 0u);
  }
}

// Calico's VXLAN (4789) against Cilium's VXLAN moved to 4789.
BOOST_AUTO_TEST_CASE(calico_vxlan_clashes_on_4789) {
  auto o = source("calico");
  Cluster c(o, {{"tunnel-protocol", "vxlan"}, {"tunnel-port", "4789"}});
  BOOST_TEST(c.report("tunnel_clash_port") == 0);  // calico.yaml: IP-in-IP
  c.h.edit(c.h.daemonsets, "kube-system", "calico-node", [](json::object& ds) {
    auto& env = ds["spec"]
                    .as_object()["template"]
                    .as_object()["spec"]
                    .as_object()["containers"]
                    .as_array()[0]
                    .as_object()["env"]
                    .as_array();
    for (auto& e : env)
      if (e.at("name") == "CALICO_IPV4POOL_IPIP")
        e.as_object()["value"] = "Never";
      else if (e.at("name") == "CALICO_IPV4POOL_VXLAN")
        e.as_object()["value"] = "Always";
  });
  BOOST_REQUIRE(c.h.settle());
  c.prepare();
  BOOST_TEST(c.report("tunnel_clash_port") == 4789);
  BOOST_TEST(c.violations() > 0u);
}

// (c) the source's pod CIDR is Cilium's pool: once a node runs both CNIs,
// cross-node traffic to and from addresses in the overlap is lost.
BOOST_AUTO_TEST_CASE(pod_cidr_overlap_breaks_cross_node_traffic) {
  auto o = Harness::zero_delays();
  o.source_pod_cidr = "10.217.0.0/16";
  Cluster c(o, {});
  BOOST_TEST(c.max_violations() == 0u);  // one CNI, one route per prefix
  const auto pool = boost::asio::ip::make_network_v4("10.217.0.0/16");
  for (const auto& p : c.h.pods_of("knet-stress")) {
    const auto ip = boost::asio::ip::make_address_v4(p->at("status").at("podIP").as_string());
    BOOST_TEST(boost::asio::ip::make_network_v4(ip, 32).is_subnet_of(pool));
  }
  c.prepare();
  BOOST_TEST(c.h.model.report().at("cni_stack").at("pod_cidr_overlap").as_bool());
  BOOST_TEST(c.report("nodes_in_pod_cidr_overlap") == 4);
  BOOST_TEST(c.violations() > 0u);
  BOOST_TEST(c.failing_knet_stress() == 8u);
}

BOOST_AUTO_TEST_CASE(distinct_pod_cidrs_are_safe) {
  Cluster c(Harness::zero_delays(), {});  // 10.64.0.0/10 and 10.217.0.0/16
  c.prepare();
  c.roll("node-0");
  BOOST_TEST(!c.h.model.report().at("cni_stack").at("pod_cidr_overlap").as_bool());
  BOOST_TEST(c.max_violations() == 0u);
  BOOST_TEST(c.failing_knet_stress() == 0u);
  // Cilium's addresses come from cilium-config's pool.
  for (const auto& p : c.h.store.pods_on_node("node-0"))
    if (p->at("metadata").at("namespace").as_string() == "knet-stress")
      BOOST_TEST(
          std::string(p->at("metadata").at("annotations").at(secondary_ip_annotation).as_string())
              .starts_with("10.217."));
}

// (d) calico-node with first-found (unset or named): once Cilium runs on the
// node, calico-node turns NotReady and Calico's cross-node routes break.
BOOST_AUTO_TEST_CASE(calico_first_found_turns_calico_node_not_ready) {
  for (const std::string method : {"", "first-found"}) {
    auto o = source("calico");
    o.calico_autodetection = method;
    Cluster c(o, {});
    BOOST_TEST(c.ready_source_agents().size() == 4u, method);
    BOOST_TEST(c.max_violations() == 0u, method);
    c.prepare();
    BOOST_TEST(c.ready_source_agents().empty(), method);
    BOOST_TEST(c.report("nodes_calico_node_ip_lost") == 4, method);
    BOOST_TEST(c.violations() > 0u, method);
    BOOST_TEST(c.failing_knet_stress() == 8u, method);
  }
}

BOOST_AUTO_TEST_CASE(calico_pinned_autodetection_is_safe) {
  for (const std::string method :
       {"kubernetes-internal-ip", "interface=eth0", "cidr=172.16.0.0/12", "can-reach=8.8.8.8"}) {
    auto o = source("calico");
    o.calico_autodetection = method;
    Cluster c(o, {});
    c.prepare();
    c.roll("node-0");
    BOOST_TEST(c.ready_source_agents().size() == 4u, method);
    BOOST_TEST(c.report("nodes_calico_node_ip_lost") == 0, method);
    BOOST_TEST(c.max_violations() == 0u, method);
    BOOST_TEST(c.failing_knet_stress() == 0u, method);
  }
}

// Canal's calico-node does policy only (CALICO_NETWORKING_BACKEND=none):
// flannel routes, so Calico's autodetection is harmless there.
BOOST_AUTO_TEST_CASE(canal_calico_node_is_not_affected) {
  Cluster c(Harness::zero_delays(), {});
  c.prepare();
  BOOST_TEST(c.ready_source_agents().size() == 4u);
  BOOST_TEST(c.max_violations() == 0u);
}

// (e) the source CNI's leftovers stay on a node it left until a Ready pod of
// kube-system/cnimig-node-cleanup runs there with no source CNI pod beside it.
BOOST_AUTO_TEST_CASE(leftovers_stay_until_the_cleanup_daemonset_runs) {
  Cluster c(Harness::zero_delays(), {});
  auto leftovers = [&] {
    return c.h.model.report().at("nodes_with_leftovers").to_number<std::int64_t>();
  };
  BOOST_TEST(leftovers() == 0);
  // Canal leaves node-1 (the migrate step's label swap).
  c.h.label_node("node-0", "cni", "yes");
  c.h.edit(c.h.daemonsets, "kube-system", "canal", [](json::object& ds) {
    ds["spec"].as_object()["template"].as_object()["spec"].as_object()["nodeSelector"] =
        json::object{{"cni", "yes"}};
  });
  BOOST_REQUIRE(c.h.settle());
  BOOST_TEST(leftovers() == 3);
  const auto left = c.h.model.network().leftovers("node-1");
  for (const char* item :
       {"/etc/cni/net.d/10-canal.conflist", "/etc/cni/net.d/00-multus.conflist",
        "/etc/cni/net.d/multus.d", "iptables chains", "interface flannel.1", "interface cni0"})
    BOOST_TEST((std::find(left.begin(), left.end(), item) != left.end()), item);
  BOOST_TEST(c.h.model.network().leftovers("node-0").empty());
  // A DaemonSet of another name or namespace cleans nothing.
  BOOST_REQUIRE(
      c.h.store.create(c.h.daemonsets, agent_ds("kube-system", "node-cleanup", "")).has_value());
  BOOST_REQUIRE(c.h.store.create(c.h.daemonsets, agent_ds("knet-stress", "cnimig-node-cleanup", ""))
                    .has_value());
  BOOST_REQUIRE(c.h.settle());
  BOOST_TEST(leftovers() == 3);
  BOOST_REQUIRE(c.h.store.create(c.h.daemonsets, agent_ds("kube-system", "cnimig-node-cleanup", ""))
                    .has_value());
  BOOST_REQUIRE(c.h.settle());
  BOOST_TEST(leftovers() == 0);
  BOOST_TEST(c.h.model.network().leftovers("node-1").empty());
  // Canal still runs on node-0: once it leaves, the Ready cleanup pod clears
  // what it left at once.
  c.h.label_node("node-0", "cni", nullptr);
  BOOST_REQUIRE(c.h.settle());
  BOOST_TEST(leftovers() == 0);
}

// The O(1) count matches a brute-force count with random hazards, same-node
// pairs judged by the same-node rule.
BOOST_AUTO_TEST_CASE(tracker_matches_brute_force_with_hazards) {
  std::mt19937 rng(20261205);
  for (int round = 0; round < 150; ++round) {
    ViolationTracker t;
    const std::size_t nodes = 1 + rng() % 5;
    std::vector<NetworkMask> up(nodes);
    std::vector<NodeHazards> hazards(nodes);
    std::vector<bool> cordoned(nodes);
    std::vector<ViolationTracker::PodSample> pods;
    const auto now = ViolationTracker::Clock::now();
    for (std::size_t n = 0; n < nodes; ++n)
      t.node_index("n" + std::to_string(n));
    for (int s = 0; s < 50; ++s) {
      const auto n = rng() % nodes;
      switch (rng() % 5) {
        case 0:
          up[n] = static_cast<NetworkMask>(rng() % 4);
          t.set_node_networks(n, up[n], now);
          break;
        case 1:
          // With the nodes' host routing (reachability through the hosts).
          hazards[n] = NodeHazards{static_cast<NetworkMask>(rng() % 4),
                                   static_cast<NetworkMask>(rng() % 4), rng() % 2 == 0};
          t.set_node_hazards(n, hazards[n], now);
          break;
        case 2:
          cordoned[n] = rng() % 3 == 0;
          t.set_node_cordoned(n, cordoned[n], now);
          break;
        case 3:
          if (!pods.empty()) {
            const auto i = rng() % pods.size();
            t.remove_pod(pods[i].node, pods[i].interfaces, pods[i].ip, now);
            pods.erase(pods.begin() + static_cast<long>(i));
            break;
          }
          [[fallthrough]];
        default: {
          ViolationTracker::PodSample p{n, static_cast<NetworkMask>(1 + rng() % 3),
                                        rng() % 2 ? Network::source : Network::cilium};
          p.interfaces |= network_bit(p.ip);
          pods.push_back(p);
          t.add_pod(p.node, p.interfaces, p.ip, now);
        }
      }
      BOOST_TEST_REQUIRE(t.violations() ==
                         ViolationTracker::count_pairs(pods, up, hazards, cordoned));
    }
  }
}

// (f) multus delegating the source network to another CNI's conflist
// (Canal's on a Calico cluster): every pod a roll re-creates on a multus node
// stays without a sandbox; mending the ConfigMap lets them start. The right
// delegate starts them at once.
BOOST_AUTO_TEST_CASE(multus_with_another_cnis_delegate_starts_no_pod) {
  const auto multus_config = [](const char* ipam) {
    const auto source = json::object{
        {"name", "k8s-pod-network"},
        {"plugins",
         json::array{json::object{{"type", "calico"}, {"ipam", json::object{{"type", ipam}}}}}}};
    const auto cilium = json::object{
        {"name", "cilium"}, {"plugins", json::array{json::object{{"type", "cilium-cni"}}}}};
    const auto conflist = json::object{
        {"plugins", json::array{json::object{{"type", "multus-shim"},
                                             {"delegates", json::array{source, cilium}}}}}};
    return json::object{
        {"metadata", json::object{{"name", "multus-daemon-config"}, {"namespace", "kube-system"}}},
        {"data", json::object{{"calico-primary.conflist", json::serialize(conflist)}}}};
  };
  for (const bool right : {false, true}) {
    Cluster c(source("calico"), {});
    BOOST_REQUIRE(
        c.h.store.create(c.config_maps, multus_config(right ? "calico-ipam" : "host-local"))
            .has_value());
    BOOST_REQUIRE(c.h.settle());
    BOOST_TEST(c.h.model.report().at("cni_stack").at("multus_delegate_mismatch").as_bool() ==
               !right);
    c.prepare();
    c.roll("node-0");
    const auto started = [&] {
      std::size_t n = 0;
      for (const auto& p : c.h.store.pods_on_node("node-0")) {
        const auto* a = p->at("metadata").as_object().if_contains("annotations");
        if (p->at("metadata").at("namespace").as_string() == "knet-stress" && a != nullptr &&
            a->as_object().contains(interfaces_annotation))
          ++n;
      }
      return n;
    };
    BOOST_TEST(started() == (right ? 2u : 0u), right);
    if (right)
      continue;
    c.h.edit(c.config_maps, "kube-system", "multus-daemon-config",
             [&](json::object& cm) { cm["data"] = multus_config("calico-ipam")["data"]; });
    BOOST_REQUIRE(c.h.settle());
    BOOST_TEST(started() == 2u);
  }
}
