// `cnimig-agent status` (README.md "Status") beside a running migration: a
// PodDisruptionBudget that allows no disruption holds the agent in its first
// drain, status (JSON and table) shows the derived phases, the steps, the
// Lease holder and what a rerun would do; once the budget is released the
// migration completes and status says so. Status itself sent only reads.
#define BOOST_TEST_MODULE e2e_status
#include <fstream>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "sim_cluster.hpp"

using namespace cnimig::test;

namespace {

ProcessResult status(const SimCluster& cluster, std::vector<std::string> args) {
  args.insert(args.begin(),
              {CNIMIG_AGENT_BIN, "status", "--config", CNIMIG_SOURCE_DIR "/config/config.yaml",
               "--kubeconfig", cluster.kubeconfig.string()});
  return run_process(args, {}, 120s);
}

const boost::json::object& step_of(const boost::json::object& s, std::string_view name) {
  for (const auto& step : s.at("steps").as_array()) {
    if (step.at("step").as_string() == name)
      return step.as_object();
  }
  BOOST_FAIL("no step " << name);
  throw std::logic_error("unreachable");
}

}  // namespace

BOOST_AUTO_TEST_CASE(status_during_and_after_a_migration) {
  SimCluster cluster(4, {"--faults", "blocking-pdb=apps/web"});
  BackgroundProcess agent(cluster.agent_argv({"--apply"}));
  auto blocked = agent.wait_for_line(
      [](const std::string& l) { return is_event(l, "pod.eviction_blocked"); }, 300s);
  BOOST_TEST_REQUIRE(blocked.has_value(), "the drain never blocked: " << agent.stderr_text());

  // The agent is now held in a roll drain until the budget allows evictions.
  auto during = status(cluster, {"-o", "json"});
  BOOST_TEST_REQUIRE(during.exit_code == 0, during.stderr_text);
  const auto s = boost::json::parse(during.stdout_text).as_object();
  BOOST_TEST(s.at("nodes_total").as_int64() == 4);
  BOOST_TEST(step_of(s, "preflight").at("state").as_string() == "done");
  BOOST_TEST(step_of(s, "prepare").at("state").as_string() == "done");
  BOOST_TEST(step_of(s, "prepare").at("nodes_done").as_int64() == 4);
  BOOST_TEST(step_of(s, "roll").at("state").as_string() == "running");
  BOOST_TEST(s.at("current_step").as_string() == "roll");
  const auto& in_flight = step_of(s, "roll").at("in_flight").as_array();
  BOOST_TEST_REQUIRE(in_flight.size() == 1u, boost::json::serialize(s));
  BOOST_TEST(std::string_view(in_flight[0].as_string()).find("roll-draining") !=
             std::string_view::npos);
  std::size_t draining = 0;
  for (const auto& n : s.at("nodes").as_array())
    draining += n.at("phase").as_string() == "roll-draining" ? 1 : 0;
  BOOST_TEST(draining == 1u);
  const auto& lease = s.at("lease").as_object();
  BOOST_TEST(!lease.at("holder").as_string().empty());
  BOOST_TEST(lease.at("live").as_bool());
  BOOST_TEST(lease.at("seconds_since_renewal").as_int64() >= 0);
  // A rerun would evict the pod the budget protects again.
  const auto& next = s.at("next").as_array();
  BOOST_TEST(std::any_of(next.begin(), next.end(),
                         [](const auto& n) {
                           return std::string_view(n.as_string()).find("evict pod apps/web") !=
                                  std::string_view::npos;
                         }),
             boost::json::serialize(s));
  BOOST_TEST(s.at("halt").is_null());

  auto table = status(cluster, {});
  BOOST_TEST_REQUIRE(table.exit_code == 0, table.stderr_text);
  BOOST_TEST(table.stdout_text.find("roll-draining") != std::string::npos, table.stdout_text);
  BOOST_TEST(
      table.stdout_text.find(std::string(lease.at("holder").as_string())) != std::string::npos,
      table.stdout_text);

  // Release the budget (an empty spec clears every fault): the run completes.
  cluster.put_faults("");
  auto done = agent.wait_for_line(
      [](const std::string& l) { return is_event(l, "migration.completed"); }, 600s);
  BOOST_TEST_REQUIRE(done.has_value(), agent.stderr_text());

  auto after = status(cluster, {"-o", "json"});
  BOOST_TEST_REQUIRE(after.exit_code == 0, after.stderr_text);
  const auto a = boost::json::parse(after.stdout_text).as_object();
  BOOST_TEST(a.at("finished").as_bool(), after.stdout_text);
  for (const auto& step : a.at("steps").as_array())
    BOOST_TEST(step.at("state").as_string() == "done", boost::json::serialize(step));
  for (const auto& n : a.at("nodes").as_array())
    BOOST_TEST(n.at("phase").as_string() == "cleaned");

  // Read-only: status's requests (its own User-Agent) are gets, lists and watches.
  const auto report = cluster.report();
  const auto& by_client = report.at("requests_by_client").as_object();
  BOOST_TEST_REQUIRE(by_client.contains("cnimig-agent-status"), boost::json::serialize(by_client));
  for (const auto& [request, count] : by_client.at("cnimig-agent-status").as_object()) {
    const std::string_view r = request;
    BOOST_TEST((r.starts_with("get ") || r.starts_with("list ") || r.starts_with("watch ")),
               "status sent " << r);
  }
}
