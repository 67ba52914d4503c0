#define BOOST_TEST_MODULE sim Cilium per - node configuration
// The cluster model with Cilium installed for a live migration without multus
// (src/sim/README.md): each agent takes its configuration when its pod starts
// (cilium-config, then the CiliumNodeConfigs selecting its node), which
// decides whether and which CNI config it writes and whether it renames the
// others; the operator registers the CiliumNodeConfig CRD once Ready, served
// at every version its release serves.
#include <boost/test/unit_test.hpp>

#include "cilium_native_harness.hpp"
#include "cilium_operator.hpp"

using namespace cnimig::sim;
using namespace cnimig::sim::test;
namespace json = boost::json;

namespace {

using Files = std::vector<std::string>;

}  // namespace

BOOST_AUTO_TEST_CASE(custom_cni_conf_agents_write_no_config) {
  NativeCluster c;
  for (const auto& n : kFourNodes) {
    BOOST_TEST(c.network().config_files(n) == Files{"10-canal.conflist"});
    BOOST_TEST(c.network().networks_up(n) ==
               (network_bit(Network::source) | network_bit(Network::cilium)));
  }
  BOOST_TEST(c.report("nodes_cilium_cni_config") == 0);
  BOOST_TEST(c.report("nodes_host_legacy_routing") == 4);
  BOOST_TEST(c.max_violations() == 0u);
}

BOOST_AUTO_TEST_CASE(a_labelled_node_takes_cilium_once_its_agent_restarts) {
  NativeCluster c;
  c.h.label_node("node-0", kCiliumDefaultLabel, "true");
  c.restart_agent("node-0");
  // write-cni-conf-when-ready from the CiliumNodeConfig; 05 sorts before 10.
  BOOST_TEST(c.network().config_files("node-0") ==
             (Files{"05-cilium.conflist", "10-canal.conflist.cilium_bak"}));
  BOOST_TEST(c.network().config_files("node-1") == Files{"10-canal.conflist"});
  BOOST_TEST(c.report("nodes_cilium_cni_config") == 1);
  BOOST_TEST(c.report("nodes_configs_renamed") == 1);  // its agent is exclusive, the others not
  c.recreate_pods("node-0");
  const auto ips = c.pod_ips("node-0");
  BOOST_TEST_REQUIRE(!ips.empty());
  for (const auto& ip : ips)
    BOOST_TEST(in_cilium_pool(ip), ip);
  for (const auto& ip : c.pod_ips("node-1"))
    BOOST_TEST(!in_cilium_pool(ip), ip);
  // Through the hosts, the node's Cilium pods and the others' source pods
  // reach each other.
  BOOST_TEST(c.max_violations() == 0u);
}

BOOST_AUTO_TEST_CASE(a_label_without_an_agent_restart_changes_nothing) {
  NativeCluster c;
  c.h.label_node("node-0", kCiliumDefaultLabel, "true");
  BOOST_REQUIRE(c.h.settle());
  BOOST_TEST(c.network().config_files("node-0") == Files{"10-canal.conflist"});
  c.recreate_pods("node-0");
  for (const auto& ip : c.pod_ips("node-0"))
    BOOST_TEST(!in_cilium_pool(ip), ip);
}

BOOST_AUTO_TEST_CASE(a_running_agent_keeps_the_configuration_it_started_with) {
  NativeCluster c;
  c.h.edit(resource_type("", "configmaps"), "kube-system", "cilium-config",
           restore_cilium_defaults);
  BOOST_REQUIRE(c.h.settle());
  BOOST_TEST(c.network().config_files("node-0") == Files{"10-canal.conflist"});
  // Re-created, the agent reads the new values.
  c.restart_agent("node-0");
  BOOST_TEST(c.network().config_files("node-0") ==
             (Files{"05-cilium.conflist", "10-canal.conflist.cilium_bak"}));
  BOOST_TEST(c.network().config_files("node-1") == Files{"10-canal.conflist"});
  // A CiliumNodeConfig deleted later does not change the agent that read it.
  c.h.label_node("node-1", kCiliumDefaultLabel, "true");
  c.restart_agent("node-1");
  BOOST_REQUIRE(c.h.store.remove(node_configs(), "kube-system", "cilium-default").has_value());
  BOOST_REQUIRE(c.h.settle());
  BOOST_TEST(c.network().config_files("node-1") ==
             (Files{"05-cilium.conflist", "10-canal.conflist.cilium_bak"}));
}

