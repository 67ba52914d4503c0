#define BOOST_TEST_MODULE sim network oracle
// The network model must tell a correct migration from a wrong one. The test
// plays the migrator's steps (src/migrate/README.md) by editing labels and
// DaemonSets in the store directly: in the right order no pair of Ready pods on
// uncordoned nodes ever loses connectivity; skipping the roll step does.
#include <boost/test/unit_test.hpp>

#include "knet_stress_gate.hpp"
#include "sim_cluster_harness.hpp"

using namespace cnimig::sim;
using cnimig::sim::test::Harness;
namespace json = boost::json;

namespace {

const std::string& L = cnimig::sim::test::kRolePrefix;
const std::vector<std::string>& node_names = cnimig::sim::test::kFourNodes;
using cnimig::sim::test::agent_ds;
using cnimig::sim::test::install_knet_stress;

struct Migration {
  Harness h;

  Migration() {
    h.model.bootstrap(4, 3);
    BOOST_REQUIRE(h.settle());
    // knet-stress stays through step 4.
    BOOST_REQUIRE(install_knet_stress(h));
    BOOST_REQUIRE(h.settle());
  }

  // Gate: everything settled, every knet-stress instance reaches all its peers.
  void gate(const std::string& where) {
    cnimig::sim::test::knet_stress_gate(h, where, 2 * node_names.size());
  }

  void delete_non_host_pods(const std::string& node, bool daemonsets_too) {
    for (const auto& p : h.store.pods_on_node(node)) {
      const auto& spec = p->at("spec").as_object();
      if (spec.contains("hostNetwork") && spec.at("hostNetwork").as_bool())
        continue;
      const auto* refs = p->at("metadata").as_object().if_contains("ownerReferences");
      const bool ds =
          refs && refs->as_array().size() && refs->as_array()[0].at("kind") == "DaemonSet";
      if (ds && !daemonsets_too)
        continue;
      h.delete_pod(*p);
    }
  }

  void prepare() {
    for (const auto& n : node_names) {
      h.label_node(n, L + "calico-cilium", "true");
      h.label_node(n, L + "priority-calico", "true");
    }
    h.edit(h.daemonsets, "kube-system", "canal", [](json::object& ds) {
      ds["spec"].as_object()["template"].as_object()["spec"].as_object()["nodeSelector"] =
          json::object{{L + "calico-cilium", "true"}};
    });
    for (auto [name, label] :
         {std::pair{"cilium", "calico-cilium"}, std::pair{"cilium-migrated", "cilium"},
          std::pair{"kube-multus-calico", "priority-calico"},
          std::pair{"kube-multus-cilium", "priority-cilium"}})
      BOOST_REQUIRE(h.store.create(h.daemonsets, agent_ds("kube-system", name, label)).has_value());
    gate("prepare");
  }

  void roll(const std::string& node) {
    h.cordon(node, true);
    BOOST_REQUIRE(h.settle());
    delete_non_host_pods(node, true);  // evict workloads, re-create DaemonSet pods
    BOOST_REQUIRE(h.settle());
    h.cordon(node, false);
    h.label_node(node, L + "rolled", "true");
    gate("roll " + node);
  }

  void priority(const std::string& node) {
    h.label_node(node, L + "priority-calico", nullptr);
    h.label_node(node, L + "priority-cilium", "true");
    BOOST_REQUIRE(h.settle());
    roll(node);
  }

  void migrate(const std::string& node) {
    h.cordon(node, true);
    delete_non_host_pods(node, false);  // drain
    BOOST_REQUIRE(h.settle());
    h.taint(node, L + "cilium", "NoExecute");
    h.label_node(node, L + "calico-cilium", nullptr);  // canal and the first cilium leave
    h.label_node(node, L + "cilium", "true");          // cilium-migrated arrives
    BOOST_REQUIRE(h.settle());
    BOOST_TEST(h.model.network().config_files(node).front() == "00-cilium.conf");
    delete_non_host_pods(node, true);
    gate("migrate (tainted) " + node);
    h.taint(node, L + "cilium", nullptr);
    h.cordon(node, false);
    h.label_node(node, L + "priority-cilium", nullptr);
    h.label_node(node, L + "migrated", "true");
    gate("migrate " + node);
  }

