// The CNI stack's facts as the driver reads them from the shipped bundles
// and from the objects of Calico, Canal and Flannel clusters; the checks
// over them are tested in test/migrate/cni_stack_checks_test.cpp.
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "cnimig/agent/cni_stack_preflight.hpp"

using namespace cnimig;
using namespace cnimig::agent;

namespace {

boost::json::object json(const char* text) {
  return boost::json::parse(text).as_object();
}

std::map<std::string, ManifestBundle> shipped() {
  std::map<std::string, ManifestBundle> out;
  for (const char* id : {"cilium", "multus"}) {
    auto b = ManifestBundle::load(id, std::string(CNIMIG_RESOURCES_DIR) + "/" + id + ".yaml",
                                  LabelRewrite::from({}));
    BOOST_TEST_REQUIRE(b.has_value(), (b ? "" : b.error().message));
    out.emplace(id, std::move(*b));
  }
  return out;
}

}  // namespace

BOOST_AUTO_TEST_SUITE(cni_stack_facts)

BOOST_AUTO_TEST_CASE(the_shipped_cilium_is_fit_for_a_migration) {
  migrate::CniStackFacts f;
  add_bundle_facts(shipped(), f);
  BOOST_TEST(f.multus);
  BOOST_TEST(!f.cilium_cni_exclusive);
  BOOST_TEST_REQUIRE(f.cilium_cidrs.size() == 1u);
  BOOST_TEST(f.cilium_cidrs[0].cidr == "10.217.0.0/16");
  BOOST_TEST_REQUIRE(f.cilium_overlay.has_value());
  BOOST_TEST(f.cilium_overlay->protocol == "geneve");
  BOOST_TEST(f.cilium_overlay->port == 6081u);
  BOOST_TEST(migrate::check_cni_exclusive(f).empty());
}

BOOST_AUTO_TEST_CASE(an_exclusive_cilium_bundle_is_seen) {
  auto b = ManifestBundle::parse("cilium", R"(apiVersion: v1
kind: ConfigMap
metadata: {name: cilium-config, namespace: kube-system}
data: {cluster-pool-ipv4-cidr: "10.1.0.0/16 10.2.0.0/16", tunnel-protocol: vxlan}
)",
                                 "cilium.yaml", LabelRewrite::from({}));
  BOOST_TEST_REQUIRE(b.has_value());
  std::map<std::string, ManifestBundle> bundles;
  bundles.emplace("cilium", std::move(*b));
  migrate::CniStackFacts f;
  add_bundle_facts(bundles, f);
  BOOST_TEST(f.cilium_cni_exclusive);  // Cilium's default when unset
  BOOST_TEST(!f.multus);
  BOOST_TEST(f.cilium_cidrs.size() == 2u);
  BOOST_TEST(f.cilium_overlay->port == 8472u);  // VXLAN's default port
}

BOOST_AUTO_TEST_CASE(nodes_give_pod_cidrs_and_kernels) {
  migrate::CniStackFacts f;
  add_node_facts(json(R"({"metadata":{"name":"n1"},"spec":{"podCIDR":"10.244.1.0/24"},
      "status":{"nodeInfo":{"kernelVersion":"5.4.0-150-generic"}}})"),
                 f);
  add_node_facts(json(R"({"metadata":{"name":"n2"},"spec":{}})"), f);
  BOOST_TEST_REQUIRE(f.source_cidrs.size() == 1u);
  BOOST_TEST(f.source_cidrs[0].owner == "node n1 spec.podCIDR");
  BOOST_TEST_REQUIRE(f.kernels.size() == 1u);
  BOOST_TEST(f.kernels[0].kernel_version == "5.4.0-150-generic");
}