BOOST_AUTO_TEST_CASE(an_agent_reports_the_configuration_it_took) {
  NativeCluster c;
  c.h.label_node("node-2", kCiliumDefaultLabel, "true");
  c.restart_agent("node-2");
  for (const auto& p : c.h.store.pods_on_node("node-2")) {
    if (NativeCluster::owner_name(*p) != "cilium")
      continue;
    const auto config = c.network().cilium_agent_config(
        "kube-system/" + std::string(p->at("metadata").at("name").as_string()));
    BOOST_TEST_REQUIRE(config.has_value());
    BOOST_TEST(!config->custom_cni_conf);
    BOOST_TEST(config->write_cni_conf == "05-cilium.conflist");
    BOOST_TEST(config->exclusive());
    BOOST_TEST(config->host_legacy_routing);
  }
}

// --- the operator and the CRD ---

namespace {

struct OperatorCluster {
  Harness h;
  ApiHandler api{h.store};

  OperatorCluster() {
    h.model.bootstrap(2, 1);
    BOOST_REQUIRE(h.settle());
  }
  ApiResult call(std::string method, std::string target, std::string body = {}) {
    return api.handle(ApiRequest{std::move(method), std::move(target), "application/json",
                                 "application/json", std::move(body)});
  }
  int status(std::string method, std::string target, std::string body = {}) {
    return call(std::move(method), std::move(target), std::move(body)).response.status;
  }
  json::value body(std::string target) { return json::parse(call("GET", target).response.body); }
  void install_operator(std::string_view image) {
    BOOST_REQUIRE(h.store.create(h.deployments, operator_deployment(image)).has_value());
    BOOST_REQUIRE(h.settle());
  }
  void upgrade_operator(std::string_view image) {
    h.edit(h.deployments, "kube-system", "cilium-operator", [&](json::object& d) {
      d["spec"].as_object()["template"].as_object()["spec"].as_object()["containers"] =
          json::array{json::object{{"name", "cilium-operator"}, {"image", image}}};
    });
    BOOST_REQUIRE(h.settle());
  }
  std::vector<std::string> versions() {
    std::vector<std::string> out;
    const auto group = body("/apis/cilium.io");
    for (const auto& v : group.at("versions").as_array())
      out.emplace_back(v.at("version").as_string());
    return out;
  }
};

const std::string kNodeConfigs = "/namespaces/kube-system/ciliumnodeconfigs";

std::string node_config_body(std::string_view api_version) {
  return json::serialize(cilium_default_node_config(api_version));
}

}  // namespace

BOOST_AUTO_TEST_CASE(the_crd_appears_once_the_operator_is_ready) {
  OperatorCluster c;
  BOOST_TEST(c.status("GET", "/apis/cilium.io") == 404);
  c.h.model.set_faults({{"never-ready-node", "node-0"}});
  auto d = operator_deployment("quay.io/cilium/operator-generic:v1.18.9");
  d["spec"].as_object()["template"].as_object()["spec"].as_object()["nodeSelector"] =
      json::object{{"kubernetes.io/hostname", "node-0"}};
  BOOST_REQUIRE(c.h.store.create(c.h.deployments, d).has_value());
  BOOST_REQUIRE(c.h.settle());
  // Running, not Ready: no CRD yet, and no CiliumNodeConfig can be created.
  BOOST_TEST(!c.h.store.get(resource_type("apiextensions.k8s.io", "customresourcedefinitions"), "",
                            node_config_crd_name));
  BOOST_TEST(c.status("POST", "/apis/cilium.io/v2" + kNodeConfigs,
                      node_config_body("cilium.io/v2")) == 404);
  c.h.model.set_faults({});
  BOOST_REQUIRE(c.h.settle());
  BOOST_TEST(c.status("GET", "/apis/cilium.io") == 200);
  const auto crd = c.body("/apis/apiextensions.k8s.io/v1/customresourcedefinitions/" +
                          std::string(node_config_crd_name));
  BOOST_TEST(crd.at("status").at("conditions").at(1).at("type").as_string() == "Established");
  BOOST_TEST(crd.at("status").at("conditions").at(1).at("status").as_string() == "True");
}

