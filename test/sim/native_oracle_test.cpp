#define BOOST_TEST_MODULE sim network oracle cilium - native
// The oracle must tell a correct live migration without multus (Cilium's
// "Migrating a cluster to Cilium", src/migrate/README.md's cilium-native
// strategy) from a wrong one. The test plays the migrator's steps on the
// cluster model directly, as oracle_test.cpp does for the multus strategy:
// per node cordon, drain, label, re-create the node's Cilium agent, re-create
// its pods, uncordon; then the finish. In that order no pair of Ready pods on
// uncordoned nodes ever loses connectivity; each skipped or reordered step
// below does.
#include <boost/test/unit_test.hpp>

#include "cilium_native_harness.hpp"
#include "knet_stress_gate.hpp"

using namespace cnimig::sim;
using namespace cnimig::sim::test;
namespace json = boost::json;

namespace {

const ResourceType& config_maps() {
  return resource_type("", "configmaps");
}

struct NativeMigration : NativeCluster {
  explicit NativeMigration(bool host_routing = true) : NativeCluster(host_routing) {}

  // Gate: everything settled, every knet-stress instance reaches all its peers.
  void gate(const std::string& where) { knet_stress_gate(h, where, 2 * kFourNodes.size()); }

  // Cordon, drain, label, the agent re-created: the node's Cilium writes its config.
  void switch_node(const std::string& node, bool restart_agent_too = true) {
    h.cordon(node, true);
    drain(node);
    h.label_node(node, kCiliumDefaultLabel, "true");
    BOOST_REQUIRE(h.settle());
    if (restart_agent_too)
      restart_agent(node);
  }
  void uncordon(const std::string& node) {
    h.cordon(node, false);
    h.label_node(node, "cnimig.io/migrated", "true");
    BOOST_REQUIRE(h.settle());
  }
  // The whole per-node step.
  void migrate(const std::string& node) {
    switch_node(node);
    recreate_pods(node);
    for (const auto& ip : pod_ips(node))
      BOOST_TEST(in_cilium_pool(ip), node << ": " << ip);
    gate("migrate (cordoned) " + node);
    uncordon(node);
    gate("migrate " + node);
  }

  void delete_source_cni() {
    BOOST_REQUIRE(h.store.remove(h.daemonsets, "kube-system", "canal").has_value());
    BOOST_REQUIRE(h.settle());
  }
  // cilium-config back to Cilium's defaults, every agent re-created one at a
  // time (the rollout), the CiliumNodeConfig and the source CNI deleted.
  void finish() {
    h.edit(config_maps(), "kube-system", "cilium-config", restore_cilium_defaults);
    for (const auto& n : kFourNodes)
      restart_agent(n);
    BOOST_REQUIRE(h.store.remove(node_configs(), "kube-system", "cilium-default").has_value());
    delete_source_cni();
    for (const auto& n : kFourNodes) {
      h.label_node(n, kCiliumDefaultLabel, nullptr);
      h.label_node(n, "cnimig.io/migrated", nullptr);
    }
  }
};

}  // namespace

BOOST_AUTO_TEST_CASE(the_correct_sequence_never_cuts_connectivity) {
  NativeMigration m;
  m.gate("prepare");
  for (const auto& n : kFourNodes)
    m.migrate(n);
  m.finish();
  m.gate("finish");
  BOOST_TEST(m.max_violations() == 0u);
  BOOST_TEST(m.network().tracker().max_cordoned_at_once() == 1u);
  // Every node on Cilium alone, its agent writing 05-cilium.conflist; every
  // pod on a Cilium IP.
  for (const auto& n : kFourNodes) {
    BOOST_TEST(m.network().config_files(n) == std::vector<std::string>{"05-cilium.conflist"});
    for (const auto& ip : m.pod_ips(n))
      BOOST_TEST(in_cilium_pool(ip), n << ": " << ip);
  }
  BOOST_TEST(m.report("nodes_cilium_cni_config") == 4);
  const auto report = m.h.model.report();
  BOOST_TEST(report.at("violations").at("first").is_null());
}

BOOST_AUTO_TEST_CASE(uncordoning_before_the_pods_are_recreated_is_caught_at_the_finish) {
  NativeMigration m;
  // node-0: its agent switched, but uncordoned before its pods were
  // re-created: its knet-stress pods keep their source IPs.
  m.switch_node("node-0");
  m.uncordon("node-0");
  for (const auto& n : {"node-1", "node-2", "node-3"})
    m.migrate(n);
  BOOST_TEST(m.max_violations() == 0u);  // the source still carries them
  m.finish();
  BOOST_TEST(m.violations() > 0u);
  BOOST_TEST(m.max_violations() > 0u);
}

BOOST_AUTO_TEST_CASE(deleting_the_source_cni_while_a_node_depends_on_it_is_caught) {
  NativeMigration m;
  for (const auto& n : {"node-0", "node-1", "node-2"})
    m.migrate(n);
  BOOST_TEST(m.max_violations() == 0u);
  // node-3's pods are all on source IPs.
  m.delete_source_cni();
  BOOST_TEST(m.violations() > 0u);
  std::size_t failing = 0;
  for (const auto& p : m.h.pods_of("knet-stress"))
    if (m.h.model.exec(*p, {"/knet-stress", "status"}).exit_code != 0)
      ++failing;
  BOOST_TEST(failing > 0u);
}

BOOST_AUTO_TEST_CASE(without_host_legacy_routing_the_two_halves_are_cut) {
  NativeMigration m(false);
  BOOST_TEST(m.report("nodes_host_legacy_routing") == 0);
  m.switch_node("node-0");
  m.recreate_pods("node-0");
  BOOST_TEST(m.max_violations() == 0u);  // node-0 is cordoned: not counted yet
  m.uncordon("node-0");
  // node-0's pods (Cilium only) and the other nodes' pods (the source only)
  // have no interface on each other's network.
  BOOST_TEST(m.violations() > 0u);
  BOOST_TEST(!m.network().pod_reaches(m.knet_pod("node-0"), m.knet_pod("node-1")));
}

BOOST_AUTO_TEST_CASE(a_label_without_recreating_the_agent_changes_nothing) {
  NativeMigration m;
  m.switch_node("node-0", false);
  m.recreate_pods("node-0");
  // The agent kept custom-cni-conf: the pods came back on the source.
  BOOST_TEST(m.network().config_files("node-0") == std::vector<std::string>{"10-canal.conflist"});
  const auto ips = m.pod_ips("node-0");
  BOOST_TEST_REQUIRE(!ips.empty());
  for (const auto& ip : ips)
    BOOST_TEST(!in_cilium_pool(ip), ip);
  m.uncordon("node-0");
  BOOST_TEST(m.max_violations() == 0u);
}
