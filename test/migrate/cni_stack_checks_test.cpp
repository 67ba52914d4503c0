// One test per preflight check of the CNI stack: the facts that break the
// migration are refused with a message naming the objects and values, and
// the facts of a healthy cluster pass.
#define BOOST_TEST_MODULE migrate_cni_stack_checks
#include "cnimig/migrate/cni_stack_checks.hpp"

#include <boost/test/unit_test.hpp>

using namespace cnimig::migrate;

namespace {

// A Canal cluster ready for the shipped Cilium.
CniStackFacts healthy() {
  CniStackFacts f;
  f.cilium_cidrs = {{"cilium-config cluster-pool-ipv4-cidr", "10.217.0.0/16"}};
  f.cilium_overlay = Overlay{"cilium-config tunnel-protocol", "geneve", 6081};
  f.source_cidrs = {
      {"flannel ConfigMap kube-system/canal-config net-conf.json Network", "10.244.0.0/16"},
      {"node n1 spec.podCIDR", "10.244.1.0/24"}};
  f.service_cidrs = {{"ServiceCIDR kubernetes", "10.96.0.0/12"}};
  f.source_overlays = {{"flannel net-conf.json Backend", "vxlan", 8472}};
  f.calico_autodetection = "kubernetes-internal-ip";
  f.calico_daemon_set = "DaemonSet kube-system/canal";
  f.server_minor = 32;
  f.server_version = "v1.32.4";
  f.kernels = {{"n1", "6.1.0-28-amd64"}, {"n2", "5.10.0-33-cloud-amd64"}};
  return f;
}

bool mentions(const std::vector<PreflightProblem>& ps, const std::string& text) {
  for (const auto& p : ps) {
    if (p.message.find(text) != std::string::npos)
      return true;
  }
  return false;
}

}  // namespace

BOOST_AUTO_TEST_CASE(a_healthy_cluster_passes_every_check) {
  const auto problems = check_cni_stack(healthy(), {});
  for (const auto& p : problems)
    BOOST_TEST_MESSAGE(p.check << ": " << p.message);
  BOOST_TEST(problems.empty());
}

BOOST_AUTO_TEST_CASE(overlapping_pod_cidrs_are_refused) {
  auto f = healthy();
  f.source_cidrs.push_back({"Calico IPPool default-ipv4-ippool spec.cidr", "10.217.8.0/21"});
  const auto ps = check_pod_cidrs(f);
  BOOST_TEST_REQUIRE(ps.size() == 1u);
  BOOST_TEST(ps[0].check == "pod-cidr");
  BOOST_TEST(ps[0].message.find("cilium-config cluster-pool-ipv4-cidr (10.217.0.0/16)") !=
             std::string::npos);
  BOOST_TEST(ps[0].message.find("Calico IPPool default-ipv4-ippool spec.cidr (10.217.8.0/21)") !=
             std::string::npos);
  // Identical ranges and a supernet overlap too.
  f = healthy();
  f.cilium_cidrs = {{"cilium", "10.0.0.0/8"}};
  BOOST_TEST(mentions(check_pod_cidrs(f), "node n1 spec.podCIDR (10.244.1.0/24)"));
  f.cilium_cidrs = {{"cilium", "10.244.0.0/16"}};
  BOOST_TEST(check_pod_cidrs(f).size() == 2u);  // flannel's Network and the node's podCIDR
}

