#define BOOST_TEST_MODULE sim cluster model
#include <set>

#include <boost/test/unit_test.hpp>

#include "sim_cluster_harness.hpp"

using namespace cnimig::sim;
using cnimig::sim::test::Harness;
namespace json = boost::json;

namespace {
std::int64_t status_int(const json::object& o, const char* field) {
  const auto* st = o.if_contains("status");
  if (!st)
    return -1;
  const auto* v = st->as_object().if_contains(field);
  return v ? v->to_number<std::int64_t>() : 0;
}
}  // namespace

BOOST_AUTO_TEST_CASE(bootstrap_converges_all_ready_no_violations) {
  Harness h;
  h.model.bootstrap(3, 2);
  BOOST_TEST_REQUIRE(h.settle());
  const auto canal = h.get(h.daemonsets, "kube-system", "canal");
  BOOST_TEST(status_int(canal, "desiredNumberScheduled") == 3);
  BOOST_TEST(status_int(canal, "numberReady") == 3);
  BOOST_TEST(status_int(canal, "updatedNumberScheduled") == 3);
  BOOST_TEST(status_int(canal, "observedGeneration") == 1);
  const auto dns = h.get(h.deployments, "kube-system", "coredns");
  BOOST_TEST(status_int(dns, "availableReplicas") == 2);
  BOOST_TEST(status_int(dns, "updatedReplicas") == 2);
  const auto db = h.get(h.statefulsets, "apps", "db");
  BOOST_TEST(status_int(db, "readyReplicas") == 1);
  BOOST_TEST(!h.get(h.pods, "apps", "db-0").empty());
  // Every pod runs and is Ready; application pods got canal (source) IPs.
  for (const auto& p : h.store.list(h.pods, "")) {
    BOOST_TEST(Harness::ready(*p), p->at("metadata").at("name"));
    BOOST_TEST(!Harness::node_of(*p).empty());
  }
  BOOST_TEST(h.store.count(h.pods) == 3u * 2u /*ds*/ + 2u /*dns*/ + 6u /*apps*/);
  BOOST_TEST(h.model.network().tracker().violations() == 0u);
  BOOST_TEST(h.model.network().tracker().counted_pods() == 8u);
  const auto pdb = h.get(h.pdbs, "kube-system", "coredns");
  BOOST_TEST(status_int(pdb, "expectedPods") == 2);
  BOOST_TEST(status_int(pdb, "currentHealthy") == 2);
  BOOST_TEST(status_int(pdb, "disruptionsAllowed") == 1);
  const auto report = h.model.report();
  BOOST_TEST(report.at("nodes").to_number<int>() == 3);
  BOOST_TEST(report.at("violations").at("current").to_number<int>() == 0);
}

BOOST_AUTO_TEST_CASE(deleted_daemonset_pod_is_recreated) {
  Harness h;
  h.model.bootstrap(2, 0);
  BOOST_TEST_REQUIRE(h.settle());
  std::string victim;
  for (const auto& p : h.pods_of("kube-system"))
    if (Harness::node_of(*p) == "node-1" &&
        p->at("metadata").at("name").as_string().starts_with("canal-")) {
      victim = std::string(p->at("metadata").at("name").as_string());
      h.delete_pod(*p);
    }
  BOOST_TEST_REQUIRE(!victim.empty());
  BOOST_TEST_REQUIRE(h.settle());
  BOOST_TEST(h.get(h.pods, "kube-system", victim).empty());
  const auto canal = h.get(h.daemonsets, "kube-system", "canal");
  BOOST_TEST(status_int(canal, "numberReady") == 2);
  int on_node1 = 0;
  for (const auto& p : h.pods_of("kube-system"))
    if (Harness::node_of(*p) == "node-1" &&
        p->at("metadata").at("name").as_string().starts_with("canal-"))
      ++on_node1;
  BOOST_TEST(on_node1 == 1);
}

