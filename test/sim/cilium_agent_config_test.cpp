#define BOOST_TEST_MODULE sim Cilium agent configuration
// A Cilium agent's effective configuration (src/sim/cilium_agent_config.hpp):
// cilium-config, overridden by the defaults of the CiliumNodeConfigs that
// select the node, overridden by the agent's flags; and the CiliumNodeConfig
// versions an operator image serves (src/sim/cilium_operator.hpp).
#include "cilium_agent_config.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "cilium_operator.hpp"

using namespace cnimig::sim;
namespace json = boost::json;

namespace {

json::object config_map(json::object data) {
  return json::object{
      {"metadata", json::object{{"name", "cilium-config"}, {"namespace", "kube-system"}}},
      {"data", std::move(data)}};
}

// The migration's cilium-config (the cilium-native strategy's values).
json::object migration_values() {
  return config_map(json::object{{"custom-cni-conf", "true"},
                                 {"cni-exclusive", "false"},
                                 {"enable-host-legacy-routing", "true"}});
}

json::object node(json::object labels) {
  return json::object{
      {"metadata", json::object{{"name", "node-0"}, {"labels", std::move(labels)}}}};
}

// The CiliumNodeConfig cilium-default, selecting io.cilium.migration/cilium-default=true.
json::object cilium_default() {
  return json::object{
      {"metadata", json::object{{"name", "cilium-default"}, {"namespace", "kube-system"}}},
      {"spec",
       json::object{{"nodeSelector",
                     json::object{{"matchLabels",
                                   json::object{{"io.cilium.migration/cilium-default", "true"}}}}},
                    {"defaults", json::object{{"write-cni-conf-when-ready",
                                               "/host/etc/cni/net.d/05-cilium.conflist"},
                                              {"custom-cni-conf", "false"},
                                              {"cni-chaining-mode", "none"},
                                              {"cni-exclusive", "true"}}}}}};
}

json::object agent_spec(json::array args = {}) {
  return json::object{
      {"containers", json::array{json::object{{"name", "cilium-agent"},
                                              {"command", json::array{"cilium-agent"}},
                                              {"args", std::move(args)}}}}};
}

const json::object selected_node =
    node(json::object{{"io.cilium.migration/cilium-default", "true"}});
const json::object other_node = node(json::object{{"kubernetes.io/os", "linux"}});

}  // namespace

BOOST_AUTO_TEST_CASE(custom_cni_conf_writes_no_config) {
  const auto cm = migration_values();
  const auto spec = agent_spec();
  const auto c = effective_cilium_config(&cm, {}, &other_node, &spec);
  BOOST_TEST(c.configured);
  BOOST_TEST(c.custom_cni_conf);
  BOOST_TEST(c.cni_config_file("99-cilium.conf").empty());
  BOOST_TEST(!c.exclusive());
  BOOST_TEST(c.host_legacy_routing);
}

BOOST_AUTO_TEST_CASE(a_selecting_node_config_overrides_cilium_config) {
  const auto cm = migration_values();
  const CiliumNodeConfigs cncs{{"cilium-default", cilium_default()}};
  const auto spec = agent_spec();
  const auto c = effective_cilium_config(&cm, cncs, &selected_node, &spec);
  BOOST_TEST(!c.custom_cni_conf);
  BOOST_TEST(c.cni_config_file("99-cilium.conf") == "05-cilium.conflist");
  BOOST_TEST(c.exclusive());
  BOOST_TEST(c.host_legacy_routing);  // from cilium-config, not overridden
  // The same CiliumNodeConfig does not select another node.
  const auto o = effective_cilium_config(&cm, cncs, &other_node, &spec);
  BOOST_TEST(o.custom_cni_conf);
  BOOST_TEST(!o.exclusive());
}

