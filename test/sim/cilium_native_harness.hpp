#pragma once
// The cilium-native strategy's objects, built for tests that drive the
// cluster model directly (Cilium's "Migrating a cluster to Cilium"): the
// migration's cilium-config, a `cilium` DaemonSet on every node, the operator
// Deployment (which registers the CiliumNodeConfig CRD once Ready) and the
// CiliumNodeConfig `cilium-default`. An ApiHandler on the same store serves
// the CRD, as the simulator's API does.

#include <string>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "api_handler.hpp"
#include "sim_cluster_harness.hpp"

namespace cnimig::sim::test {

inline const std::string kCiliumDefaultLabel = "io.cilium.migration/cilium-default";

// cilium-config with the migration's values (enable-host-legacy-routing as
// `host_routing` says).
inline json::object native_cilium_config(bool host_routing = true) {
  json::object data{{"custom-cni-conf", "true"},
                    {"cni-exclusive", "false"},
                    {"routing-mode", "tunnel"},
                    {"tunnel-protocol", "vxlan"},
                    {"tunnel-port", "8473"},
                    {"ipam", "cluster-pool"},
                    {"cluster-pool-ipv4-cidr", "10.217.0.0/16"},
                    {"cluster-pool-ipv4-mask-size", "24"},
                    {"enable-policy", "never"},
                    {"unmanaged-pod-watcher-interval", "0"}};
  if (host_routing)
    data["enable-host-legacy-routing"] = "true";
  return json::object{
      {"metadata", json::object{{"name", "cilium-config"}, {"namespace", "kube-system"}}},
      {"data", std::move(data)}};
}

// The finish's defaults in cilium-config.
inline void restore_cilium_defaults(json::object& config_map) {
  auto& data = config_map["data"].as_object();
  data["custom-cni-conf"] = "false";
  data["write-cni-conf-when-ready"] = "/host/etc/cni/net.d/05-cilium.conflist";
  data["cni-exclusive"] = "true";
  data["enable-policy"] = "default";
  data["unmanaged-pod-watcher-interval"] = "15";
}

inline json::object cilium_default_node_config(std::string_view api_version = "cilium.io/v2") {
  return json::object{
      {"apiVersion", api_version},
      {"kind", "CiliumNodeConfig"},
      {"metadata", json::object{{"name", "cilium-default"}, {"namespace", "kube-system"}}},
      {"spec",
       json::object{{"nodeSelector",
                     json::object{{"matchLabels", json::object{{kCiliumDefaultLabel, "true"}}}}},
                    {"defaults", json::object{{"write-cni-conf-when-ready",
                                               "/host/etc/cni/net.d/05-cilium.conflist"},
                                              {"custom-cni-conf", "false"},
                                              {"cni-chaining-mode", "none"},
                                              {"cni-exclusive", "true"}}}}}};
}

inline json::object operator_deployment(std::string_view image) {
  json::object labels{{"io.cilium/app", "operator"}, {"name", "cilium-operator"}};
  return json::object{
      {"metadata", json::object{{"name", "cilium-operator"}, {"namespace", "kube-system"}}},
      {"spec",
       json::object{
           {"replicas", 1},
           {"selector", json::object{{"matchLabels", labels}}},
           {"template",
            json::object{{"metadata", json::object{{"labels", labels}}},
                         {"spec", json::object{{"hostNetwork", true},
                                               {"containers", json::array{json::object{
                                                                  {"name", "cilium-operator"},
                                                                  {"image", image}}}}}}}}}}};
}

inline const ResourceType& node_configs() {
  return resource_type("cilium.io", "ciliumnodeconfigs");
}

// A cluster with the source CNI, knet-stress, and Cilium installed as the
// cilium-native prepare step leaves it: beside the source, writing no CNI
// config, its operator Ready and the CiliumNodeConfig created.
struct NativeCluster {
  Harness h;
  ApiHandler api{h.store};

  explicit NativeCluster(bool host_routing = true, std::size_t pods_per_node = 2) {
    h.model.bootstrap(kFourNodes.size(), pods_per_node);
    BOOST_REQUIRE(h.settle());
    BOOST_REQUIRE(install_knet_stress(h));
    BOOST_REQUIRE(h.settle());
    BOOST_REQUIRE(
        h.store.create(resource_type("", "configmaps"), native_cilium_config(host_routing))
            .has_value());
    BOOST_REQUIRE(h.store.create(h.daemonsets, agent_ds("kube-system", "cilium", "")).has_value());
    BOOST_REQUIRE(
        h.store
            .create(h.deployments, operator_deployment("quay.io/cilium/operator-generic:v1.18.9"))
            .has_value());
    BOOST_REQUIRE(h.settle());
    BOOST_REQUIRE(h.store.create(node_configs(), cilium_default_node_config()).has_value());
    BOOST_REQUIRE(h.settle());
  }

  const NetworkModel& network() const { return h.model.network(); }
  std::uint64_t violations() const { return network().tracker().violations(); }
  std::uint64_t max_violations() const { return network().tracker().max_violations(); }

  static bool host_network(const json::object& pod) {
    const auto* hn = pod.at("spec").as_object().if_contains("hostNetwork");
    return hn && hn->as_bool();
  }
  static std::string owner_name(const json::object& pod) {
    const auto* refs = pod.at("metadata").as_object().if_contains("ownerReferences");
    if (!refs || refs->as_array().empty())
      return {};
    return std::string(refs->as_array()[0].at("name").as_string());
  }

  // The node's Cilium agent pod re-created (deleted; its DaemonSet makes another).
  void restart_agent(const std::string& node) {
    for (const auto& p : h.store.pods_on_node(node))
      if (owner_name(*p) == "cilium")
        h.delete_pod(*p);
    BOOST_REQUIRE(h.settle());
  }
  // Every non-hostNetwork pod on the node deleted (their owners re-create them).
  void recreate_pods(const std::string& node) {
    for (const auto& p : h.store.pods_on_node(node))
      if (!host_network(*p))
        h.delete_pod(*p);
    BOOST_REQUIRE(h.settle());
  }
  // Drain as the migration does: workloads evicted, DaemonSet pods stay.
  void drain(const std::string& node) {
    for (const auto& p : h.store.pods_on_node(node)) {
      if (host_network(*p))
        continue;
      const auto* refs = p->at("metadata").as_object().if_contains("ownerReferences");
      if (refs && !refs->as_array().empty() && refs->as_array()[0].at("kind") == "DaemonSet")
        continue;
      h.delete_pod(*p);
    }
    BOOST_REQUIRE(h.settle());
  }

  // The pod IPs of the node's non-hostNetwork pods.
  std::vector<std::string> pod_ips(const std::string& node) {
    std::vector<std::string> out;
    for (const auto& p : h.store.pods_on_node(node))
      if (!host_network(*p) && p->contains("status"))
        if (const auto* ip = p->at("status").as_object().if_contains("podIP"))
          out.emplace_back(ip->as_string());
    return out;
  }

  // "knet-stress/NAME" of knet-stress's pod on the node.
  std::string knet_pod(const std::string& node) {
    for (const auto& p : h.store.pods_on_node(node))
      if (p->at("metadata").at("namespace").as_string() == "knet-stress" &&
          owner_name(*p) == "knet-stress")
        return "knet-stress/" + std::string(p->at("metadata").at("name").as_string());
    return {};
  }

  std::int64_t report(std::string_view key) {
    return h.model.report().at("cni_stack").at(key).to_number<std::int64_t>();
  }
};

inline bool in_cilium_pool(const std::string& ip) {
  return ip.starts_with("10.217.");
}

}  // namespace cnimig::sim::test
