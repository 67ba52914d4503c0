// The e2e migration against a real control plane (kube-apiserver, etcd,
// kube-controller-manager, kube-scheduler) with `cnimig-sim --attach` as
// every node's kubelet and as the connectivity oracle. Referees: the
// agent's exit code and events, kubectl's view of the real cluster
// (check_migrated) and the attached simulator's /sim/v1/report.
#define BOOST_TEST_MODULE realcluster_migration
#include <algorithm>
#include <csignal>
#include <fstream>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "attached_sim_cluster.hpp"

using namespace cnimig::test;

namespace {

// The attached simulator ran every pod and saw the agent's knet-stress execs
// through the API server's WebSocket forwarding.
void check_attached(const SimCluster& cluster) {
  const auto report = cluster.report();
  const auto& attached = report.at("attached").as_object();
  BOOST_TEST(attached.at("attached").as_bool());
  BOOST_TEST(attached.at("writes_failed").as_int64() == 0, boost::json::serialize(attached));
  BOOST_TEST(attached.at("execs").as_int64() > 0, "no exec reached the kubelet port");
}

}  // namespace

BOOST_AUTO_TEST_CASE(full_migration_one_node_at_a_time) {
  AttachedSimCluster cluster(4);
  auto r = cluster.agent({"--apply"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.stderr_text);
  BOOST_TEST(has_event(events_of(r), "migration.completed"));
  check_migrated(cluster, 1);
  check_attached(cluster);
}

BOOST_AUTO_TEST_CASE(full_migration_two_nodes_at_a_time) {
  AttachedSimCluster cluster(4);
  auto r = cluster.agent({"--apply", "--max-parallel-nodes", "2", "--max-unavailable", "2"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.stderr_text);
  BOOST_TEST(has_event(events_of(r), "migration.completed"));
  check_migrated(cluster, 2);
  BOOST_TEST(cluster.report().at("cordoned").at("max_at_once").as_int64() >= 2,
             "nodes did run in parallel");
  check_attached(cluster);
}

// The shipped least-privilege identity (resources/agent-job.yaml's
// ClusterRole, checked by the real RBAC authorizer) is enough for a full run.
BOOST_AUTO_TEST_CASE(least_privilege_identity_migrates) {
  AttachedSimCluster cluster(4);
  cluster.use_agent_identity();
  auto r = cluster.agent({"--apply"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.stderr_text);
  check_migrated(cluster, 1);
}

// While one agent holds the Lease, another host's agent is refused with
// exit 4; the first one completes.
BOOST_AUTO_TEST_CASE(second_agent_is_refused_by_the_lease) {
  AttachedSimCluster cluster(4);
  BackgroundProcess first(cluster.agent_argv({"--apply"}));
  auto acquired =
      first.wait_for_line([](const std::string& l) { return is_event(l, "lease.acquired"); }, 120s);
  BOOST_TEST_REQUIRE(acquired.has_value(), first.diagnostics());
  // Another host: its own identity and its own runtime directory, so the
  // host lock (which refuses a second agent on one host first) is not shared.
  const auto other_host = cluster.dir / "other-host";
  fs::create_directories(other_host);
  auto other = run_process(
      cluster.agent_argv({"--apply"}),
      {"CNIMIG_LEASE_IDENTITY=other-host", "XDG_RUNTIME_DIR=" + other_host.string()}, 120s);
  BOOST_TEST(other.exit_code == 4, other.stderr_text);
  BOOST_TEST(other.stderr_text.find("holds Lease") != std::string::npos, other.stderr_text);
  auto done = first.wait_for_line(
      [](const std::string& l) { return is_event(l, "migration.completed"); }, 300s);
  BOOST_TEST_REQUIRE(done.has_value(), first.diagnostics());
  check_migrated(cluster, 1);
}

// SIGTERM mid-roll stops at a safe point (exit 143) and the rerun completes.
BOOST_AUTO_TEST_CASE(sigterm_then_resume) {
  AttachedSimCluster cluster(4);
  {
    BackgroundProcess agent(cluster.agent_argv({"--apply"}));
    auto mid = agent.wait_for_line(
        [](const std::string& l) { return is_event(l, "node.cordoned"); }, 300s);
    BOOST_TEST_REQUIRE(mid.has_value(), agent.diagnostics());
    BOOST_TEST(agent.stop(SIGTERM, std::chrono::seconds(300)) == 143, agent.stderr_text());
  }
  auto rerun = cluster.agent({"--apply"});
  BOOST_TEST_REQUIRE(rerun.exit_code == 0, rerun.stderr_text);
  check_migrated(cluster, 1);
}

// SIGKILL after the k-th event of a run (a sample of k), then a rerun
// completes with zero violations over the whole history.
BOOST_AUTO_TEST_CASE(crash_resume_sampled) {
  AttachedSimCluster cluster(4);
  for (int k : {15, 60}) {
    BackgroundProcess agent(cluster.agent_argv({"--apply"}));
    int seen = 0;
    auto kth = agent.wait_for_line(
        [&](const std::string& l) { return l.starts_with("{") && ++seen == k; }, 300s);
    BOOST_TEST_REQUIRE(kth.has_value(), "fewer than " << k << " events: " << agent.diagnostics());
    BOOST_TEST(agent.stop(SIGKILL) == 128 + SIGKILL);
  }
  auto rerun = cluster.agent({"--apply"});
  BOOST_TEST_REQUIRE(rerun.exit_code == 0, rerun.stderr_text);
  check_migrated(cluster, 1);
}

// Plan mode writes nothing: the API server's audit log is the referee (every
// request of the agent's user agent that reached it). Its dry-run checks are
// writes with dryRun=All, which the real server validates and admits without
// storing; they pass on a fresh cluster.
BOOST_AUTO_TEST_CASE(plan_mode_makes_zero_writes) {
  AttachedSimCluster cluster(4, {}, true);
  cluster.wait_settled();
  auto r = cluster.agent({});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.stderr_text);
  const auto events = events_of(r);
  BOOST_TEST(has_event(events, "plan.completed"));
  BOOST_TEST(std::count_if(events.begin(), events.end(), [](const auto& e) {
               return e.at("event").as_string() == "plan.action";
             }) > 20);
  std::ifstream audit(cluster.audit_log());
  std::size_t agent_requests = 0, dry_runs = 0;
  for (std::string line; std::getline(audit, line);) {
    const auto e = boost::json::parse(line).as_object();
    const auto* agent = e.if_contains("userAgent");
    if (!agent || !agent->as_string().starts_with("cnimig-agent"))
      continue;
    ++agent_requests;
    const std::string verb(e.at("verb").as_string());
    const std::string uri(e.at("requestURI").as_string());
    const auto* ref = e.if_contains("objectRef");
    const std::string resource(ref ? ref->at("resource").as_string() : "");
    if (verb == "get" || verb == "list" || verb == "watch" ||
        resource == "selfsubjectaccessreviews")
      continue;
    if (uri.find("dryRun=All") != std::string::npos) {
      ++dry_runs;
      continue;
    }
    BOOST_TEST(false, "plan mode wrote: " << verb << " " << uri);
  }
  BOOST_TEST(agent_requests > 0u, "the audit log saw no request of the agent");
  BOOST_TEST_MESSAGE(agent_requests << " agent requests, " << dry_runs << " dry runs");
}
