// Resume: the node labels are the migration's state, so a run that stops
// after any step, or after any node of a per-node step, is finished by the
// next run. Each test walks one simulated cluster through every stopping
// point; after each partial run the agent's own plan (which only looks at the
// cluster) must show that the finished work is not redone, and at the end the
// referees of a full migration must hold.
#define BOOST_TEST_MODULE e2e_resume
#include <boost/json.hpp>
#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

#include "sim_cluster.hpp"

using namespace cnimig::test;

namespace {

constexpr int kNodes = 4;

// The steps of a strategy, in order, and its per-node ones.
std::vector<std::string> steps_of(const std::string& strategy) {
  if (strategy == "cilium-native")
    return {"preflight", "prepare", "migrate", "cleanup"};
  return {"preflight", "prepare", "roll", "priority", "migrate", "cleanup"};
}
std::vector<std::string> node_steps_of(const std::string& strategy) {
  if (strategy == "cilium-native")
    return {"migrate"};
  return {"roll", "priority", "migrate"};
}

std::vector<std::string> node_names(const SimCluster& cluster) {
  auto r = cluster.kubectl({"get", "nodes", "-o", "jsonpath={.items[*].metadata.name}"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.stderr_text);
  std::vector<std::string> names;
  std::istringstream in(r.stdout_text);
  for (std::string name; in >> name;)
    names.push_back(name);
  BOOST_TEST_REQUIRE(names.size() == static_cast<std::size_t>(kNodes));
  return names;
}

// The planned actions of the whole migration on the cluster as it is now.
std::vector<boost::json::object> planned_actions(const SimCluster& cluster) {
  auto plan = cluster.agent({});
  BOOST_TEST_REQUIRE(plan.exit_code == 0, plan.stderr_text);
  std::vector<boost::json::object> actions;
  for (auto& e : events_of(plan)) {
    if (e.at("event").as_string() == "plan.action")
      actions.push_back(std::move(e));
  }
  return actions;
}

std::string field(const boost::json::object& e, std::string_view key) {
  const auto* v = e.if_contains(key);
  return v && v->is_string() ? std::string(v->as_string()) : std::string();
}

// A partial run stops at a safe point: nothing cordoned, no pair of pods
// disconnected so far.
void check_safe_point(const SimCluster& cluster, const std::string& what) {
  auto cordoned = cluster.kubectl(
      {"get", "nodes", "-o", "jsonpath={.items[?(@.spec.unschedulable==true)].metadata.name}"});
  BOOST_TEST_REQUIRE(cordoned.exit_code == 0, cordoned.stderr_text);
  BOOST_TEST(cordoned.stdout_text.empty(), what << ": left cordoned: " << cordoned.stdout_text);
  const auto report = cluster.report();
  BOOST_TEST(report.at("violations").at("max_concurrent").as_int64() == 0,
             what << ": " << boost::json::serialize(report.at("violations")));
}

}  // namespace

BOOST_DATA_TEST_CASE(stop_after_each_step_then_resume, boost::unit_test::data::make(kStrategies),
                     strategy) {
  SimCluster cluster(kNodes);
  cluster.use_strategy(strategy);
  const auto kSteps = steps_of(strategy);
  for (std::size_t k = 0; k + 1 < kSteps.size(); ++k) {
    const auto range = "preflight-" + kSteps[k];
    auto r = cluster.agent({"--apply", "--steps", range});
    BOOST_TEST_REQUIRE(r.exit_code == 0, "--steps " << range << ": " << r.stderr_text);
    BOOST_TEST(has_event(events_of(r), "migration.completed"), "--steps " << range);
    check_safe_point(cluster, "after --steps " + range);

    // What is left is exactly the steps after k.
    const auto plan = planned_actions(cluster);
    BOOST_TEST(!plan.empty(), "nothing left to do after --steps " << range);
    for (const auto& action : plan) {
      const auto step = field(action, "step");
      const auto done = std::find(kSteps.begin(), kSteps.begin() + k + 1, step);
      BOOST_TEST((done == kSteps.begin() + k + 1 || step == "preflight"),
                 "after --steps " << range << " the plan redoes step " << step << ": "
                                  << boost::json::serialize(action));
    }
  }
  auto last = cluster.agent({"--apply"});
  BOOST_TEST_REQUIRE(last.exit_code == 0, last.stderr_text);
  check_migrated(cluster, 1);
  BOOST_TEST(planned_actions(cluster).empty(), "a finished migration plans nothing");
}

BOOST_DATA_TEST_CASE(stop_after_each_node_then_resume, boost::unit_test::data::make(kStrategies),
                     strategy) {
  SimCluster cluster(kNodes);
  cluster.use_strategy(strategy);
  const auto nodes = node_names(cluster);
  for (const auto& step_name : node_steps_of(strategy)) {
    const auto range = "preflight-" + step_name;
    for (std::size_t i = 0; i < nodes.size(); ++i) {
      const auto what = "--steps " + range + " --nodes " + nodes[i];
      auto r = cluster.agent({"--apply", "--steps", range, "--nodes", nodes[i]});
      BOOST_TEST_REQUIRE(r.exit_code == 0, what << ": " << r.stderr_text);
      check_safe_point(cluster, "after " + what);

      // The step is now done on nodes[0..i] and on no other node.
      std::set<std::string> pending;
      for (const auto& action : planned_actions(cluster)) {
        if (field(action, "step") == step_name && !field(action, "node").empty())
          pending.insert(field(action, "node"));
      }
      for (std::size_t j = 0; j < nodes.size(); ++j) {
        BOOST_TEST(pending.contains(nodes[j]) == (j > i),
                   "after " << what << ": step " << step_name << " on " << nodes[j]
                            << (j > i ? " not planned" : " planned again"));
      }
    }
  }
  auto last = cluster.agent({"--apply"});
  BOOST_TEST_REQUIRE(last.exit_code == 0, last.stderr_text);
  check_migrated(cluster, 1);
}