BOOST_AUTO_TEST_CASE(cordon_keeps_new_pods_off_and_noexecute_evicts_untolerating) {
  Harness h;
  h.model.bootstrap(3, 2);
  BOOST_TEST_REQUIRE(h.settle());
  std::set<std::string> before;
  for (const auto& p : h.pods_of("apps"))
    before.insert(std::string(p->at("metadata").at("name").as_string()));
  h.cordon("node-0", true);
  h.edit(h.deployments, "apps", "web",
         [](json::object& d) { d["spec"].as_object()["replicas"] = 12; });
  BOOST_TEST_REQUIRE(h.settle());
  int fresh = 0;
  for (const auto& p : h.pods_of("apps"))
    if (!before.count(std::string(p->at("metadata").at("name").as_string()))) {
      ++fresh;
      BOOST_TEST(Harness::node_of(*p) != "node-0");
    }
  BOOST_TEST(fresh == 10);
  BOOST_TEST(h.count_ready("apps") == 6u - 2u + 12u);
  // A NoExecute taint: application pods leave node-1, canal and kube-proxy
  // (tolerate everything) stay; the replacements go to node-2 (node-0 cordoned).
  h.taint("node-1", "example.com/maintenance", "NoExecute");
  BOOST_TEST_REQUIRE(h.settle());
  int apps_on_1 = 0, system_on_1 = 0;
  for (const auto& p : h.store.pods_on_node("node-1"))
    (p->at("metadata").at("namespace") == "apps" ? apps_on_1 : system_on_1)++;
  BOOST_TEST(apps_on_1 == 0);
  BOOST_TEST(system_on_1 == 2);
  BOOST_TEST(h.count_ready("apps") == 16u);
  BOOST_TEST(h.model.network().tracker().max_cordoned_at_once() == 1u);
}

BOOST_AUTO_TEST_CASE(daemonset_follows_node_selector_and_noexecute_taints) {
  Harness h;
  h.model.bootstrap(3, 0);
  BOOST_TEST_REQUIRE(h.settle());
  h.label_node("node-0", "role", "x");
  h.label_node("node-1", "role", "x");
  h.edit(h.daemonsets, "kube-system", "kube-proxy", [](json::object& ds) {
    ds["spec"].as_object()["template"].as_object()["spec"].as_object()["nodeSelector"] =
        json::object{{"role", "x"}};
    ds["spec"].as_object()["template"].as_object()["spec"].as_object()["tolerations"] =
        json::array{};
  });
  BOOST_TEST_REQUIRE(h.settle());
  auto ds = h.get(h.daemonsets, "kube-system", "kube-proxy");
  BOOST_TEST(status_int(ds, "desiredNumberScheduled") == 2);
  BOOST_TEST(status_int(ds, "updatedNumberScheduled") == 2);
  BOOST_TEST(status_int(ds, "numberReady") == 2);
  BOOST_TEST(status_int(ds, "observedGeneration") == 2);
  // An untolerated NoExecute taint removes the daemon pod; NoSchedule does not.
  h.taint("node-0", "example.com/drain", "NoExecute");
  h.taint("node-1", "example.com/soft", "NoSchedule");
  BOOST_TEST_REQUIRE(h.settle());
  ds = h.get(h.daemonsets, "kube-system", "kube-proxy");
  BOOST_TEST(status_int(ds, "desiredNumberScheduled") == 0);
  BOOST_TEST(status_int(ds, "numberMisscheduled") == 1);
  int proxies = 0;
  for (const auto& p : h.pods_of("kube-system"))
    if (p->at("metadata").at("name").as_string().starts_with("kube-proxy-")) {
      ++proxies;
      BOOST_TEST(Harness::node_of(*p) == "node-1");
    }
  BOOST_TEST(proxies == 1);
}

BOOST_AUTO_TEST_CASE(blocking_pdb_fault_allows_no_disruption) {
  auto o = Harness::zero_delays();
  o.faults["blocking-pdb"] = "apps/worker";
  Harness h(o);
  h.model.bootstrap(4, 3);
  BOOST_TEST_REQUIRE(h.settle());
  const auto worker = h.get(h.pdbs, "apps", "worker");
  BOOST_TEST(status_int(worker, "currentHealthy") >= 1);
  BOOST_TEST(status_int(worker, "disruptionsAllowed") == 0);
  const auto web = h.get(h.pdbs, "apps", "web");  // 4 pods, maxUnavailable 10% -> 1 (rounded up)
  BOOST_TEST(status_int(web, "expectedPods") == 4);
  BOOST_TEST(status_int(web, "disruptionsAllowed") == 1);
}

