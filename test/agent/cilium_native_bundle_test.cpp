#include "cnimig/agent/cilium_native_bundle.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

#include "cnimig/agent/migration_inputs.hpp"

using namespace cnimig::agent;

namespace {

std::string bundle_yaml(const std::string& selector) {
  return R"(
apiVersion: v1
kind: ConfigMap
metadata: {name: cilium-config, namespace: kube-system}
data: {cluster-pool-ipv4-cidr: "10.99.0.0/16 10.98.0.0/16"}
---
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: cilium, namespace: kube-system}
---
apiVersion: cilium.io/v2
kind: CiliumNodeConfig
metadata: {name: cilium-default, namespace: kube-system}
spec:
  nodeSelector:
    matchLabels: {)" +
         selector + R"(}
  defaults: {custom-cni-conf: "false"}
)";
}

ManifestBundle parsed(const std::string& yaml) {
  return ManifestBundle::parse("cilium-native", yaml, "cilium-native.yaml", LabelRewrite::from({}))
      .value();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cilium_native_bundle)

// Cilium and its CiliumNodeConfig become two bundles: the second is applied
// only once the operator registered the CRD.
BOOST_AUTO_TEST_CASE(splits_the_node_config_off) {
  const cnimig::config::LabelKeys labels;
  auto split = split_cilium_native(
      parsed(bundle_yaml("io.cilium.migration/cilium-default: \"true\"")), labels, "f.yaml");
  BOOST_TEST_REQUIRE(split.has_value(), (split ? "" : split.error().message));
  BOOST_TEST_REQUIRE(split->size() == 2u);
  BOOST_TEST((*split)[0].id() == "cilium-native");
  BOOST_TEST((*split)[0].objects().size() == 2u);
  BOOST_TEST(cilium_node_config((*split)[0]) == nullptr);
  BOOST_TEST((*split)[1].id() == "cilium-node-config");
  const auto* cnc = cilium_node_config((*split)[1]);
  BOOST_TEST_REQUIRE(cnc != nullptr);
  BOOST_TEST(cnc->info.plural == "ciliumnodeconfigs");
  BOOST_TEST(cnc->info.version == "v2");
  BOOST_TEST(cilium_pool_cidr((*split)[0]) == "10.99.0.0/16");

  set_cilium_node_config_version((*split)[1], "cilium.io/v2alpha1");
  cnc = cilium_node_config((*split)[1]);
  BOOST_TEST(cnc->info.version == "v2alpha1");
  BOOST_TEST(cnc->body.at("apiVersion").as_string() == "cilium.io/v2alpha1");
}

// The selector must be the label the agent writes, with its value.
BOOST_AUTO_TEST_CASE(refuses_a_selector_the_agent_does_not_write) {
  cnimig::config::LabelKeys labels;
  labels.cilium_default = "example.com/cilium";
  auto other = split_cilium_native(
      parsed(bundle_yaml("io.cilium.migration/cilium-default: \"true\"")), labels, "f.yaml");
  BOOST_TEST_REQUIRE(other.has_error());
  BOOST_TEST(other.error().message ==
             "f.yaml: CiliumNodeConfig kube-system/cilium-default selects "
             "io.cilium.migration/cilium-default=true, but the agent labels the nodes it moves "
             "example.com/cilium=true (labels.cilium-default, labels.value)");
  labels = {};
  labels.value = "yes";
  BOOST_TEST(
      split_cilium_native(parsed(bundle_yaml("io.cilium.migration/cilium-default: \"true\"")),
                          labels, "f.yaml")
          .has_error());
  labels = {};
  BOOST_TEST(
      split_cilium_native(parsed(bundle_yaml("io.cilium.migration/cilium-default: \"true\", a: b")),
                          labels, "f.yaml")
          .has_error());
  auto none = split_cilium_native(
      ManifestBundle::parse("cilium-native",
                            "apiVersion: v1\nkind: Namespace\nmetadata: {name: n}\n", "f.yaml",
                            LabelRewrite::from({}))
          .value(),
      labels, "f.yaml");
  BOOST_TEST_REQUIRE(none.has_error());
  BOOST_TEST(none.error().message == "f.yaml: expected one CiliumNodeConfig, found 0");
}

// No watch shows a CiliumNodeConfig (its CRD may not be served yet): its
// bundle counts as applied only when the cache was told it exists; Cilium's
// by its workloads, as every other bundle.
BOOST_AUTO_TEST_CASE(applied_detection_and_settings) {
  auto split = split_cilium_native(
      parsed(bundle_yaml("io.cilium.migration/cilium-default: \"true\"")), {}, "f.yaml");
  BOOST_TEST_REQUIRE(split.has_value());
  std::map<std::string, ManifestBundle> bundles;
  for (auto& b : *split)
    bundles.emplace(b.id(), std::move(b));
  cnimig::migrate::ClusterSnapshot snap;
  detect_applied_bundles(snap, bundles);
  BOOST_TEST(snap.applied_bundles.empty());
  snap.workloads[{cnimig::migrate::kDaemonSet, "kube-system", "cilium"}].exists = true;
  detect_applied_bundles(snap, bundles);
  BOOST_TEST((snap.applied_bundles == std::set<std::string>{"cilium-native"}));
  detect_applied_bundles(snap, bundles, {"cilium-node-config"});
  BOOST_TEST(
      (snap.applied_bundles == std::set<std::string>{"cilium-native", "cilium-node-config"}));

  cnimig::config::Config config;
  config.strategy = cnimig::config::Strategy::cilium_native;
  const auto s = migration_settings(config, bundles);
  BOOST_TEST(s.native());
  BOOST_TEST(s.cilium_pod_cidr == "10.99.0.0/16");  // the bundle's pool, not the default
}

BOOST_AUTO_TEST_CASE(api_group_versions_in_order) {
  const auto list = boost::json::parse(R"({"kind": "APIGroupList", "groups": [
      {"name": "apps", "versions": [{"groupVersion": "apps/v1", "version": "v1"}]},
      {"name": "cilium.io",
       "versions": [{"groupVersion": "cilium.io/v2", "version": "v2"},
                    {"groupVersion": "cilium.io/v2alpha1", "version": "v2alpha1"}],
       "preferredVersion": {"groupVersion": "cilium.io/v2", "version": "v2"}}]})")
                        .as_object();
  BOOST_TEST((api_group_versions(list, "cilium.io").value() ==
              std::vector<std::string>{"v2", "v2alpha1"}));
  BOOST_TEST(!api_group_versions(list, "example.com").has_value());
  BOOST_TEST(!api_group_versions(boost::json::object{}, "cilium.io").has_value());
}

// The shipped bundle loads and splits with the default configuration.
BOOST_AUTO_TEST_CASE(shipped_bundle_loads) {
  auto bundle = ManifestBundle::load("cilium-native", CNIMIG_RESOURCES_DIR "/cilium-native.yaml",
                                     LabelRewrite::from({}));
  BOOST_TEST_REQUIRE(bundle.has_value(), (bundle ? "" : bundle.error().message));
  auto split = split_cilium_native(std::move(*bundle), {}, "cilium-native.yaml");
  BOOST_TEST_REQUIRE(split.has_value(), (split ? "" : split.error().message));
  BOOST_TEST(cilium_pool_cidr((*split)[0]) == "10.217.0.0/16");
  BOOST_TEST((*split)[0].find("Deployment", "kube-system", "cilium-operator") != nullptr);
}

BOOST_AUTO_TEST_SUITE_END()