  void cleanup() {
    h.edit(h.daemonsets, "kube-system", "cilium-migrated", [](json::object& ds) {
      ds["spec"].as_object()["template"].as_object()["spec"].as_object().erase("nodeSelector");
    });
    for (const char* n : {"kube-multus-calico", "kube-multus-cilium", "canal", "cilium"})
      BOOST_REQUIRE(h.store.remove(h.daemonsets, "kube-system", n).has_value());
    for (const auto& n : node_names)
      for (const char* l : {"cilium", "rolled", "migrated"})
        h.label_node(n, L + l, nullptr);
    gate("cleanup");
  }

  std::uint64_t max_violations() const { return h.model.network().tracker().max_violations(); }
};

}  // namespace

BOOST_AUTO_TEST_CASE(correct_order_never_cuts_connectivity) {
  Migration m;
  m.gate("preflight");
  m.prepare();
  for (const auto& n : node_names)
    m.roll(n);
  for (const auto& n : node_names)
    m.priority(n);
  for (const auto& n : node_names)
    m.migrate(n);
  m.cleanup();
  BOOST_TEST(m.max_violations() == 0u);
  BOOST_TEST(m.h.model.network().tracker().max_cordoned_at_once() == 1u);
  // Every node is on Cilium alone, every pod's IP is a Cilium IP.
  for (const auto& n : node_names)
    BOOST_TEST(m.h.model.network().config_files(n) == std::vector<std::string>{"00-cilium.conf"});
  for (const auto& p : m.h.store.list(m.h.pods, "")) {
    const auto& spec = p->at("spec").as_object();
    if (spec.contains("hostNetwork") && spec.at("hostNetwork").as_bool())
      continue;
    BOOST_TEST(p->at("metadata").at("annotations").at("sim.cnimig.io/interfaces").as_string() ==
               "cilium");
  }
  const auto report = m.h.model.report();
  BOOST_TEST(report.at("violations").at("max_concurrent").to_number<int>() == 0);
  BOOST_TEST(report.at("violations").at("first").is_null());
}

BOOST_AUTO_TEST_CASE(skipping_the_roll_is_caught) {
  Migration m;
  m.prepare();
  BOOST_TEST(m.max_violations() == 0u);
  // Straight to migrate: node-0 drops canal while every other pod has only a
  // canal interface. Once node-0 is back in service its new pods (Cilium IPs)
  // are unreachable from the rest.
  const std::string node = "node-0";
  m.h.cordon(node, true);
  m.delete_non_host_pods(node, false);
  BOOST_REQUIRE(m.h.settle());
  m.h.taint(node, L + "cilium", "NoExecute");
  m.h.label_node(node, L + "calico-cilium", nullptr);
  m.h.label_node(node, L + "cilium", "true");
  BOOST_REQUIRE(m.h.settle());
  m.delete_non_host_pods(node, true);
  BOOST_REQUIRE(m.h.settle());
  m.h.taint(node, L + "cilium", nullptr);
  m.h.cordon(node, false);
  BOOST_REQUIRE(m.h.settle());
  BOOST_TEST(m.max_violations() > 0u);
  BOOST_TEST(m.h.model.network().tracker().violations() > 0u);
  int failing = 0;
  for (const auto& p : m.h.pods_of("knet-stress"))
    if (m.h.model.exec(*p, {"/knet-stress", "status"}).exit_code != 0)
      ++failing;
  BOOST_TEST(failing == 8);  // nobody reaches across the split
  const auto report = m.h.model.report();
  BOOST_TEST(!report.at("violations").at("first").is_null());
}

BOOST_AUTO_TEST_CASE(dropping_the_source_cni_daemonset_early_is_caught) {
  Migration m;
  m.prepare();
  for (const auto& n : node_names)
    m.roll(n);
  // Every pod has both interfaces but still takes its IP from canal: deleting
  // the source CNI now (step 5 before steps 3-4) cuts everything.
  BOOST_REQUIRE(m.h.store.remove(m.h.daemonsets, "kube-system", "canal").has_value());
  BOOST_REQUIRE(m.h.settle());
  BOOST_TEST(m.max_violations() > 0u);
}
