#define BOOST_TEST_MODULE agent peak RSS at scale
// Issue 7 (e), test/bench/README.md: the agent's peak RSS against a cnimig-sim
// of 5,000 nodes and 150,000 application pods (30 per node; override with
// CNIMIG_BENCH_RSS_NODES / CNIMIG_BENCH_RSS_PODS_PER_NODE). The simulator runs
// as its own process (it needs ~1.5 GB and minutes to settle); the agent runs
// in plan mode (all its watches synced, one node's plan computed) and, with
// CNIMIG_BENCH_RSS_APPLY=1, with --apply --steps preflight-prepare as well.
// Peak RSS is the kernel's: VmHWM from /proc/<pid>/status while the agent runs,
// and ru_maxrss from wait4() when it exits.
#include <boost/test/unit_test.hpp>

#include "scale_cluster.hpp"

using namespace cnimig::bench;

namespace {

// CNIMIG_BENCH_RSS_AGENT and CNIMIG_BENCH_RSS_CONFIG: another agent binary
// and its config (an earlier build, for a before/after comparison).
std::vector<std::string> agent_argv(const ScaleCluster& cluster, std::vector<std::string> args) {
  const char* agent = std::getenv("CNIMIG_BENCH_RSS_AGENT");
  const char* config = std::getenv("CNIMIG_BENCH_RSS_CONFIG");
  args.insert(args.begin(), {agent != nullptr ? agent : CNIMIG_AGENT_BIN, "--config",
                             config != nullptr ? config : cluster.config, "--kubeconfig",
                             cluster.kubeconfig.string()});
  return args;
}

// The simulator's peaks so far (connections open at once, requests held at
// once): monotonic over its life, so each figure covers every run before it.
void connection_figures(const ScaleCluster& cluster, const std::string& prefix) {
  const auto r = cluster.try_report();
  if (!r || !r->contains("connections"))
    return;
  const auto& c = r->at("connections").as_object();
  figure(prefix + "_sim_peak_connections", c.at("peak_open").to_number<double>(), "connections");
  figure(prefix + "_sim_connections_accepted", c.at("accepted").to_number<double>(), "connections");
  figure(prefix + "_sim_peak_requests_in_progress",
         c.at("peak_requests_in_progress").to_number<double>(), "requests");
}

}  // namespace

BOOST_AUTO_TEST_CASE(agent_peak_rss_at_5000_nodes) {
  const auto nodes = static_cast<int>(env_double("CNIMIG_BENCH_RSS_NODES", 5000));
  const auto per_node = static_cast<int>(env_double("CNIMIG_BENCH_RSS_PODS_PER_NODE", 30));
  const auto t0 = std::chrono::steady_clock::now();
  ScaleCluster cluster(nodes, per_node, 0.05);
  figure("rss_sim_pods", static_cast<double>(cluster.wait_pods_ready(std::chrono::minutes(40))),
         "pods");
  figure("rss_nodes", nodes, "nodes");
  figure("rss_sim_settle_s",
         std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), "s");

  // The watches alone: a plan of preflight only (no migration planned).
  const auto sync =
      run_measured(agent_argv(cluster, {"--steps", "preflight"}), cluster.dir / "sync.out");
  figure("rss_agent_sync_exit_code", sync.exit_code, "code");
  figure("rss_agent_sync_vmhwm_mib", static_cast<double>(sync.vm_hwm_kib) / 1024, "MiB");
  figure("rss_agent_sync_s", sync.seconds, "s");
  connection_figures(cluster, "rss_agent_sync");

  // Plan mode syncs every watch and plans from the whole snapshot; --nodes
  // keeps the plan itself to one node's actions (a plan of all 5,000 nodes
  // re-evaluates the cluster once per simulated action and takes hours).
  const auto plan =
      run_measured(agent_argv(cluster, {"--nodes", "node-1"}), cluster.dir / "plan.out");
  // 0: plan printed; 1: the plan halts (reason on stderr). Either way the
  // agent synced every watch and planned, which is what is measured.
  BOOST_TEST((plan.exit_code == 0 || plan.exit_code == 1));
  figure("rss_agent_plan_exit_code", plan.exit_code, "code");
  figure("rss_agent_plan_vmhwm_mib", static_cast<double>(plan.vm_hwm_kib) / 1024, "MiB");
  figure("rss_agent_plan_maxrss_mib", static_cast<double>(plan.ru_maxrss_kib) / 1024, "MiB");
  figure("rss_agent_plan_s", plan.seconds, "s");
  figure("rss_agent_plan_events", static_cast<double>(plan.stdout_lines), "lines");
  connection_figures(cluster, "rss_agent_plan");

  if (env_double("CNIMIG_BENCH_RSS_APPLY", 0) != 0) {
    const auto apply =
        run_measured(agent_argv(cluster, {"--apply", "--steps", "preflight-prepare"}),
                     cluster.dir / "apply.out");
    figure("rss_agent_apply_exit_code", apply.exit_code, "code");
    figure("rss_agent_apply_vmhwm_mib", static_cast<double>(apply.vm_hwm_kib) / 1024, "MiB");
    figure("rss_agent_apply_maxrss_mib", static_cast<double>(apply.ru_maxrss_kib) / 1024, "MiB");
    figure("rss_agent_apply_s", apply.seconds, "s");
    connection_figures(cluster, "rss_agent_apply");
  }
}