BOOST_AUTO_TEST_CASE(calico_node_autodetection_is_read_from_the_daemon_set) {
  const char* ds = R"({"metadata":{"name":"calico-node","namespace":"kube-system"},
      "spec":{"template":{"spec":{"containers":[{"name":"calico-node","env":[
        {"name":"CALICO_IPV4POOL_CIDR","value":"192.168.0.0/16"}%s]}]}}}})";
  migrate::CniStackFacts unset;
  add_source_daemon_set_facts(
      json(std::string(ds).replace(std::string(ds).find("%s"), 2, "").c_str()), unset);
  BOOST_TEST((unset.calico_autodetection == std::optional<std::string>("")));
  BOOST_TEST(unset.calico_daemon_set == "DaemonSet kube-system/calico-node");
  BOOST_TEST_REQUIRE(unset.source_cidrs.size() == 1u);
  BOOST_TEST(unset.source_cidrs[0].cidr == "192.168.0.0/16");
  BOOST_TEST(migrate::check_calico_autodetection(unset).size() == 1u);

  migrate::CniStackFacts pinned;
  std::string text(ds);
  text.replace(text.find("%s"), 2,
               R"(,{"name":"IP_AUTODETECTION_METHOD","value":"kubernetes-internal-ip"})");
  add_source_daemon_set_facts(json(text.c_str()), pinned);
  BOOST_TEST((pinned.calico_autodetection == std::optional<std::string>("kubernetes-internal-ip")));
  BOOST_TEST(migrate::check_calico_autodetection(pinned).empty());

  migrate::CniStackFacts canal;  // Calico for policy only: flannel routes
  std::string canal_text(ds);
  canal_text.replace(canal_text.find("%s"), 2,
                     R"(,{"name":"CALICO_NETWORKING_BACKEND","value":"none"})");
  add_source_daemon_set_facts(json(canal_text.c_str()), canal);
  BOOST_TEST(!canal.calico_autodetection.has_value());

  migrate::CniStackFacts flannel;  // no calico-node container
  add_source_daemon_set_facts(json(R"({"metadata":{"name":"kube-flannel-ds"},"spec":{"template":
      {"spec":{"containers":[{"name":"kube-flannel"}]}}}})"),
                              flannel);
  BOOST_TEST(!flannel.calico_autodetection.has_value());
}

BOOST_AUTO_TEST_CASE(ip_pools_net_conf_and_service_cidrs) {
  migrate::CniStackFacts f;
  add_ip_pool_facts(json(R"({"metadata":{"name":"default-ipv4-ippool"},
      "spec":{"cidr":"192.168.0.0/16","vxlanMode":"Always","ipipMode":"Never"}})"),
                    f);
  add_flannel_net_conf_facts("ConfigMap kube-flannel/kube-flannel-cfg",
                             R"({"Network":"10.244.0.0/16","Backend":{"Type":"vxlan"}})", f);
  add_flannel_net_conf_facts("ConfigMap x/y", R"({"Network":"10.9.0.0/16",
      "Backend":{"Type":"vxlan","Port":8473}})",
                             f);
  add_service_cidr_facts(
      json(R"({"metadata":{"name":"kubernetes"},"spec":{"cidrs":["10.96.0.0/12"]}})"), f);
  BOOST_TEST(f.source_cidrs.size() == 3u);
  BOOST_TEST_REQUIRE(f.source_overlays.size() == 3u);
  BOOST_TEST(f.source_overlays[0].calico_vxlan);  // on Felix's vxlanPort, by default 4789
  BOOST_TEST(migrate::calico_vxlan_port(f).port == 4789u);
  BOOST_TEST(f.source_overlays[1].port == 8472u);  // flannel's default
  BOOST_TEST(f.source_overlays[2].port == 8473u);
  BOOST_TEST_REQUIRE(f.service_cidrs.size() == 1u);
  BOOST_TEST(f.service_cidrs[0].owner == "ServiceCIDR kubernetes");
  // A Cilium on flannel's explicit port clashes.
  f.cilium_overlay = migrate::Overlay{"cilium", "vxlan", 8473};
  BOOST_TEST(migrate::check_tunnels(f).size() == 1u);
}

