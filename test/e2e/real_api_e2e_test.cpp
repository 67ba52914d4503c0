// What a real kube-apiserver did to the agent (issue 11), replayed against
// cnimig-sim made to answer the same way:
//  - a restarted API server answers 403 for a few seconds while its
//    authorization cache syncs: the Lease keeper must retry, not give up;
//  - a WebSocket exec is authorized as `get pods/exec`, from Kubernetes 1.35
//    also as `create`: preflight asks what the connected server will ask,
//    and a probe refused with 403 is a missing permission, not a
//    connectivity failure;
//  - a list or watch refused with 403 or 401 ends the run at once, with a
//    final event;
//  - `--steps preflight` says what it did, and a rerun acquires the Lease the
//    previous run released without "taking over" anything.
#define BOOST_TEST_MODULE e2e_real_api
#include <csignal>
#include <fstream>
#include <map>
#include <regex>
#include <sstream>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "sim_cluster.hpp"

using namespace cnimig::test;

namespace {

// config/config.yaml with absolute manifest paths and each line that starts
// with a key of `lines` replaced by that key and its value.
std::string config_with(const SimCluster& cluster,
                        const std::map<std::string, std::string>& lines) {
  std::ifstream in(CNIMIG_SOURCE_DIR "/config/config.yaml");
  std::stringstream text;
  text << in.rdbuf();
  std::istringstream source(std::regex_replace(text.str(), std::regex(R"(\.\./resources/)"),
                                               CNIMIG_SOURCE_DIR "/resources/"));
  std::string out, line;
  while (std::getline(source, line)) {
    for (const auto& [key, value] : lines)
      if (line.starts_with(key))
        line = key + value;
    out += line + "\n";
  }
  const auto path = (cluster.dir / "config.yaml").string();
  std::ofstream(path) << out;
  return path;
}

std::vector<std::string> agent_argv(const SimCluster& cluster, const std::string& config,
                                    std::vector<std::string> args) {
  args.insert(args.begin(),
              {CNIMIG_AGENT_BIN, "--config", config, "--kubeconfig", cluster.kubeconfig.string()});
  return args;
}

std::vector<boost::json::object> named(const ProcessResult& r, std::string_view event) {
  std::vector<boost::json::object> out;
  for (auto& e : events_of(r))
    if (e.at("event").as_string() == event)
      out.push_back(std::move(e));
  return out;
}

std::string error_of(const boost::json::object& event) {
  return std::string(event.at("error").as_string());
}

// The agent's requests of one kind ("patch nodes") the simulator counted.
std::int64_t agent_requests(const SimCluster& cluster, const std::string& key) {
  const auto report = cluster.report();
  const auto* mine = report.at("requests_by_client").as_object().if_contains("cnimig-agent");
  if (mine == nullptr)
    return 0;
  const auto* n = mine->as_object().if_contains(key);
  return n == nullptr ? 0 : n->to_number<std::int64_t>();
}

std::int64_t forbidden_answers(const SimCluster& cluster, std::string_view prefix) {
  std::int64_t n = 0;
  const auto report = cluster.report();  // kept: the loop refers into it
  for (const auto& [key, value] : report.at("forbidden").as_object())
    if (std::string_view(key).find(prefix) != std::string_view::npos)
      n += value.to_number<std::int64_t>();
  return n;
}

// preflight.failed naming `permission`, exit 2, nothing written to a node.
void check_denied(const SimCluster& cluster, const ProcessResult& r,
                  const std::string& permission) {
  BOOST_TEST(r.exit_code == 2, r.stderr_text);
  const auto failed = named(r, "preflight.failed");
  BOOST_TEST_REQUIRE(failed.size() == 1u, r.stdout_text);
  BOOST_TEST(error_of(failed[0]).find(permission) != std::string::npos, error_of(failed[0]));
  BOOST_TEST(r.stdout_text.find("cannot reach all peers") == std::string::npos);
  BOOST_TEST(agent_requests(cluster, "patch nodes") == 0);
}

}  // namespace

// 403 on every Lease request for 3 s in the middle of a migration (the Lease
// lasts 6 s and is renewed every 2 s, so at least one renewal meets the
// window, and the window ends before the Lease would expire).
BOOST_AUTO_TEST_CASE(lease_renewal_rides_out_a_window_of_403) {
  SimCluster cluster(4);
  cluster.wait_settled();
  const auto config = config_with(cluster, {{"  duration: ", "6s"}});
  BackgroundProcess agent(agent_argv(cluster, config, {"--apply"}));
  auto acquired = agent.wait_for_line(
      [](const std::string& l) { return l.find("\"lease.acquired\"") != std::string::npos; }, 120s);
  BOOST_TEST_REQUIRE(acquired.has_value(), agent.stderr_text());
  cluster.put_faults("forbidden=*:leases:3s");
  agent.wait_for_line([](const std::string&) { return false; }, 600s);  // to the end
  const int code = agent.stop(SIGTERM);
  BOOST_TEST(code == 0, agent.stderr_text());
  const auto& out = agent.stdout_lines();
  BOOST_TEST(std::any_of(out.begin(), out.end(),
                         [](const auto& l) {
                           return l.find("\"migration.completed\"") != std::string::npos;
                         }),
             agent.stderr_text());
  BOOST_TEST(forbidden_answers(cluster, "leases") > 0,
             "no Lease request met the 403 window: the test proved nothing");
  check_migrated(cluster, 1);
}

