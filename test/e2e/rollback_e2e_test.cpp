// --rollback end to end against cnimig-sim. Referees: the agent's exit code
// and events, kubectl's view of the cluster afterwards and the simulator's
// connectivity oracle (zero violations).
#define BOOST_TEST_MODULE e2e_rollback
#include <cstdio>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "crash_chain.hpp"

using namespace cnimig::test;

namespace {

std::size_t count_events(const ProcessResult& r, std::string_view name) {
  const auto events = events_of(r);
  return static_cast<std::size_t>(std::count_if(events.begin(), events.end(), [&](const auto& e) {
    return e.at("event").as_string() == name;
  }));
}

// Priority done on every node, node-0 and node-1 on Cilium alone.
void migrate_two_of_four(SimCluster& cluster) {
  auto first = cluster.agent({"--apply", "--steps", "0-3"});
  BOOST_TEST_REQUIRE(first.exit_code == 0, first.stderr_text);
  auto two = cluster.agent({"--apply", "--steps", "migrate", "--nodes", "node-0,node-1"});
  BOOST_TEST_REQUIRE(two.exit_code == 0, two.stderr_text);
  BOOST_TEST_REQUIRE(count_events(two, "node.phase") > 0u);
}

boost::json::value get_json(const SimCluster& cluster, std::vector<std::string> args) {
  args.insert(args.end(), {"-o", "json"});
  auto r = cluster.kubectl(std::move(args));
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.stderr_text);
  return boost::json::parse(r.stdout_text);
}

// The cluster as before prepare: the source CNI without the migration's node
// selector, no Cilium or multus, no migration label, annotation, taint or
// cordon, every pod on the source network; no violation at any time.
void check_rolled_back(const SimCluster& cluster) {
  const auto ds_list = get_json(cluster, {"get", "daemonsets", "-A"});
  std::set<std::string> names;
  for (const auto& item : ds_list.at("items").as_array()) {
    const auto name = std::string(item.at("metadata").at("name").as_string());
    names.insert(name);
    if (name != cluster.source_daemonset)
      continue;
    const auto& spec = item.at("spec").at("template").at("spec").as_object();
    if (const auto* selector = spec.if_contains("nodeSelector")) {
      for (const auto& [key, value] : selector->as_object())
        BOOST_TEST(!std::string_view(key).starts_with("node-role.kubernetes.io/"), key);
    }
  }
  BOOST_TEST(names.contains(cluster.source_daemonset));
  for (const char* gone : {"cilium", "cilium-migrated", "kube-multus-calico", "kube-multus-cilium"})
    BOOST_TEST(!names.contains(gone), gone << " was not removed");
  check_nodes_left_clean(cluster);
  // Every pod with its own network has one interface, the source CNI's (the
  // simulator records a sandbox's interfaces on its pod).
  const auto pods = get_json(cluster, {"get", "pods", "-A"});
  std::size_t checked = 0;
  for (const auto& pod : pods.at("items").as_array()) {
    const auto& spec = pod.at("spec").as_object();
    if (spec.contains("hostNetwork") && spec.at("hostNetwork").as_bool())
      continue;
    const auto name = std::string(pod.at("metadata").at("name").as_string());
    const auto* annotations = pod.at("metadata").as_object().if_contains("annotations");
    BOOST_TEST_REQUIRE(annotations != nullptr, name);
    const auto* interfaces = annotations->as_object().if_contains("sim.cnimig.io/interfaces");
    BOOST_TEST_REQUIRE(interfaces != nullptr, name);
    BOOST_TEST(interfaces->as_string() == "source", name);
    ++checked;
  }
  BOOST_TEST(checked > 8u);
  const auto report = cluster.report();
  BOOST_TEST(report.at("violations").at("max_concurrent").as_int64() == 0,
             boost::json::serialize(report));
  BOOST_TEST(report.at("violations").at("episodes").as_int64() == 0);
  BOOST_TEST(report.at("cordoned").at("max_at_once").as_int64() <= 1);
}

}  // namespace

