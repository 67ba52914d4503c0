// The agent migrates a simulated cluster end to end. Referees: the agent's
// exit code and event stream, kubectl's view of the final cluster, and the
// simulator's connectivity oracle (/sim/v1/report).
#define BOOST_TEST_MODULE e2e_migration
#include <algorithm>
#include <fstream>

#include <boost/json.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include "sim_cluster.hpp"

using namespace cnimig::test;

// Each strategy (config `strategy`) migrates the same cluster.
BOOST_DATA_TEST_CASE(full_migration_one_node_at_a_time, boost::unit_test::data::make(kStrategies),
                     strategy) {
  SimCluster cluster(4);
  cluster.use_strategy(strategy);
  auto r = cluster.agent({"--apply"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.stderr_text);
  const auto events = events_of(r);
  BOOST_TEST(has_event(events, "migration.completed"));
  BOOST_TEST(has_event(events, "lease.acquired"));
  for (const auto& e : events) {
    if (e.at("event").as_string() == "migration.started")
      BOOST_TEST(e.at("strategy").as_string() == strategy);
  }
  check_migrated(cluster, 1);
}

BOOST_DATA_TEST_CASE(full_migration_three_nodes_at_a_time,
                     boost::unit_test::data::make(kStrategies), strategy) {
  SimCluster cluster(5);
  cluster.use_strategy(strategy);
  auto r = cluster.agent({"--apply", "--max-parallel-nodes", "3", "--max-unavailable", "3"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.stderr_text);
  BOOST_TEST(has_event(events_of(r), "migration.completed"));
  check_migrated(cluster, 3);
  BOOST_TEST(cluster.report().at("cordoned").at("max_at_once").as_int64() >= 2,
             "nodes did run in parallel");
}

// What one decision changes on a node's object (labels, annotations, cordon,
// taints) goes out as one merge patch: 17 node patches per migrated node
// (prepare 1, roll 4, priority 5, migrate 6, cleanup 1), down from 29 with
// one patch per write. Each write keeps its event.
BOOST_AUTO_TEST_CASE(node_patches_per_migrated_node) {
  SimCluster cluster(4);
  auto r = cluster.agent({"--apply"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.stderr_text);
  check_migrated(cluster, 1);
  const auto patches = request_count(cluster.report(), "patch nodes");
  // prepare 1, roll 2, priority 3, migrate 4, cleanup 1 (src/migrate/README.md)
  BOOST_TEST_MESSAGE(patches << " node patches for 4 nodes");
  BOOST_TEST(patches <= 11 * 4, patches << " node patches for 4 nodes");
  std::int64_t node_writes = 0;
  for (const auto& e : events_of(r)) {
    const std::string name(e.at("event").as_string());
    for (const char* write : {"node.labelled", "node.annotated", "node.cordoned", "node.uncordoned",
                              "node.tainted", "node.untainted"}) {
      if (name == write)
        ++node_writes;
    }
  }
  BOOST_TEST(node_writes == 25 * 4, node_writes << ": one event per write the core asked for");
}

// From Kubernetes 1.35 resourceVersions of one resource compare (KEP-5504):
// each cut-off is placed in the pods' order as it is written, so no deletion
// waits for the server's clock to pass the cut-off's second, and the oracle
// still sees every pod re-created after its node's CNI changed.
std::int64_t cut_off_waits(const std::vector<boost::json::object>& events) {
  return std::count_if(events.begin(), events.end(), [](const boost::json::object& e) {
    const auto* gate = e.if_contains("gate");
    return e.at("event").as_string() == "gate.waiting" && gate != nullptr &&
           gate->as_string() == "cut-off";
  });
}

BOOST_DATA_TEST_CASE(cut_offs_in_the_pods_order_wait_for_no_clock,
                     boost::unit_test::data::make(kStrategies), strategy) {
  SimCluster cluster(4, {"--server-version", "1.35"});
  cluster.use_strategy(strategy);
  auto r = cluster.agent({"--apply"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.stderr_text);
  check_migrated(cluster, 1);
  BOOST_TEST(cut_off_waits(events_of(r)) == 0);
}

BOOST_DATA_TEST_CASE(plan_mode_makes_zero_writes, boost::unit_test::data::make(kStrategies),
                     strategy) {
  SimCluster cluster(4);
  cluster.use_strategy(strategy);
  // Plan once the fresh cluster has settled, as an operator would.
  cluster.wait_settled();
  const auto before = cluster.report();
  auto r = cluster.agent({});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.stderr_text);
  const auto events = events_of(r);
  BOOST_TEST(has_event(events, "plan.completed"));
  BOOST_TEST(std::count_if(events.begin(), events.end(), [](const auto& e) {
               return e.at("event").as_string() == "plan.action";
             }) > 20);
  // The summary names the strategy; cilium-native plans no roll or priority.
  BOOST_TEST(r.stderr_text.find("Strategy: " + strategy) != std::string::npos, r.stderr_text);
  for (const auto& e : events) {
    if (e.at("event").as_string() == "plan.action" && strategy == "cilium-native") {
      BOOST_TEST((e.at("step").as_string() != "roll" && e.at("step").as_string() != "priority"),
                 boost::json::serialize(e));
    }
  }
  const auto after = cluster.report();
  for (const char* verb : {"create", "patch", "update", "delete"}) {
    BOOST_TEST(request_count(after, verb) == request_count(before, verb),
               verb << " requests during plan mode");
  }
}

BOOST_AUTO_TEST_CASE(rerun_after_completion_changes_nothing) {
  SimCluster cluster(4);
  BOOST_TEST_REQUIRE(cluster.agent({"--apply"}).exit_code == 0);
  const auto before = cluster.report();
  auto again = cluster.agent({"--apply"});
  BOOST_TEST(again.exit_code == 0, again.stderr_text);
  const auto after = cluster.report();
  // Only the Lease is written on a finished cluster.
  BOOST_TEST(request_count(after, "delete") == request_count(before, "delete"));
  BOOST_TEST(request_count(after, "patch nodes") == request_count(before, "patch nodes"));
}

// A pod without a controller is lost for good once evicted: like kubectl
// drain without --force, the agent refuses, in the plan and in a run, before
// it cordons anything, naming the pod. Once it is gone, a rerun completes.
BOOST_AUTO_TEST_CASE(bare_pod_is_refused_before_any_node_is_cordoned) {
  SimCluster cluster(4);
  const auto manifest = cluster.dir / "bare.yaml";
  std::ofstream(manifest) << "apiVersion: v1\nkind: Pod\nmetadata:\n  name: debug\n"
                             "  namespace: default\nspec:\n  nodeName: node-2\n"
                             "  containers:\n  - name: sh\n    image: busybox\n";
  auto created = cluster.kubectl({"create", "-f", manifest.string()});
  BOOST_TEST_REQUIRE(created.exit_code == 0, created.stderr_text);
  cluster.wait_settled();

  auto plan = cluster.agent({});
  BOOST_TEST(plan.exit_code == 1, plan.stderr_text);
  bool plan_names_it = false;
  for (const auto& e : events_of(plan)) {
    if (e.at("event").as_string() == "plan.halted")
      plan_names_it = e.at("error").as_string().find("default/debug") != std::string::npos;
  }
  BOOST_TEST(plan_names_it, plan.stdout_text);

  auto run = cluster.agent({"--apply"});
  BOOST_TEST(run.exit_code == 1, run.stderr_text);
  const auto events = events_of(run);
  bool halt_names_it = false;
  for (const auto& e : events) {
    if (e.at("event").as_string() == "migration.halted")
      halt_names_it = e.at("error").as_string().find("node-2: default/debug (no controller)") !=
                      std::string::npos;
  }
  BOOST_TEST(halt_names_it, run.stdout_text);
  BOOST_TEST(!has_event(events, "node.cordoned"));
  BOOST_TEST(cluster.report().at("cordoned").at("max_at_once").as_int64() == 0);
  auto pod = cluster.kubectl({"get", "pod", "debug", "-n", "default"});
  BOOST_TEST(pod.exit_code == 0, "the bare pod is still there");

  auto removed = cluster.kubectl({"delete", "pod", "debug", "-n", "default", "--wait=true"});
  BOOST_TEST_REQUIRE(removed.exit_code == 0, removed.stderr_text);
  auto rerun = cluster.agent({"--apply"});
  BOOST_TEST_REQUIRE(rerun.exit_code == 0, rerun.stderr_text);
  check_migrated(cluster, 1);
}

// cleanup.hold: the run ends before the point of no return with every node on
// Cilium and the source CNI still there (exit 0, cleanup.held); a run with
// the hold off finishes the migration.
BOOST_AUTO_TEST_CASE(cleanup_hold_ends_before_cleanup_and_a_later_run_finishes) {
  SimCluster cluster(4);
  cluster.edit_config(
      {{"  nodeLeftovers: true\n  hold: false", "  nodeLeftovers: true\n  hold: true"}});
  auto held = cluster.agent({"--apply"});
  BOOST_TEST_REQUIRE(held.exit_code == 0, held.stderr_text);
  const auto events = events_of(held);
  BOOST_TEST(has_event(events, "cleanup.held"));
  BOOST_TEST(!has_event(events, "migration.completed"));
  BOOST_TEST(!has_event(events, "cilium.defaults_restored"));
  auto source = cluster.kubectl(
      {"get", "daemonset", "-n", cluster.source_namespace, cluster.source_daemonset, "-o", "name"});
  BOOST_TEST(source.exit_code == 0,
             "the source CNI was deleted during a hold: " << source.stderr_text);
  auto migrated =
      cluster.kubectl({"get", "nodes", "-l", "node-role.kubernetes.io/migrated", "-o", "name"});
  BOOST_TEST_REQUIRE(migrated.exit_code == 0, migrated.stderr_text);
  BOOST_TEST(std::count(migrated.stdout_text.begin(), migrated.stdout_text.end(), '\n') == 4);
  BOOST_TEST(cluster.report().at("violations").at("max_concurrent").as_int64() == 0);

  cluster.config = CNIMIG_SOURCE_DIR "/config/config.yaml";  // as shipped: hold false
  auto finished = cluster.agent({"--apply"});
  BOOST_TEST_REQUIRE(finished.exit_code == 0, finished.stderr_text);
  BOOST_TEST(has_event(events_of(finished), "migration.completed"));
  check_migrated(cluster, 1);
}
