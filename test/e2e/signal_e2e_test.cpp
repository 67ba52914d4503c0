// SIGTERM and SIGINT in the middle of a migration (README.md
// "Signals"): the agent stops at the next safe point, says so with
// `migration.interrupted`, exits 143 / 130, leaves no node cordoned or
// tainted, and the next run completes the migration with zero violations.
#define BOOST_TEST_MODULE e2e_signal
#include <csignal>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "sim_cluster.hpp"

using namespace cnimig::test;

namespace {

// No node is cordoned or tainted: every node the run touched reached a safe point.
void check_no_node_half_way(const SimCluster& cluster) {
  auto nodes = cluster.kubectl({"get", "nodes", "-o", "json"});
  BOOST_TEST_REQUIRE(nodes.exit_code == 0, nodes.stderr_text);
  const auto list = boost::json::parse(nodes.stdout_text);
  for (const auto& node : list.at("items").as_array()) {
    const auto name = std::string(node.at("metadata").at("name").as_string());
    const auto& spec = node.at("spec").as_object();
    const auto* unschedulable = spec.if_contains("unschedulable");
    BOOST_TEST(!(unschedulable && unschedulable->is_bool() && unschedulable->as_bool()),
               name << " left cordoned");
    const auto* taints = spec.if_contains("taints");
    BOOST_TEST((!taints || taints->is_null() || taints->as_array().empty()),
               name << " left tainted");
  }
}

// Starts a migration, waits until `mid_run_event` is emitted, sends `signal`,
// and checks the stop; returns the agent's stdout lines.
std::vector<std::string> interrupt(const SimCluster& cluster, int signal,
                                   std::string_view mid_run_event, int expected_exit) {
  BackgroundProcess agent(cluster.agent_argv({"--apply"}));
  auto mid = agent.wait_for_line(
      [&](const std::string& line) { return is_event(line, mid_run_event); }, 300s);
  BOOST_TEST_REQUIRE(mid.has_value(),
                     "no " << mid_run_event << " before the run ended: " << agent.stderr_text());
  const int code = agent.stop(signal, 300s);
  // The pipe closes when the agent exits: read what is left.
  agent.wait_for_line([](const std::string&) { return false; }, 10s);
  BOOST_TEST(code == expected_exit, agent.stderr_text());
  const auto& out = agent.stdout_lines();
  BOOST_TEST(std::any_of(out.begin(), out.end(),
                         [](const auto& l) { return is_event(l, "migration.interrupted"); }),
             "no migration.interrupted event");
  BOOST_TEST(std::none_of(out.begin(), out.end(),
                          [](const auto& l) { return is_event(l, "migration.completed"); }),
             "the run completed before the signal: the test interrupted nothing");
  check_no_node_half_way(cluster);
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(sigterm_mid_roll_stops_at_a_safe_point_and_the_rerun_completes) {
  SimCluster cluster(4);
  interrupt(cluster, SIGTERM, "node.cordoned", 143);
  auto rerun = cluster.agent({"--apply"});
  BOOST_TEST_REQUIRE(rerun.exit_code == 0, rerun.stderr_text);
  BOOST_TEST(has_event(events_of(rerun), "migration.completed"));
  check_migrated(cluster, 1);
}

BOOST_AUTO_TEST_CASE(sigint_mid_migrate_exits_130_and_the_rerun_completes) {
  // (4 nodes: on 2, the simulated workloads' PodDisruptionBudgets block every drain.)
  SimCluster cluster(4);
  // Step 4 (migrate): the node is tainted and swapping CNIs when the signal lands.
  interrupt(cluster, SIGINT, "node.tainted", 130);
  auto rerun = cluster.agent({"--apply"});
  BOOST_TEST_REQUIRE(rerun.exit_code == 0, rerun.stderr_text);
  check_migrated(cluster, 1);
}

// Plan mode (no --apply) at a few hundred nodes: the plan takes a while, and a
// SIGTERM while it computes ends the run there, with 143, not after it.
BOOST_AUTO_TEST_CASE(sigterm_while_planning_exits_143) {
  SimCluster cluster(300);
  cluster.wait_settled();
  const auto before = cluster.report();
  BackgroundProcess agent(cluster.agent_argv({}));
  auto synced = agent.wait_for_line(
      [](const std::string& line) { return is_event(line, "cluster.synced"); }, 300s);
  BOOST_TEST_REQUIRE(synced.has_value(), "the plan never synced: " << agent.stderr_text());
  const int code = agent.stop(SIGTERM, 300s);
  agent.wait_for_line([](const std::string&) { return false; }, 10s);
  BOOST_TEST(code == 143, agent.stderr_text());
  const auto& out = agent.stdout_lines();
  BOOST_TEST(std::any_of(out.begin(), out.end(),
                         [](const auto& l) { return is_event(l, "migration.interrupted"); }),
             "no migration.interrupted event");
  BOOST_TEST(std::none_of(out.begin(), out.end(),
                          [](const auto& l) { return is_event(l, "plan.completed"); }),
             "the plan completed before the signal: the test interrupted nothing");
  // Nothing was written: plan mode only reads and dry-runs.
  const auto after = cluster.report();
  for (const char* verb : {"create", "patch", "update", "delete"}) {
    BOOST_TEST(request_count(after, verb) == request_count(before, verb),
               verb << " requests during plan mode");
  }
}
