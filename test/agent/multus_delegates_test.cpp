// multus delegates the source network to the conflist the configured source
// CNI installs (resources/multus.yaml's source-<file> keys): Canal's, Calico's
// or flannel's, primary in calico-primary.conflist and attached (with sbr) in
// cilium-primary.conflist; a source without a conflist in the bundle is
// refused before anything is applied.
#include "cnimig/agent/multus_delegates.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

using namespace cnimig;
using namespace cnimig::agent;

namespace {

ManifestBundle shipped_multus() {
  auto b = ManifestBundle::load("multus", std::string(CNIMIG_RESOURCES_DIR) + "/multus.yaml",
                                LabelRewrite::from({}));
  BOOST_TEST_REQUIRE(b.has_value(), (b ? "" : b.error().message));
  return std::move(*b);
}

boost::json::value data_json(const ManifestBundle& b, const char* key) {
  const auto* cm = b.find("ConfigMap", "kube-system", kMultusConfigMap);
  BOOST_TEST_REQUIRE(cm != nullptr);
  return boost::json::parse(cm->body.at("data").at(key).as_string());
}

const boost::json::array& delegates(const boost::json::value& multus_conflist) {
  return multus_conflist.at("plugins").at(0).at("delegates").as_array();
}

std::vector<std::string> plugin_types(const boost::json::value& conflist) {
  std::vector<std::string> out;
  for (const auto& p : conflist.at("plugins").as_array())
    out.emplace_back(p.at("type").as_string());
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(multus_delegates)

BOOST_AUTO_TEST_CASE(each_source_cni_gets_its_own_delegate) {
  struct Case {
    const char* cni_config;
    const char* name;
    std::vector<std::string> types;
  };
  for (const auto& c :
       {Case{"10-canal.conflist", "k8s-pod-network", {"calico", "portmap"}},
        Case{"10-calico.conflist", "k8s-pod-network", {"calico", "portmap", "bandwidth"}},
        Case{"10-flannel.conflist", "cbr0", {"flannel", "portmap"}}}) {
    auto b = shipped_multus();
    const auto chosen = select_multus_delegate(b, c.cni_config, "multus.yaml");
    BOOST_TEST_REQUIRE(chosen.has_value(), (chosen ? "" : chosen.error().message));
    const auto variant = data_json(b, (std::string("source-") + c.cni_config).c_str());
    // Source first, Cilium attached.
    const auto calico_primary = data_json(b, "calico-primary.conflist");
    BOOST_TEST_REQUIRE(delegates(calico_primary).size() == 2u);
    BOOST_TEST(delegates(calico_primary)[0] == variant, c.cni_config);
    BOOST_TEST(plugin_types(delegates(calico_primary)[1]).front() == "cilium-cni");
    // Cilium first, the source attached with sbr under its own name.
    const auto cilium_primary = data_json(b, "cilium-primary.conflist");
    BOOST_TEST_REQUIRE(delegates(cilium_primary).size() == 2u);
    BOOST_TEST(plugin_types(delegates(cilium_primary)[0]).front() == "cilium-cni");
    const auto& attached = delegates(cilium_primary)[1];
    BOOST_TEST(attached.at("name").as_string() == std::string(c.name) + "-sbr");
    auto types = c.types;
    types.push_back("sbr");
    BOOST_TEST(plugin_types(attached) == types, c.cni_config);
    BOOST_TEST(data_json(b, "source-sbr.conflist") == attached);
  }
}

// flannel attached beside Cilium must leave the default route to Cilium.
BOOST_AUTO_TEST_CASE(an_attached_flannel_does_not_take_the_default_route) {
  auto b = shipped_multus();
  BOOST_TEST_REQUIRE(select_multus_delegate(b, "10-flannel.conflist", "multus.yaml").has_value());
  const auto primary = delegates(data_json(b, "calico-primary.conflist"))[0];
  BOOST_TEST(primary.at("plugins").at(0).at("delegate").at("isDefaultGateway").as_bool());
  const auto attached = delegates(data_json(b, "cilium-primary.conflist"))[1];
  BOOST_TEST(!attached.at("plugins").at(0).at("delegate").at("isDefaultGateway").as_bool());
}

BOOST_AUTO_TEST_CASE(a_source_without_a_conflist_is_refused_by_name) {
  auto b = shipped_multus();
  const auto before = data_json(b, "calico-primary.conflist");
  const auto r = select_multus_delegate(b, "10-weave.conflist", "/x/multus.yaml");
  BOOST_TEST_REQUIRE(!r.has_value());
  const auto& m = r.error().message;
  BOOST_TEST(m.find("/x/multus.yaml: ConfigMap kube-system/multus-daemon-config has no "
                    "source-10-weave.conflist (sourceCNI.cniConfig is 10-weave.conflist; it has "
                    "source-10-calico.conflist, source-10-canal.conflist, "
                    "source-10-flannel.conflist)") != std::string::npos,
             m);
  BOOST_TEST(data_json(b, "calico-primary.conflist") == before);  // nothing changed
}

// load_bundles chooses the delegate for the configured source CNI.
BOOST_AUTO_TEST_CASE(load_bundles_applies_the_configured_source) {
  config::Config config;
  const std::string resources = CNIMIG_RESOURCES_DIR;
  config.paths.cilium = resources + "/cilium.yaml";
  config.paths.multus = resources + "/multus.yaml";
  config.paths.knet_stress = resources + "/knet-stress.yaml";
  config.source_cni.cni_config = "10-flannel.conflist";
  auto bundles = load_bundles(config);
  BOOST_TEST_REQUIRE(bundles.has_value(), (bundles ? "" : bundles.error().message));
  const auto primary = delegates(data_json(bundles->at("multus"), "calico-primary.conflist"));
  BOOST_TEST(plugin_types(primary[0]).front() == "flannel");
  config.source_cni.cni_config = "10-other.conflist";
  BOOST_TEST(!load_bundles(config).has_value());
}

BOOST_AUTO_TEST_SUITE_END()