BOOST_AUTO_TEST_CASE(never_ready_node_fault) {
  auto o = Harness::zero_delays();
  o.faults["never-ready-node"] = "node-1";
  Harness h(o);
  h.model.bootstrap(2, 0);
  BOOST_TEST_REQUIRE(h.settle());
  for (const auto& p : h.store.pods_on_node("node-1"))
    BOOST_TEST(!Harness::ready(*p));
  for (const auto& p : h.store.pods_on_node("node-0"))
    BOOST_TEST(Harness::ready(*p));
}

BOOST_AUTO_TEST_CASE(runtime_faults_block_and_release) {
  Harness h;
  h.model.bootstrap(2, 3);
  BOOST_TEST_REQUIRE(h.settle());
  BOOST_TEST(status_int(h.get(h.pdbs, "apps", "worker"), "disruptionsAllowed") >= 1);
  // PUT /sim/v1/faults at runtime: the PDB stops allowing disruptions at once.
  h.model.set_faults({{"pdb-blocking", "apps/worker"}, {"never-ready-node", "node-1"}});
  BOOST_TEST_REQUIRE(h.settle());
  BOOST_TEST(status_int(h.get(h.pdbs, "apps", "worker"), "disruptionsAllowed") == 0);
  // A pod restarted on the never-ready node stays unready.
  std::string victim;
  for (const auto& p : h.store.pods_on_node("node-1"))
    if (std::string_view(p->at("metadata").at("name").as_string()).starts_with("canal-"))
      victim = std::string(p->at("metadata").at("name").as_string());
  BOOST_TEST_REQUIRE(!victim.empty());
  h.delete_pod(h.get(h.pods, "kube-system", victim));
  BOOST_TEST_REQUIRE(h.settle());
  std::size_t unready = 0;
  for (const auto& p : h.store.pods_on_node("node-1"))
    unready += Harness::ready(*p) ? 0 : 1;
  BOOST_TEST(unready == 1u);
  // Clearing the faults: the PDB relaxes and the unready pod turns Ready.
  h.model.set_faults({});
  BOOST_TEST_REQUIRE(h.settle());
  BOOST_TEST(status_int(h.get(h.pdbs, "apps", "worker"), "disruptionsAllowed") >= 1);
  for (const auto& p : h.store.pods_on_node("node-1"))
    BOOST_TEST(Harness::ready(*p), p->at("metadata").at("name").as_string());
}

BOOST_AUTO_TEST_CASE(never_ready_node_fixed_at_runtime) {
  auto o = Harness::zero_delays();
  o.faults["never-ready-node"] = "node-1";
  Harness h(o);
  h.model.bootstrap(2, 1);
  BOOST_TEST_REQUIRE(h.settle());
  BOOST_TEST_REQUIRE(!h.store.pods_on_node("node-1").empty());
  for (const auto& p : h.store.pods_on_node("node-1"))
    BOOST_TEST_REQUIRE(!Harness::ready(*p));
  h.model.set_faults({{"never-ready-node", "node-0"}});  // moved, not cleared
  BOOST_TEST_REQUIRE(h.settle());
  for (const auto& p : h.store.pods_on_node("node-1"))
    BOOST_TEST(Harness::ready(*p));
}