// Done when (1): two of four nodes migrated, the whole cluster rolled back.
BOOST_AUTO_TEST_CASE(two_of_four_migrated_then_whole_cluster_rolled_back) {
  SimCluster cluster(4);
  migrate_two_of_four(cluster);
  // The plan writes nothing and says what the rollback would do.
  const auto before = cluster.report();
  auto plan = cluster.agent({"--rollback"});
  BOOST_TEST_REQUIRE(plan.exit_code == 0, plan.stderr_text);
  BOOST_TEST(count_events(plan, "plan.action") > 20u);
  BOOST_TEST(count_events(plan, "plan.completed") == 1u);
  const auto after = cluster.report();
  for (const char* verb : {"create", "patch", "update", "delete"})
    BOOST_TEST(request_count(after, verb) == request_count(before, verb), verb << " in plan mode");

  auto r = cluster.agent({"--rollback", "--apply"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.stderr_text);
  BOOST_TEST(count_events(r, "rollback.started") == 1u);
  BOOST_TEST(count_events(r, "rollback.completed") == 1u);
  BOOST_TEST(count_events(r, "migration.completed") == 0u);
  // Off Cilium alone (2), back to the source first (4), off multus (4).
  BOOST_TEST(count_events(r, "node.rolled_back") == 10u);
  check_rolled_back(cluster);
  // A rerun finds nothing to do; a migration can start over.
  auto again = cluster.agent({"--rollback", "--apply"});
  BOOST_TEST(again.exit_code == 0, again.stderr_text);
  BOOST_TEST(count_events(again, "node.rolled_back") == 0u);
}

// Done when (2): one node rolled back in the middle of its migrate step
// (its agent killed once the node runs Cilium alone), then the migration
// finishes.
BOOST_AUTO_TEST_CASE(one_node_rolled_back_mid_migrate_then_migration_finishes) {
  SimCluster cluster(4);
  migrate_two_of_four(cluster);
  {
    BackgroundProcess agent(cluster.agent_argv({"--apply", "--steps", "migrate"}));
    auto mid = agent.wait_for_line(
        [](const std::string& l) {
          return l.find("\"node.phase\"") != std::string::npos &&
                 l.find("\"node-2\"") != std::string::npos &&
                 l.find("\"migrate-deleting-pods\"") != std::string::npos;
        },
        300s);
    BOOST_TEST_REQUIRE(mid.has_value(), agent.stderr_text());
    BOOST_TEST_REQUIRE(agent.stop(SIGKILL) == 128 + SIGKILL);
  }
  auto back = cluster.agent({"--rollback", "--apply", "--nodes", "node-2"});
  BOOST_TEST_REQUIRE(back.exit_code == 0, back.stderr_text);
  BOOST_TEST(count_events(back, "node.rolled_back") == 1u);
  auto node = get_json(cluster, {"get", "node", "node-2"});
  const auto& labels = node.at("metadata").at("labels").as_object();
  BOOST_TEST(labels.contains("node-role.kubernetes.io/calico-cilium"));
  BOOST_TEST(labels.contains("node-role.kubernetes.io/priority-cilium"));
  BOOST_TEST(!labels.contains("node-role.kubernetes.io/cilium"));
  BOOST_TEST(cluster.report().at("violations").at("max_concurrent").as_int64() == 0);

  auto finish = cluster.agent({"--apply"});
  BOOST_TEST_REQUIRE(finish.exit_code == 0, finish.stderr_text);
  BOOST_TEST(count_events(finish, "migration.completed") == 1u);
  check_migrated(cluster, 1);
}

// Done when (3): the agent killed at sampled writes of a rollback, rerun to
// the same end state.
BOOST_AUTO_TEST_CASE(rollback_crash_resume_sampled) {
  SimCluster cluster(4);
  migrate_two_of_four(cluster);
  const auto chain = run_chain(cluster, 8, {"--rollback", "--apply"}, "rollback.completed");
  cluster.put_faults("");
  std::printf("rollback crash-resume kills=%d points_covered=%zu wall_s=%.1f\n", chain.points,
              chain.held.size(), chain.seconds);
  BOOST_TEST(chain.held.size() >= 3u);
  check_rolled_back(cluster);
}

// Past the point of no return: refused, exit 2, nothing written.
BOOST_AUTO_TEST_CASE(refused_once_cleanup_started) {
  SimCluster cluster(4);
  auto migrated = cluster.agent({"--apply"});
  BOOST_TEST_REQUIRE(migrated.exit_code == 0, migrated.stderr_text);
  const auto before = cluster.report();
  for (const auto& args : {std::vector<std::string>{"--rollback"},
                           std::vector<std::string>{"--rollback", "--apply"}}) {
    auto r = cluster.agent(args);
    BOOST_TEST(r.exit_code == 2, r.stderr_text);
    BOOST_TEST(r.stderr_text.find("point of no return") != std::string::npos, r.stderr_text);
  }
  const auto after = cluster.report();
  // Access reviews are creates that store nothing.
  const auto reviews = [](const boost::json::object& report) {
    return request_count(report, "create selfsubjectaccessreviews");
  };
  BOOST_TEST(request_count(after, "create") - reviews(after) ==
                 request_count(before, "create") - reviews(before),
             boost::json::serialize(after.at("requests")));
  for (const char* verb : {"patch", "update", "delete"})
    BOOST_TEST(request_count(after, verb) == request_count(before, verb), verb);
}