BOOST_AUTO_TEST_CASE(a_1_18_operator_serves_v2_and_v2alpha1) {
  OperatorCluster c;
  c.install_operator("quay.io/cilium/operator-generic:v1.18.9");
  BOOST_TEST(c.versions() == (std::vector<std::string>{"v2", "v2alpha1"}));
  BOOST_TEST(c.body("/apis/cilium.io").at("preferredVersion").at("version").as_string() == "v2");
  // /apis lists the group with both versions.
  bool listed = false;
  const auto groups = c.body("/apis");
  for (const auto& g : groups.at("groups").as_array())
    if (g.at("name").as_string() == "cilium.io")
      listed = g.at("versions").as_array().size() == 2;
  BOOST_TEST(listed);
  for (const char* v : {"v2", "v2alpha1"}) {
    const auto list = c.body(std::string("/apis/cilium.io/") + v);
    BOOST_TEST(list.at("resources").at(0).at("name").as_string() == "ciliumnodeconfigs");
    BOOST_TEST(list.at("resources").at(0).at("namespaced").as_bool());
  }
  // Created at v2, read at either version, in the version asked for.
  BOOST_TEST(c.status("POST", "/apis/cilium.io/v2" + kNodeConfigs + "?dryRun=All",
                      node_config_body("cilium.io/v2")) == 201);
  BOOST_TEST(c.status("GET", "/apis/cilium.io/v2" + kNodeConfigs + "/cilium-default") == 404);
  BOOST_TEST(c.status("POST", "/apis/cilium.io/v2" + kNodeConfigs,
                      node_config_body("cilium.io/v2")) == 201);
  BOOST_TEST(c.body("/apis/cilium.io/v2alpha1" + kNodeConfigs + "/cilium-default")
                 .at("apiVersion")
                 .as_string() == "cilium.io/v2alpha1");
  const auto list = c.body("/apis/cilium.io/v2alpha1" + kNodeConfigs);
  BOOST_TEST(list.at("apiVersion").as_string() == "cilium.io/v2alpha1");
  BOOST_TEST(list.at("items").as_array().size() == 1u);
  BOOST_TEST(list.at("items").at(0).at("apiVersion").as_string() == "cilium.io/v2alpha1");
  auto watch = c.call("GET", "/apis/cilium.io/v2alpha1" + kNodeConfigs + "?watch=1");
  BOOST_TEST_REQUIRE(watch.watch != nullptr);
  BOOST_TEST_REQUIRE(watch.watch->initial.size() == 1u);
  BOOST_TEST(json::parse(watch.watch->initial[0]).at("object").at("apiVersion").as_string() ==
             "cilium.io/v2alpha1");
  // A body naming another version than the path is refused, as kube-apiserver does.
  auto other = cilium_default_node_config("cilium.io/v2alpha1");
  other["metadata"].as_object()["name"] = "other";
  BOOST_TEST(c.status("POST", "/apis/cilium.io/v2" + kNodeConfigs, json::serialize(other)) == 400);
  BOOST_TEST(c.status("DELETE", "/apis/cilium.io/v2alpha1" + kNodeConfigs +
                                    "/cilium-default?dryRun=All") == 200);
  BOOST_TEST(c.status("DELETE", "/apis/cilium.io/v2" + kNodeConfigs + "/cilium-default") == 200);
  BOOST_TEST(c.status("GET", "/apis/cilium.io/v2" + kNodeConfigs + "/cilium-default") == 404);
}

BOOST_AUTO_TEST_CASE(served_versions_follow_the_operator_release) {
  OperatorCluster c;
  c.install_operator("quay.io/cilium/operator-generic:v1.15.7");
  BOOST_TEST(c.versions() == std::vector<std::string>{"v2alpha1"});
  BOOST_TEST(c.status("GET", "/apis/cilium.io/v2" + kNodeConfigs) == 404);
  BOOST_TEST(c.status("GET", "/apis/cilium.io/v2alpha1" + kNodeConfigs) == 200);
  // An operator of 1.20 updates the CRD: v2alpha1 is gone.
  c.upgrade_operator("quay.io/cilium/operator-generic:v1.20.0");
  BOOST_TEST(c.versions() == std::vector<std::string>{"v2"});
  BOOST_TEST(c.status("GET", "/apis/cilium.io/v2alpha1" + kNodeConfigs) == 404);
  BOOST_TEST(c.status("GET", "/apis/cilium.io/v2" + kNodeConfigs) == 200);
}

// Another simulator in the process registered the kind: this one, without
// the CRD, does not serve it.
BOOST_AUTO_TEST_CASE(a_crd_of_another_simulator_is_not_served) {
  OperatorCluster with;
  with.install_operator("quay.io/cilium/operator-generic:v1.18.9");
  OperatorCluster without;
  BOOST_TEST(without.status("GET", "/apis/cilium.io/v2" + kNodeConfigs) == 404);
  BOOST_TEST(without.status("GET", "/apis/cilium.io") == 404);
}