// Calico's overlay from calico-node's env (the default pool's mode, Felix's
// vxlanPort) and FelixConfiguration default, env first as Felix reads them.
BOOST_AUTO_TEST_CASE(calico_vxlan_and_its_port_are_read) {
  const auto calico = [](const char* env) {
    std::string text = R"({"metadata":{"name":"calico-node","namespace":"kube-system"},
        "spec":{"template":{"spec":{"containers":[{"name":"calico-node","env":[)";
    return json((text + env + "]}]}}}}").c_str());
  };
  migrate::CniStackFacts f;
  add_source_daemon_set_facts(calico(R"({"name":"CALICO_IPV4POOL_IPIP","value":"Never"},
      {"name":"CALICO_IPV4POOL_VXLAN","value":"Always"},{"name":"FELIX_VXLANPORT","value":"6081"})"),
                              f);
  BOOST_TEST_REQUIRE(f.source_overlays.size() == 1u);
  BOOST_TEST(f.source_overlays[0].owner ==
             "DaemonSet kube-system/calico-node CALICO_IPV4POOL_VXLAN=Always");
  BOOST_TEST(f.source_overlays[0].calico_vxlan);
  add_felix_configuration_facts(
      json(R"({"metadata":{"name":"default"},"spec":{"vxlanPort":4790}})"), f);
  add_felix_configuration_facts(
      json(R"({"metadata":{"name":"node.node-1"},"spec":{"vxlanPort":4791}})"), f);
  // The env wins; without it, FelixConfiguration default's port.
  BOOST_TEST(migrate::calico_vxlan_port(f).port == 6081u);
  BOOST_TEST(migrate::calico_vxlan_port(f).owner ==
             "DaemonSet kube-system/calico-node FELIX_VXLANPORT");
  f.felix_vxlan_port_env.reset();
  BOOST_TEST(migrate::calico_vxlan_port(f).port == 4790u);
  BOOST_TEST(migrate::calico_vxlan_port(f).owner == "FelixConfiguration default spec.vxlanPort");

  migrate::CniStackFacts ipip;  // calico.yaml's default: IP-in-IP, no UDP port
  add_source_daemon_set_facts(calico(R"({"name":"CALICO_IPV4POOL_IPIP","value":"Always"},
      {"name":"CALICO_IPV4POOL_VXLAN","value":"Never"})"),
                              ipip);
  BOOST_TEST_REQUIRE(ipip.source_overlays.size() == 1u);
  BOOST_TEST(ipip.source_overlays[0].protocol == "ipip");
  BOOST_TEST(!ipip.source_overlays[0].calico_vxlan);

  migrate::CniStackFacts canal;  // Canal's calico-node routes nothing
  add_source_daemon_set_facts(calico(R"({"name":"CALICO_NETWORKING_BACKEND","value":"none"},
      {"name":"CALICO_IPV4POOL_VXLAN","value":"Always"})"),
                              canal);
  BOOST_TEST(canal.source_overlays.empty());
}

// The requirements follow the Cilium image the bundle runs, after `images:`.
BOOST_AUTO_TEST_CASE(the_applied_cilium_image_is_the_agents_container) {
  config::Config config;
  BOOST_TEST(applied_cilium_image(shipped(), config) == config::Images{}.cilium);
  auto rewrite = LabelRewrite::from({});
  config::Images images;
  images.cilium = "mirror.example/cilium/cilium:v1.19.1";
  rewrite.images = ImageRewrite::from(images);
  std::map<std::string, ManifestBundle> bundles;
  auto b =
      ManifestBundle::load("cilium", std::string(CNIMIG_RESOURCES_DIR) + "/cilium.yaml", rewrite);
  BOOST_TEST_REQUIRE(b.has_value());
  bundles.emplace("cilium", std::move(*b));
  BOOST_TEST(applied_cilium_image(bundles, config) == "mirror.example/cilium/cilium:v1.19.1");
  // No Cilium DaemonSet in the bundle: the configured image.
  config.images.cilium = "mirror.example/cilium/cilium:v1.18.2";
  BOOST_TEST(applied_cilium_image({}, config) == "mirror.example/cilium/cilium:v1.18.2");
}

BOOST_AUTO_TEST_SUITE_END()