BOOST_AUTO_TEST_CASE(pods_wait_for_a_cni_config) {
  Harness h;
  h.model.bootstrap(2, 0);
  BOOST_TEST_REQUIRE(h.settle());
  // Take canal off node-1 (selector), then put a pod there: it stays ContainerCreating.
  h.label_node("node-0", "cni", "yes");
  h.edit(h.daemonsets, "kube-system", "canal", [](json::object& ds) {
    ds["spec"].as_object()["template"].as_object()["spec"].as_object()["nodeSelector"] =
        json::object{{"cni", "yes"}};
  });
  BOOST_TEST_REQUIRE(h.settle());
  BOOST_TEST(h.model.network().config_files("node-1").empty());
  BOOST_TEST(h.model.network().config_files("node-0") ==
             std::vector<std::string>{"10-canal.conflist"});
  json::object pod{
      {"metadata", json::object{{"name", "p"}, {"namespace", "default"}}},
      {"spec",
       json::object{{"nodeName", "node-1"},
                    {"containers", json::array{json::object{{"name", "c"}, {"image", "i"}}}}}}};
  BOOST_TEST_REQUIRE(h.store.create(h.pods, pod).has_value());
  BOOST_TEST_REQUIRE(h.settle());
  BOOST_TEST(!Harness::ready(h.get(h.pods, "default", "p")));
  BOOST_TEST(h.model.pods_waiting_for_network() == 1u);
  // The CNI arrives: the sandbox is retried and the pod starts on canal.
  h.label_node("node-1", "cni", "yes");
  BOOST_TEST_REQUIRE(h.settle());
  const auto p = h.get(h.pods, "default", "p");
  BOOST_TEST(Harness::ready(p));
  BOOST_TEST(p.at("metadata").at("annotations").at("sim.cnimig.io/interfaces").as_string() ==
             "source");
  const auto exec = h.model.exec(p, {"ls", "/etc/cni/net.d"});
  BOOST_TEST(exec.stdout_text == "10-canal.conflist\n");
}

// expectedPods, kept per change (disruption_controller.hpp): the scale of
// each owning ReplicaSet or StatefulSet plus the pods without one, which
// count themselves until they terminate.
BOOST_AUTO_TEST_CASE(pdb_expected_pods_follow_scale_and_bare_pods) {
  Harness h;
  h.model.bootstrap(2, 5);  // db: one replica
  BOOST_TEST_REQUIRE(h.settle());
  const json::object db_labels{{"app.kubernetes.io/name", "db"},
                               {"app.kubernetes.io/part-of", "sim-apps"}};
  auto expected = [&] { return status_int(h.get(h.pdbs, "apps", "db"), "expectedPods"); };
  BOOST_TEST(expected() == 1);
  for (const char* bare : {"bare-0", "bare-1"})
    BOOST_TEST_REQUIRE(
        h.store
            .create(
                h.pods,
                json::object{
                    {"metadata",
                     json::object{{"name", bare}, {"namespace", "apps"}, {"labels", db_labels}}},
                    {"spec",
                     json::object{{"containers", json::array{json::object{
                                                     {"name", "c"}, {"image", "example/c:1"}}}}}}})
            .has_value());
  BOOST_TEST_REQUIRE(h.settle());
  BOOST_TEST(expected() == 3);
  h.edit(h.statefulsets, "apps", "db",
         [](json::object& s) { s["spec"].as_object()["replicas"] = 3; });
  BOOST_TEST_REQUIRE(h.settle());
  BOOST_TEST(expected() == 5);
  h.delete_pod(h.get(h.pods, "apps", "bare-0"));
  BOOST_TEST_REQUIRE(h.settle());
  BOOST_TEST(expected() == 4);
  h.edit(h.statefulsets, "apps", "db",
         [](json::object& s) { s["spec"].as_object()["replicas"] = 2; });
  BOOST_TEST_REQUIRE(h.settle());
  BOOST_TEST(expected() == 3);
}

// The report's makespan bound counts the budgets the cluster's applications
// carry, as their synced status gives them: 20 application pods make web 8
// pods with maxUnavailable 10% (one at a time: 8 rounds), worker 4 (one at a
// time), api 6 with minAvailable 50% (three at a time), db 2 (one at a time,
// a StatefulSet's replacement after the pod is gone).
BOOST_AUTO_TEST_CASE(makespan_bound_counts_the_budgets) {
  ClusterOptions o;
  o.time_scale = 0.001;  // S = 1 ms, R = 2 ms, T = 1 ms
  Harness h(o);
  h.model.bootstrap(2, 10);
  BOOST_TEST_REQUIRE(h.settle());
  const auto report = h.model.report();
  const auto& bound = report.at("makespan_lower_bound").as_object();
  BOOST_TEST(bound.at("budget").as_string() == "apps/web");
  BOOST_TEST(bound.at("budget_step_ms").to_number<double>() == 8 * 3.0);
}