BOOST_AUTO_TEST_CASE(a_later_node_config_wins_and_a_missing_selector_selects_nothing) {
  const auto cm = migration_values();
  auto later = cilium_default();
  later["metadata"].as_object()["name"] = "z-later";
  later["spec"].as_object()["defaults"] = json::object{{"cni-exclusive", "false"}};
  auto no_selector = cilium_default();
  no_selector["metadata"].as_object()["name"] = "b-no-selector";
  no_selector["spec"].as_object().erase("nodeSelector");
  no_selector["spec"].as_object()["defaults"] = json::object{{"custom-cni-conf", "true"}};
  const CiliumNodeConfigs cncs{
      {"cilium-default", cilium_default()}, {"z-later", later}, {"b-no-selector", no_selector}};
  const auto spec = agent_spec();
  const auto c = effective_cilium_config(&cm, cncs, &selected_node, &spec);
  BOOST_TEST(!c.exclusive());      // z-later after cilium-default
  BOOST_TEST(!c.custom_cni_conf);  // b-no-selector selects nothing
  auto everyone = no_selector;
  everyone["spec"].as_object()["nodeSelector"] = json::object{};
  BOOST_TEST(node_config_selects(everyone, &other_node));
  BOOST_TEST(!node_config_selects(no_selector, &other_node));
}

BOOST_AUTO_TEST_CASE(flags_override_the_config_map) {
  // resources/cilium.yaml's cilium-migrated: cilium-config names 99-cilium.conf,
  // the agent's flag 00-cilium.conf.
  const auto cm =
      config_map(json::object{{"custom-cni-conf", "false"},
                              {"write-cni-conf-when-ready", "/host/etc/cni/net.d/99-cilium.conf"},
                              {"cni-exclusive", "false"}});
  const auto spec =
      agent_spec(json::array{"--config-dir=/tmp/cilium/config-map",
                             "--write-cni-conf-when-ready=/host/etc/cni/net.d/00-cilium.conf"});
  BOOST_TEST(effective_cilium_config(&cm, {}, &other_node, &spec).cni_config_file("x") ==
             "00-cilium.conf");
  const auto plain = agent_spec();
  BOOST_TEST(effective_cilium_config(&cm, {}, &other_node, &plain).cni_config_file("x") ==
             "99-cilium.conf");
}

BOOST_AUTO_TEST_CASE(without_any_configuration_the_daemonsets_file_and_no_exclusivity) {
  const auto spec = agent_spec();
  const auto c = effective_cilium_config(nullptr, {}, &other_node, &spec);
  BOOST_TEST(!c.configured);
  BOOST_TEST(c.cni_config_file("00-cilium.conf") == "00-cilium.conf");
  BOOST_TEST(!c.exclusive());
  // cni-exclusive unset in a cilium-config: exclusive (Helm's default).
  const auto cm = config_map(json::object{});
  BOOST_TEST(effective_cilium_config(&cm, {}, &other_node, &spec).exclusive());
}

BOOST_AUTO_TEST_CASE(node_config_versions_follow_the_operator_release) {
  using V = std::vector<std::string>;
  BOOST_TEST(node_config_versions("quay.io/cilium/operator-generic:v1.15.7") == V{"v2alpha1"});
  BOOST_TEST(node_config_versions("quay.io/cilium/operator-generic:v1.16.0") ==
             (V{"v2", "v2alpha1"}));
  BOOST_TEST(node_config_versions("quay.io/cilium/operator-generic:v1.18.9@sha256:abc") ==
             (V{"v2", "v2alpha1"}));
  BOOST_TEST(node_config_versions("quay.io/cilium/operator-generic:v1.19.2") ==
             (V{"v2", "v2alpha1"}));
  BOOST_TEST(node_config_versions("quay.io/cilium/operator-generic:v1.20.0") == V{"v2"});
  BOOST_TEST(node_config_versions("registry:5000/operator-generic") == (V{"v2", "v2alpha1"}));
  const auto crd = node_config_crd({"v2", "v2alpha1"});
  const auto& versions = crd.at("spec").at("versions").as_array();
  BOOST_TEST_REQUIRE(versions.size() == 2u);
  BOOST_TEST(versions[0].at("storage").as_bool());
  BOOST_TEST(!versions[1].at("storage").as_bool());
  BOOST_TEST(crd.at("spec").at("scope").as_string() == "Namespaced");
}
