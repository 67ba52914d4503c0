#define BOOST_TEST_MODULE agent migration at scale
// Issue 16: a whole migration of CNIMIG_BENCH_NODES nodes (default 5,000) with
// 30 application pods each, 5% of the nodes at a time (--max-parallel-nodes
// 250 --max-unavailable 5%; the budget rounds down, so 100 nodes go 5 at a
// time), sampled connectivity checks (connectivity.sampleNodes,
// CNIMIG_BENCH_SAMPLE_NODES, default 50), the simulator at --time-scale
// CNIMIG_BENCH_TIME_SCALE (default 0.01). The agent and cnimig-sim are each
// their own process, as an operator runs them. Correctness is asserted (the
// migration completed, the cluster is migrated and clean, zero connectivity
// violations, never more nodes cordoned than the budget); wall time never is.
// Printed, `metric_name value unit`: the makespan against the simulator's
// lower bound, the API requests per migrated node by verb, probe execs per
// migrated node and the agent's peak RSS. CNIMIG_BENCH_LIMIT_S stops the
// agent (SIGTERM) after that many seconds; the figures then say how far it got.
// CNIMIG_BENCH_EVENTS_OUT=FILE keeps the agent's events.
#include <algorithm>
#include <map>
#include <set>

#include <boost/test/unit_test.hpp>

#include "scale_cluster.hpp"

using namespace cnimig::bench;

namespace {

// What the agent's event stream says about a run.
struct EventTally {
  std::int64_t makespan_ms = -1;   // migration.completed duration_ms
  std::set<std::string> migrated;  // nodes whose phase reached "migrated"
  std::map<std::string, std::int64_t> step_ms;
  std::int64_t checks = 0, failed_rounds = 0;
  std::int64_t eviction_blocked = 0;  // pod.eviction_blocked: pods a budget refused at least once
  std::string halted;

  static EventTally of(const fs::path& out) {
    EventTally t;
    std::ifstream in(out);
    std::string line;
    while (std::getline(in, line)) {
      const auto e = boost::json::parse(line).as_object();
      const auto name = e.at("event").as_string();
      if (name == "node.phase" && e.at("phase").as_string() == "migrated")
        t.migrated.insert(std::string(e.at("node").as_string()));
      else if (name == "step.completed")
        t.step_ms[std::string(e.at("step").as_string())] = number(e.at("duration_ms"));
      else if (name == "probe.passed")
        ++t.checks;
      else if (name == "probe.failed")
        ++t.failed_rounds;
      else if (name == "pod.eviction_blocked")
        ++t.eviction_blocked;
      else if (name == "migration.completed")
        t.makespan_ms = number(e.at("duration_ms"));
      else if (name == "migration.halted")
        t.halted = std::string(e.at("error").as_string());
    }
    return t;
  }
};

// The agent's requests between two reports, by "verb resource".
std::map<std::string, std::int64_t> agent_requests(const boost::json::object& before,
                                                   const boost::json::object& after) {
  const auto mine = [](const boost::json::object& r) {
    const auto* m = r.at("requests_by_client").as_object().if_contains("cnimig-agent");
    return m != nullptr ? m->as_object() : boost::json::object{};
  };
  std::map<std::string, std::int64_t> out;
  const auto b = mine(before);
  for (const auto& [key, value] : mine(after)) {
    const auto* was = b.if_contains(key);
    out[std::string(key)] = number(value) - (was != nullptr ? number(*was) : 0);
  }
  return out;
}

}  // namespace

