#include "cnimig/agent/manifest_bundle.hpp"

#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

using namespace cnimig::agent;

namespace {

const char* kBundle = R"(
apiVersion: apps/v1
kind: DaemonSet
metadata: {name: cilium-migrated, namespace: kube-system}
spec:
  template:
    spec:
      nodeSelector:
        node-role.kubernetes.io/cilium: "true"
        kubernetes.io/os: linux
      tolerations:
      - key: node-role.kubernetes.io/cilium
        operator: Equal
        value: "true"
        effect: NoExecute
      affinity:
        nodeAffinity:
          requiredDuringSchedulingIgnoredDuringExecution:
            nodeSelectorTerms:
            - matchExpressions:
              - {key: node-role.kubernetes.io/calico-cilium, operator: In, values: ["true"]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: cilium}
---
apiVersion: v1
kind: Namespace
metadata: {name: knet-stress}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: cilium, namespace: kube-system}
)";

}  // namespace

BOOST_AUTO_TEST_SUITE(manifest_bundle)

BOOST_AUTO_TEST_CASE(objects_are_sorted_for_apply) {
  auto b = ManifestBundle::parse("cilium", kBundle, "cilium.yaml", LabelRewrite::from({}));
  BOOST_TEST_REQUIRE(b.has_value(), (b ? "" : b.error().message));
  std::vector<std::string> kinds;
  for (const auto& o : b->objects())
    kinds.push_back(o.kind);
  BOOST_TEST(kinds ==
             (std::vector<std::string>{"Namespace", "ServiceAccount", "ClusterRole", "DaemonSet"}));
  const auto* ds = b->find("DaemonSet", "kube-system", "cilium-migrated");
  BOOST_TEST_REQUIRE(ds != nullptr);
  BOOST_TEST(ds->info.plural == "daemonsets");
  BOOST_TEST(ds->info.group == "apps");
  BOOST_TEST(ds->describe() == "DaemonSet kube-system/cilium-migrated");
  BOOST_TEST(b->find("ClusterRole", "", "cilium")->info.namespaced == false);
}

BOOST_AUTO_TEST_CASE(default_labels_are_kept_with_default_config) {
  auto b = ManifestBundle::parse("cilium", kBundle, "cilium.yaml", LabelRewrite::from({}));
  const auto text =
      boost::json::serialize(b->find("DaemonSet", "kube-system", "cilium-migrated")->body);
  BOOST_TEST(text.find(R"("node-role.kubernetes.io/cilium":"true")") != std::string::npos, text);
}

BOOST_AUTO_TEST_CASE(configured_label_keys_and_value_are_rewritten) {
  cnimig::config::LabelKeys keys;
  keys.cilium = "example.com/cilium-only";
  keys.calico_cilium = "example.com/both";
  keys.value = "yes";
  auto b = ManifestBundle::parse("cilium", kBundle, "cilium.yaml", LabelRewrite::from(keys));
  BOOST_TEST_REQUIRE(b.has_value());
  const auto& spec = b->find("DaemonSet", "kube-system", "cilium-migrated")
                         ->body.at("spec")
                         .at("template")
                         .at("spec");
  const auto& selector = spec.at("nodeSelector").as_object();
  BOOST_TEST(selector.at("example.com/cilium-only").as_string() == "yes");
  BOOST_TEST(selector.at("kubernetes.io/os").as_string() == "linux");  // untouched
  BOOST_TEST(!selector.contains("node-role.kubernetes.io/cilium"));
  const auto& toleration = spec.at("tolerations").at(0).as_object();
  BOOST_TEST(toleration.at("key").as_string() == "example.com/cilium-only");
  BOOST_TEST(toleration.at("value").as_string() == "yes");
  const auto& expr = spec.at("affinity")
                         .at("nodeAffinity")
                         .at("requiredDuringSchedulingIgnoredDuringExecution")
                         .at("nodeSelectorTerms")
                         .at(0)
                         .at("matchExpressions")
                         .at(0)
                         .as_object();
  BOOST_TEST(expr.at("key").as_string() == "example.com/both");
  BOOST_TEST(expr.at("values").at(0).as_string() == "yes");
}

BOOST_AUTO_TEST_CASE(invalid_bundles_are_rejected) {
  struct Case {
    const char* yaml;
    const char* expected;
  } cases[] = {
      {"apiVersion: v9\nkind: Gadget\nmetadata: {name: g}\n", "v9 Gadget g: kind not supported"},
      {"apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: d}\n",
       "namespaced object without metadata.namespace"},
      {"apiVersion: v1\nkind: Namespace\nmetadata: {name: n, namespace: x}\n",
       "cluster-scoped object with"},
      {"apiVersion: v1\nkind: Namespace\nmetadata: {name: n}\n---\napiVersion: v1\nkind: "
       "Namespace\nmetadata: {name: n}\n",
       "Namespace n is defined twice"},
      {"# nothing\n", "defines no objects"},
  };
  for (const auto& c : cases) {
    auto b = ManifestBundle::parse("x", c.yaml, "x.yaml", LabelRewrite::from({}));
    BOOST_TEST_REQUIRE(b.has_error(), c.yaml);
    BOOST_TEST(b.error().message.find(c.expected) != std::string::npos, b.error().message);
  }
  BOOST_TEST(ManifestBundle::load("x", "/nonexistent.yaml", LabelRewrite::from({})).has_error());
}

BOOST_AUTO_TEST_SUITE_END()