// Kubernetes 1.34 authorizes a WebSocket exec as `get pods/exec` only.
BOOST_AUTO_TEST_CASE(before_1_35_preflight_asks_get_pods_exec) {
  SimCluster cluster(2, {"--server-version", "1.34", "--faults", "forbidden=get:pods/exec"});
  cluster.wait_settled();
  check_denied(cluster, cluster.agent({"--apply"}), "get pods/exec");
}

// ... so lacking `create pods/exec` there is no problem: preflight passes
// and its probes run.
BOOST_AUTO_TEST_CASE(before_1_35_create_pods_exec_is_not_needed) {
  SimCluster cluster(2, {"--server-version", "1.34", "--faults", "forbidden=create:pods/exec"});
  cluster.wait_settled();
  const auto r = cluster.agent({"--apply", "--steps", "preflight"});
  BOOST_TEST(r.exit_code == 0, r.stderr_text);
  BOOST_TEST(named(r, "probe.passed").size() >= 1u, r.stdout_text);
}

// From 1.35 (AuthorizePodWebsocketUpgradeCreatePermission) it also needs `create`.
BOOST_AUTO_TEST_CASE(from_1_35_preflight_also_asks_create_pods_exec) {
  SimCluster cluster(2, {"--server-version", "1.35", "--faults", "forbidden=create:pods/exec"});
  cluster.wait_settled();
  check_denied(cluster, cluster.agent({"--apply"}), "create pods/exec");
}

// An admission webhook refuses the exec, so the access review passed: the
// probe's 403 is still a missing permission, reported at once, not five
// minutes of "pods cannot reach all peers".
BOOST_AUTO_TEST_CASE(a_probe_refused_with_403_is_a_missing_permission) {
  SimCluster cluster(2, {"--faults", "admission-denied=get:pods/exec"});
  cluster.wait_settled();
  const auto config = config_with(cluster, {{"  connectivity: ", "20s"}});
  const auto r = run_process(agent_argv(cluster, config, {"--apply"}), {}, 600s);
  check_denied(cluster, r, "get pods/exec");
  BOOST_TEST(forbidden_answers(cluster, "pods/exec") > 0);
}

// Plan mode asks no access review: the first list is where a missing
// permission shows.
BOOST_AUTO_TEST_CASE(a_list_refused_with_403_fails_preflight_at_once) {
  SimCluster cluster(2, {"--faults", "forbidden=list:nodes"});
  const auto r = cluster.agent({});
  BOOST_TEST(r.exit_code == 2, r.stderr_text);
  const auto failed = named(r, "preflight.failed");
  BOOST_TEST_REQUIRE(failed.size() == 1u, r.stdout_text);
  BOOST_TEST(error_of(failed[0]).find("list nodes") != std::string::npos, error_of(failed[0]));
  BOOST_TEST(named(r, "cluster.synced").empty());
}

BOOST_AUTO_TEST_CASE(a_watch_refused_with_403_fails_preflight_at_once) {
  SimCluster cluster(2, {"--faults", "forbidden=watch:statefulsets"});
  const auto r = cluster.agent({});
  BOOST_TEST(r.exit_code == 2, r.stderr_text);
  const auto failed = named(r, "preflight.failed");
  BOOST_TEST_REQUIRE(failed.size() == 1u, r.stdout_text);
  BOOST_TEST(error_of(failed[0]).find("watch apps/statefulsets") != std::string::npos,
             error_of(failed[0]));
}

BOOST_AUTO_TEST_CASE(a_list_refused_with_401_is_an_unreachable_cluster) {
  SimCluster cluster(2, {"--faults", "error-rate=1,error-verbs=list,error-status=401"});
  const auto r = cluster.agent({});
  BOOST_TEST(r.exit_code == 3, r.stderr_text);
  BOOST_TEST(named(r, "cluster.unreachable").size() == 1u, r.stdout_text);
  BOOST_TEST(named(r, "preflight.failed").empty());
}

// `--steps preflight` proves the cluster ready and migrates nothing; the
// rerun acquires the Lease the first run released.
BOOST_AUTO_TEST_CASE(preflight_only_says_so_and_a_rerun_takes_the_released_lease_quietly) {
  SimCluster cluster(2);
  cluster.wait_settled();
  for (int run = 1; run <= 2; ++run) {
    const auto r = cluster.agent({"--apply", "--steps", "preflight"});
    BOOST_TEST_REQUIRE(r.exit_code == 0, r.stderr_text);
    BOOST_TEST(r.stderr_text.find("step 0 (preflight) completed") != std::string::npos,
               r.stderr_text);
    BOOST_TEST(r.stderr_text.find("no node was migrated") != std::string::npos, r.stderr_text);
    BOOST_TEST(r.stderr_text.find("on Cilium") == std::string::npos, r.stderr_text);
    BOOST_TEST(r.stderr_text.find("taking over") == std::string::npos,
               "run " << run << ": " << r.stderr_text);
  }
}
