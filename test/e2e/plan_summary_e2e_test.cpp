// A plan for people (README.md "Usage"): against a 4-node cnimig-sim with a
// node an administrator cordoned and a PodDisruptionBudget that allows no
// disruption, the plan's stderr carries a summary naming the nodes, the
// objects, the irreversible cleanup and both warnings, and stdout a
// `plan.summary` event with its counts; `--plan-output summary` keeps that
// event and drops the `plan.action` lines.
#define BOOST_TEST_MODULE e2e_plan_summary
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "sim_cluster.hpp"

using namespace cnimig::test;

namespace {

std::size_t count_events(const std::vector<boost::json::object>& events, std::string_view name) {
  return static_cast<std::size_t>(std::count_if(events.begin(), events.end(), [&](const auto& e) {
    return e.at("event").as_string() == name;
  }));
}

const boost::json::object& only_event(const std::vector<boost::json::object>& events,
                                      std::string_view name) {
  BOOST_TEST_REQUIRE(count_events(events, name) == 1u);
  return *std::find_if(events.begin(), events.end(),
                       [&](const auto& e) { return e.at("event").as_string() == name; });
}

}  // namespace

BOOST_AUTO_TEST_CASE(plan_summary_on_stderr_and_summary_only_stdout) {
  SimCluster cluster(4, {"--faults", "blocking-pdb=apps/web"});
  cluster.wait_settled();
  auto nodes = cluster.kubectl({"get", "nodes", "-o", "name"});
  BOOST_TEST_REQUIRE(nodes.exit_code == 0, nodes.stderr_text);
  std::vector<std::string> names;
  for (const auto& line : lines(nodes.stdout_text))
    names.push_back(line.substr(line.find('/') + 1));  // "node/node-1"
  BOOST_TEST_REQUIRE(names.size() == 4u);
  const auto& cordoned = names[1];
  BOOST_TEST_REQUIRE(cluster.kubectl({"cordon", cordoned}).exit_code == 0);

  auto full = cluster.agent({});
  BOOST_TEST_REQUIRE(full.exit_code == 0, full.stderr_text);
  const auto& err = full.stderr_text;
  for (const auto& n : names)
    BOOST_TEST(err.find(n) != std::string::npos, n << " in the summary:\n" << err);
  for (const std::string& needle : std::vector<std::string>{
           "Plan summary", "DaemonSet kube-system/canal", "bundle cilium", "Irreversible",
           "cleanup deletes", "PodDisruptionBudget apps/web allows no disruption",
           "node " + cordoned + " is cordoned by an administrator", "UDP 6081", "at most"}) {
    BOOST_TEST(err.find(needle) != std::string::npos, needle << " in:\n" << err);
  }
  const auto full_events = events_of(full);
  const auto actions = count_events(full_events, "plan.action");
  BOOST_TEST(actions > 20u);
  const auto& summary = only_event(full_events, "plan.summary");
  BOOST_TEST(summary.at("writes").as_int64() > 0);
  BOOST_TEST(summary.at("writes").as_int64() <= static_cast<std::int64_t>(actions));
  BOOST_TEST(summary.at("pods_evicted").as_int64() > 0);
  BOOST_TEST(summary.at("pods_deleted").as_int64() > 0);
  BOOST_TEST(summary.at("warnings").as_int64() >= 3);  // cordon, PDB, UDP 6081
  BOOST_TEST(summary.at("max_duration_ms").as_int64() > 0);

  auto brief = cluster.agent({"--plan-output", "summary"});
  BOOST_TEST_REQUIRE(brief.exit_code == 0, brief.stderr_text);
  const auto brief_events = events_of(brief);
  BOOST_TEST(count_events(brief_events, "plan.action") == 0u);
  BOOST_TEST(only_event(brief_events, "plan.summary").at("writes") == summary.at("writes"));
  BOOST_TEST(count_events(brief_events, "plan.completed") == 1u);
  BOOST_TEST(brief.stderr_text.find("Plan summary") != std::string::npos);
}