BOOST_AUTO_TEST_CASE(migration_at_5000_nodes) {
  const auto nodes = static_cast<int>(env_double("CNIMIG_BENCH_NODES", 5000));
  const auto per_node = static_cast<int>(env_double("CNIMIG_BENCH_PODS_PER_NODE", 30));
  const auto time_scale = env_double("CNIMIG_BENCH_TIME_SCALE", 0.01);
  const auto sample = static_cast<int>(env_double("CNIMIG_BENCH_SAMPLE_NODES", 50));
  const auto limit =
      std::chrono::seconds(static_cast<std::int64_t>(env_double("CNIMIG_BENCH_LIMIT_S", 6 * 3600)));
  // --max-unavailable 5% rounds down (minimum 1); --max-parallel-nodes 250.
  const auto budget = std::max(1, nodes * 5 / 100);
  const auto parallel = std::min(250, budget);

  const auto t0 = std::chrono::steady_clock::now();
  ScaleCluster cluster(nodes, per_node, time_scale);
  figure("scale_sim_pods", static_cast<double>(cluster.wait_pods_ready(std::chrono::minutes(40))),
         "pods");
  figure("scale_nodes", nodes, "nodes");
  figure("scale_parallel_nodes", parallel, "nodes");
  figure("scale_sim_settle_s",
         std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), "s");
  // Installing knet-stress on thousands of nodes (preflight's first check
  // waits for 2 pods a node) takes longer than the default 5 minutes here,
  // as an operator of such a cluster would set it.
  cluster.edit_config({{"  # sampleNodes: 20", "  sampleNodes: " + std::to_string(sample)},
                       {"  connectivity: 5m", "  connectivity: 30m"}});

  const auto before = cluster.try_report();
  BOOST_TEST_REQUIRE(before.has_value());
  const auto out = cluster.dir / "agent.out";
  const auto run = run_measured(
      cluster.agent_argv({"--apply", "--max-parallel-nodes", "250", "--max-unavailable", "5%"}),
      out, limit);
  const auto after = cluster.try_report();
  BOOST_TEST_REQUIRE(after.has_value());
  const auto tally = EventTally::of(out);
  // CNIMIG_BENCH_EVENTS_OUT: keep the agent's event stream (the scratch
  // directory goes with the cluster) to see where the time went.
  if (const char* keep = std::getenv("CNIMIG_BENCH_EVENTS_OUT"))
    fs::copy_file(out, keep, fs::copy_options::overwrite_existing);

  const auto migrated = static_cast<double>(tally.migrated.size());
  figure("scale_agent_exit_code", run.exit_code, "code");
  figure("scale_agent_s", run.seconds, "s");
  figure("scale_nodes_migrated", migrated, "nodes");
  figure("scale_agent_events", static_cast<double>(run.stdout_lines), "lines");
  for (const auto& [step, ms] : tally.step_ms)
    figure("scale_step_" + step + "_ms", static_cast<double>(ms), "ms");

  // The makespan against the simulator's bound at this parallelism.
  // The cluster the migration started from: afterwards a budget may count
  // pods still going.
  const auto& bound = before->at("makespan_lower_bound").as_object();
  const auto batches = (nodes + parallel - 1) / parallel;
  // Each draining step takes at least its node batches and at least what
  // the longest PodDisruptionBudget allows (src/sim/makespan_bound.cpp).
  const auto ms = [&](const char* key) {
    return bound.contains(key) ? bound.at(key).to_number<double>() : 0.0;
  };
  const auto nodes_only =
      ms("preflight_ms") + ms("prepare_ms") +
      batches * (ms("roll_node_ms") + ms("priority_node_ms") + ms("migrate_node_ms"));
  double lower = ms("preflight_ms") + ms("prepare_ms");
  for (const char* step : {"roll_node_ms", "priority_node_ms", "migrate_node_ms"})
    lower += std::max(batches * ms(step), ms("budget_step_ms"));
  figure("scale_makespan_bound_nodes_only_ms", nodes_only, "ms");
  figure("scale_makespan_ms", static_cast<double>(tally.makespan_ms), "ms");
  figure("scale_makespan_bound_ms", lower, "ms");
  figure("scale_makespan_ratio", static_cast<double>(tally.makespan_ms) / lower, "x");

  // The agent's API requests (User-Agent cnimig-agent) per migrated node.
  const auto per_node_of = [&](std::int64_t n) {
    return migrated > 0 ? static_cast<double>(n) / migrated : 0.0;
  };
  std::map<std::string, std::int64_t> by_verb;
  std::int64_t total = 0, execs = 0;
  for (const auto& [key, n] : agent_requests(*before, *after)) {
    by_verb[key.substr(0, key.find(' '))] += n;
    total += n;
    if (key.ends_with(" pods/exec"))
      execs += n;
  }
  for (const auto& [verb, n] : by_verb)
    figure("scale_api_" + verb + "_per_node", per_node_of(n), "requests/node");
  figure("scale_api_total_per_node", per_node_of(total), "requests/node");
  figure("scale_execs_per_node", per_node_of(execs), "execs/node");
  figure("scale_checks", static_cast<double>(tally.checks), "checks");
  // Evictions: how many the agent asked for, how many a budget refused (the
  // simulator's 429s), and how many pods were refused at least once.
  const auto report_delta = [&](const char* key) {
    return number(after->at(key)) - number(before->at(key));
  };
  const auto evictions = agent_requests(*before, *after)["create pods/eviction"];
  figure("scale_evictions_per_node", per_node_of(evictions), "requests/node");
  figure("scale_evictions_refused", static_cast<double>(report_delta("evictions_blocked")),
         "requests");
  figure("scale_pods_eviction_blocked", static_cast<double>(tally.eviction_blocked), "pods");
  figure("scale_failed_check_rounds", static_cast<double>(tally.failed_rounds), "rounds");

  figure("scale_agent_vmhwm_mib", static_cast<double>(run.vm_hwm_kib) / 1024, "MiB");
  figure("scale_agent_maxrss_mib", static_cast<double>(run.ru_maxrss_kib) / 1024, "MiB");
  const auto& violations = after->at("violations").as_object();
  figure("scale_violations", static_cast<double>(number(violations.at("episodes"))), "episodes");
  figure("scale_cordoned_max_at_once",
         static_cast<double>(number(after->at("cordoned").at("max_at_once"))), "nodes");

  BOOST_TEST(tally.halted.empty(), tally.halted);
  BOOST_TEST_REQUIRE(run.exit_code == 0);
  BOOST_TEST(tally.makespan_ms > 0);
  BOOST_TEST(migrated == nodes);
  cnimig::test::check_migrated(cluster, static_cast<unsigned>(budget));
}
