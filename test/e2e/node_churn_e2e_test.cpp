// Nodes that come and go while the agent migrates (a cluster autoscaler's
// scale-up and scale-down): a node created mid-run is brought into the
// migration and ends migrated; a node deleted mid-run holds no gate. Referees:
// the agent's exit code and events, kubectl's view of the final cluster and
// the simulator's connectivity oracle.
#define BOOST_TEST_MODULE e2e_node_churn
#include <csignal>
#include <fstream>
#include <functional>
#include <set>
#include <sstream>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "sim_cluster.hpp"

using namespace cnimig::test;

namespace {

// An event line's field, or "" when absent.
std::string field(const std::string& line, std::string_view key) {
  const auto e = boost::json::parse(line).as_object();
  const auto* v = e.if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->as_string()) : std::string();
}

// The node.phase event of `node` entering `phase`.
std::function<bool(const std::string&)> entering(std::string node, std::string phase) {
  return [node, phase](const std::string& l) {
    return field(l, "event") == "node.phase" && field(l, "node") == node &&
           field(l, "phase") == phase;
  };
}

bool run_ended(const std::string& l) {
  return field(l, "event") == "migration.completed" || field(l, "event") == "migration.halted";
}

// Reads the agent's output to its end (it exits once the Lease is released)
// and returns its exit code.
int wait_exit(BackgroundProcess& agent) {
  agent.wait_for_line([](const std::string&) { return false; }, 60s);
  const int code = agent.stop(SIGTERM);
  if (code != 0)
    BOOST_TEST_MESSAGE(agent.stderr_text());
  return code;
}

// Starts `--apply`, runs `act` once an event line satisfies `trigger`, then
// waits for the run to end. Returns the exit code and every stdout line.
std::pair<int, std::vector<std::string>> run_with(
    const SimCluster& cluster, const std::function<bool(const std::string&)>& trigger,
    const std::function<void()>& act) {
  BackgroundProcess agent(cluster.agent_argv({"--apply"}));
  auto seen = agent.wait_for_line(trigger, 300s);
  BOOST_TEST_REQUIRE(seen.has_value(), "never saw the trigger: " << agent.diagnostics());
  act();
  auto end = agent.wait_for_line(run_ended, 600s);
  BOOST_TEST_REQUIRE(end.has_value(), "the run did not end: " << agent.diagnostics());
  const int code = wait_exit(agent);
  return {code, agent.stdout_lines()};
}

void create_node(const SimCluster& cluster, const std::string& name) {
  const auto file = cluster.dir / (name + ".yaml");
  std::ofstream(file) << "apiVersion: v1\nkind: Node\nmetadata:\n  name: " << name
                      << "\n  labels: {kubernetes.io/hostname: " << name
                      << ", kubernetes.io/os: linux}\n";
  auto r = cluster.kubectl({"create", "-f", file.string()});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.stderr_text);
}

std::size_t count_events(const std::vector<std::string>& lines, std::string_view name,
                         std::string_view node = {}) {
  std::size_t n = 0;
  for (const auto& line : lines) {
    const auto e = boost::json::parse(line).as_object();
    if (e.at("event").as_string() != name)
      continue;
    if (node.empty() || (e.contains("node") && e.at("node").as_string() == node))
      ++n;
  }
  return n;
}