BOOST_AUTO_TEST_CASE(cilium_cidr_in_the_service_range_is_refused) {
  auto f = healthy();
  f.cilium_cidrs = {{"cilium-config cluster-pool-ipv4-cidr", "10.100.0.0/16"}};
  const auto ps = check_pod_cidrs(f);
  BOOST_TEST_REQUIRE(ps.size() == 1u);
  BOOST_TEST(ps[0].message.find("service CIDR ServiceCIDR kubernetes (10.96.0.0/12)") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(an_unparsable_cidr_is_named) {
  auto f = healthy();
  f.source_cidrs.push_back({"node n3 spec.podCIDR", "10.244.300.0/24"});
  f.source_cidrs.push_back({"node n4 spec.podCIDR", "fd00::/64"});  // IPv6: not ours
  const auto ps = check_pod_cidrs(f);
  BOOST_TEST_REQUIRE(ps.size() == 1u);
  BOOST_TEST(ps[0].message == "node n3 spec.podCIDR: '10.244.300.0/24' is not an IPv4 CIDR");
}

BOOST_AUTO_TEST_CASE(two_overlays_on_one_udp_port_are_refused) {
  auto f = healthy();
  BOOST_TEST(check_tunnels(f).empty());
  f.cilium_overlay = Overlay{"cilium-config tunnel-protocol", "vxlan", 8472};
  const auto ps = check_tunnels(f);
  BOOST_TEST_REQUIRE(ps.size() == 1u);
  BOOST_TEST(ps[0].message.find("both use UDP port 8472") != std::string::npos);
  BOOST_TEST(ps[0].message.find("flannel net-conf.json Backend") != std::string::npos);
  // Cilium's guide: VXLAN on 8473 beside Flannel's 8472 is fine.
  f.cilium_overlay->port = 8473;
  BOOST_TEST(check_tunnels(f).empty());
  // IP-in-IP (Calico's default) uses no UDP port.
  f.source_overlays = {{"Calico IPPool default-ipv4-ippool spec.ipipMode", "ipip", 0}};
  f.cilium_overlay->port = 0;
  BOOST_TEST(check_tunnels(f).empty());
}

// Calico's VXLAN runs on Felix's vxlanPort: calico-node's FELIX_VXLANPORT,
// else FelixConfiguration default's, else 4789.
BOOST_AUTO_TEST_CASE(calico_vxlan_on_ciliums_port_is_refused) {
  auto f = healthy();
  f.source_overlays = {{"Calico IPPool default-ipv4-ippool spec.vxlanMode", "vxlan", 0, true}};
  BOOST_TEST(check_tunnels(f).empty());  // 4789 beside Geneve's 6081
  f.felix_vxlan_port_config = PortSetting{"FelixConfiguration default spec.vxlanPort", 6081};
  auto ps = check_tunnels(f);
  BOOST_TEST_REQUIRE(ps.size() == 1u);
  BOOST_TEST(ps[0].message.find("(Calico IPPool default-ipv4-ippool spec.vxlanMode on "
                                "FelixConfiguration default spec.vxlanPort) both use UDP port "
                                "6081") != std::string::npos,
             ps[0].message);
  // calico-node's env wins over the FelixConfiguration.
  f.felix_vxlan_port_env = PortSetting{"DaemonSet kube-system/calico-node FELIX_VXLANPORT", 4790};
  BOOST_TEST(check_tunnels(f).empty());
  f.cilium_overlay = Overlay{"cilium-config tunnel-protocol", "vxlan", 4790};
  ps = check_tunnels(f);
  BOOST_TEST_REQUIRE(ps.size() == 1u);
  BOOST_TEST(ps[0].message.find("DaemonSet kube-system/calico-node FELIX_VXLANPORT") !=
             std::string::npos);
}

BOOST_AUTO_TEST_CASE(cni_exclusive_with_multus_is_refused) {
  auto f = healthy();
  f.cilium_cni_exclusive = true;
  const auto ps = check_cni_exclusive(f);
  BOOST_TEST_REQUIRE(ps.size() == 1u);
  BOOST_TEST(ps[0].message.find("*.cilium_bak") != std::string::npos);
  BOOST_TEST(ps[0].message.find("cni-exclusive: \"false\"") != std::string::npos);
  f.multus = false;
  BOOST_TEST(check_cni_exclusive(f).empty());
}

BOOST_AUTO_TEST_CASE(calico_first_found_autodetection_is_refused_with_the_fix) {
  auto f = healthy();
  for (const std::string method : {"", "first-found"}) {
    f.calico_autodetection = method;
    const auto ps = check_calico_autodetection(f);
    BOOST_TEST_REQUIRE(ps.size() == 1u, method);
    BOOST_TEST(ps[0].message.find("cilium_host") != std::string::npos);
    BOOST_TEST(ps[0].message.find("IP_AUTODETECTION_METHOD=kubernetes-internal-ip on DaemonSet "
                                  "kube-system/canal") != std::string::npos);
  }
  f.calico_autodetection = "interface=eth0";
  BOOST_TEST(check_calico_autodetection(f).empty());
  f.calico_autodetection.reset();  // Flannel: no calico-node
  BOOST_TEST(check_calico_autodetection(f).empty());
}

BOOST_AUTO_TEST_CASE(kubernetes_older_than_ciliums_range_is_refused_newer_warned) {
  auto f = healthy();
  f.server_minor = 29;
  f.server_version = "v1.29.8";
  auto ps = check_kubernetes_version(f, {});
  BOOST_TEST_REQUIRE(ps.size() == 1u);
  BOOST_TEST(ps[0].fatal);
  BOOST_TEST(ps[0].message ==
             "the API server runs Kubernetes v1.29.8, older than Cilium 1.18.9 supports (1.30 to "
             "1.33): pin an older Cilium (images.cilium and paths.cilium) or upgrade the cluster "
             "first");
  f.server_minor = 35;
  f.server_version = "v1.35.0";
  ps = check_kubernetes_version(f, {});
  BOOST_TEST_REQUIRE(ps.size() == 1u);
  BOOST_TEST(!ps[0].fatal);
  BOOST_TEST(ps[0].message.find("newer than Cilium 1.18.9 is e2e tested on (1.30 to 1.33)") !=
             std::string::npos);
  for (unsigned minor : {30u, 33u}) {
    f.server_minor = minor;
    BOOST_TEST(check_kubernetes_version(f, {}).empty());
  }
  f.server_minor.reset();  // /version named none: nothing to judge
  BOOST_TEST(check_kubernetes_version(f, {}).empty());
}

BOOST_AUTO_TEST_CASE(old_kernels_are_refused_per_node) {
  auto f = healthy();
  f.kernels = {{"old", "5.4.0-150-generic"},
               {"rhel810", "4.18.0-553.el8_10.x86_64"},
               {"rhel86", "4.18.0-372.el8_6.x86_64"},
               {"odd", "unknown"},
               {"new", "6.8.0-1015-aws"}};
  const auto ps = check_kernel_versions(f, {});
  BOOST_TEST_REQUIRE(ps.size() == 3u);
  BOOST_TEST(ps[0].message ==
             "node old runs Linux '5.4.0-150-generic' "
             "(status.nodeInfo.kernelVersion); Cilium 1.18.9 needs 5.10 or newer");
  BOOST_TEST(ps[1].message.find("node rhel86") == 0u);
  BOOST_TEST(ps[2].message.find("node odd") == 0u);
}

BOOST_AUTO_TEST_CASE(kernel_release_reads_major_and_minor) {
  BOOST_TEST((kernel_release("5.15.0-91-generic") == std::pair{5u, 15u}));
  BOOST_TEST((kernel_release("6.1") == std::pair{6u, 1u}));
  BOOST_TEST(!kernel_release("6").has_value());
  BOOST_TEST(!kernel_release("v6.1").has_value());
}