std::set<std::string> node_names(const SimCluster& cluster) {
  auto r = cluster.kubectl({"get", "nodes", "-o", "jsonpath={.items[*].metadata.name}"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.stderr_text);
  std::set<std::string> names;
  std::istringstream in(r.stdout_text);
  for (std::string n; in >> n;)
    names.insert(n);
  return names;
}

// Every knet-stress pod is Ready and runs on Cilium alone (the network model
// records the interfaces it gave each pod).
void check_pods_on(const SimCluster& cluster, const std::string& node) {
  auto r = cluster.kubectl({"get", "pods", "-n", "knet-stress", "--field-selector",
                            "spec.nodeName=" + node, "-o", "json"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.stderr_text);
  const auto list = boost::json::parse(r.stdout_text);
  const auto& items = list.at("items").as_array();
  BOOST_TEST(items.size() == 2u, node << " runs both knet-stress DaemonSets");
  for (const auto& pod : items) {
    const auto& meta = pod.at("metadata").as_object();
    const auto* ann = meta.if_contains("annotations");
    const auto* ifaces = ann != nullptr && ann->is_object()
                             ? ann->as_object().if_contains("sim.cnimig.io/interfaces")
                             : nullptr;
    BOOST_TEST((ifaces != nullptr && ifaces->is_string() && ifaces->as_string() == "cilium"),
               boost::json::serialize(pod) << " on " << node);
  }
}

}  // namespace

// Created once the roll is under way: no CNI DaemonSet selects it any more.
BOOST_AUTO_TEST_CASE(node_created_during_the_roll_is_migrated_with_the_others) {
  SimCluster cluster(4);
  auto [code, lines] = run_with(cluster, entering("node-0", "roll-draining"),
                                [&] { create_node(cluster, "node-5"); });
  BOOST_TEST_REQUIRE(code == 0);
  BOOST_TEST(count_events(lines, "node.joined", "node-5") == 1u);
  BOOST_TEST(count_events(lines, "migration.completed") == 1u);
  BOOST_TEST(node_names(cluster).contains("node-5"));
  check_migrated(cluster, 1);
  check_pods_on(cluster, "node-5");
}

// Created once Cilium is the only CNI on some nodes: it must get Cilium alone,
// which reaches the pods of migrated and unmigrated nodes alike.
BOOST_AUTO_TEST_CASE(node_created_during_migrate_gets_cilium_and_reaches_everyone) {
  SimCluster cluster(4);
  auto [code, lines] = run_with(cluster, entering("node-0", "migrate-labelled"),
                                [&] { create_node(cluster, "node-5"); });
  BOOST_TEST_REQUIRE(code == 0);
  BOOST_TEST(count_events(lines, "node.joined", "node-5") == 1u);
  check_migrated(cluster, 1);
  check_pods_on(cluster, "node-5");
}

// Deleted while it is being rolled: its pods and its DaemonSets' count go
// with it, and the run completes on the nodes that are left.
BOOST_AUTO_TEST_CASE(node_deleted_during_the_roll_holds_no_gate) {
  SimCluster cluster(4);
  auto [code, lines] = run_with(cluster, entering("node-0", "roll-draining"), [&] {
    auto r = cluster.kubectl({"delete", "node", "node-3", "--wait=false"});
    BOOST_TEST_REQUIRE(r.exit_code == 0, r.stderr_text);
  });
  BOOST_TEST_REQUIRE(code == 0);
  BOOST_TEST(count_events(lines, "migration.completed") == 1u);
  BOOST_TEST(count_events(lines, "action.failed") == 0u);
  BOOST_TEST(!node_names(cluster).contains("node-3"));
  check_migrated(cluster, 1);
}

// The node being rolled is the one deleted: its remaining writes find no
// node, which must not halt the run.
BOOST_AUTO_TEST_CASE(node_deleted_while_it_is_in_flight_does_not_halt_the_run) {
  SimCluster cluster(4);
  auto [code, lines] = run_with(cluster, entering("node-0", "roll-draining"), [&] {
    auto r = cluster.kubectl({"delete", "node", "node-0", "--wait=false"});
    BOOST_TEST_REQUIRE(r.exit_code == 0, r.stderr_text);
  });
  BOOST_TEST_REQUIRE(code == 0);
  BOOST_TEST(count_events(lines, "migration.halted") == 0u);
  BOOST_TEST(!node_names(cluster).contains("node-0"));
  check_migrated(cluster, 1);
}

// cleanup removes cilium-migrated's node selector, which replaces every
// Cilium agent. node-3, migrated last, keeps its replacement agent from
// turning Ready (never-ready-node): the run must wait in cleanup for the
// rollout instead of declaring completion, and complete once it can. (Node
// leftovers off: with them, node-3's node-cleanup pod would hold cleanup
// before the rollout is ever waited for; the next case covers that wait.)
BOOST_AUTO_TEST_CASE(completion_waits_for_the_cilium_rollout) {
  SimCluster cluster(4);
  cluster.edit_config({{"nodeLeftovers: true", "nodeLeftovers: false"}});
  cluster.node_leftovers_removed = false;
  BackgroundProcess agent(cluster.agent_argv({"--apply"}));
  BOOST_TEST_REQUIRE(agent.wait_for_line(entering("node-3", "migrate-labelled"), 300s).has_value(),
                     agent.diagnostics());
  cluster.put_faults("never-ready-node=node-3");
  auto waiting = [](const std::string& l) {
    return field(l, "event") == "gate.waiting" && field(l, "step") == "cleanup" &&
           field(l, "pending").find("cilium-migrated not ready") != std::string::npos;
  };
  auto seen =
      agent.wait_for_line([&](const std::string& l) { return waiting(l) || run_ended(l); }, 300s);
  BOOST_TEST_REQUIRE(seen.has_value(), agent.diagnostics());
  BOOST_TEST(waiting(*seen), "completion came before the rollout: " << *seen);
  cluster.put_faults("");
  auto end = agent.wait_for_line(run_ended, 300s);
  BOOST_TEST_REQUIRE(end.has_value(), agent.diagnostics());
  BOOST_TEST(field(*end, "event") == "migration.completed");
  BOOST_TEST(wait_exit(agent) == 0);
  // The last probe passed after the last write.
  const auto& lines = agent.stdout_lines();
  std::size_t last_write = 0, last_probe = 0;
  for (std::size_t i = 0; i < lines.size(); ++i) {
    const auto name = field(lines[i], "event");
    if (name == "node.labelled" || name == "daemonset.patched" || name == "node.annotated")
      last_write = i;
    if (name == "probe.passed")
      last_probe = i;
  }
  BOOST_TEST(last_probe > last_write);
  auto ds = cluster.kubectl({"get", "ds", "cilium-migrated", "-n", "kube-system", "-o",
                             "jsonpath={.status.numberReady}"});
  BOOST_TEST(ds.stdout_text == "4");
  check_migrated(cluster, 1);
}

// With node leftovers removed (the default), a node whose node-cleanup pod
// cannot turn Ready keeps its migration labels and holds cleanup while the
// others are cleaned; the run finishes once the pod runs there. (Steps 0-4
// first, so that the fault is in place before cleanup starts.)
BOOST_AUTO_TEST_CASE(cleanup_waits_for_the_node_cleanup_on_every_node) {
  SimCluster cluster(4);
  const auto migrated = cluster.agent({"--apply", "--steps", "0-4"});
  BOOST_TEST_REQUIRE(migrated.exit_code == 0, migrated.stderr_text);
  cluster.put_faults("never-ready-node=node-3");
  BackgroundProcess agent(cluster.agent_argv({"--apply"}));
  // The three are cleaned in any order: wait_for_line consumes what it
  // reads, so one wait covers them all.
  std::set<std::string> uncleaned{"node-0", "node-1", "node-2"};
  while (!uncleaned.empty()) {
    auto seen = agent.wait_for_line(
        [&](const std::string& l) {
          return run_ended(l) ||
                 (field(l, "event") == "node.phase" && field(l, "phase") == "cleaned" &&
                  uncleaned.contains(field(l, "node")));
        },
        300s);
    BOOST_TEST_REQUIRE(seen.has_value(), agent.diagnostics());
    BOOST_TEST_REQUIRE(!run_ended(*seen),
                       "ended before every node but node-3 was cleaned: " << *seen);
    uncleaned.erase(field(*seen, "node"));
  }
  auto labels = cluster.kubectl({"get", "node", "node-3", "-o", "jsonpath={.metadata.labels}"});
  BOOST_TEST(labels.stdout_text.find("node-role.kubernetes.io/migrated") != std::string::npos,
             labels.stdout_text);
  for (const auto& l : agent.stdout_lines()) {
    BOOST_TEST(!entering("node-3", "cleaned")(l), l);
    BOOST_TEST(!run_ended(l), l);
  }
  cluster.put_faults("");
  auto end = agent.wait_for_line(run_ended, 300s);
  BOOST_TEST_REQUIRE(end.has_value(), agent.diagnostics());
  BOOST_TEST(field(*end, "event") == "migration.completed");
  BOOST_TEST(wait_exit(agent) == 0);
  check_migrated(cluster, 1);
}
