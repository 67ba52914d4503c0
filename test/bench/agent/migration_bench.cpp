#define BOOST_TEST_MODULE agent migration benchmarks
// Issue 7's benchmarks (a), (b) and (c), test/bench/README.md, each against a
// fresh in-process cnimig-sim of the same shape (CNIMIG_BENCH_NODES nodes,
// 2 application pods per node, --time-scale CNIMIG_BENCH_TIME_SCALE):
//  (a) API requests, per migrated node and in total: the agent against a
//      list-and-sleep baseline making the same core decisions;
//  (b) reaction: watch event -> next write, p50/p99 over full migrations;
//  (c) makespan at --max-parallel-nodes 1 and 3 against the simulator's
//      lower bound (/sim/v1/report `makespan_lower_bound`).
// Figures are printed one per line, `metric_name value unit`. Wall time is
// never asserted; the migrations' correctness is.
#include <algorithm>
#include <map>

#include "cnimig/agent/agent_run.hpp"

#include "bench_support.hpp"
#include "polling_migrator.hpp"

using namespace cnimig;
using namespace cnimig::bench;

namespace {

std::size_t nodes() {
  return static_cast<std::size_t>(env_double("CNIMIG_BENCH_NODES", 6));
}
double time_scale() {
  return env_double("CNIMIG_BENCH_TIME_SCALE", 0.2);
}
constexpr std::size_t kPodsPerNode = 2;

struct EngineRun {
  int exit_code = -1;
  std::vector<boost::json::object> events;
  boost::json::object report;  // after the run
  RequestCounts requests;      // during the run
  std::int64_t pod_deletes = 0, evictions = 0, execs = 0;
};

void check_clean(const boost::json::object& report) {
  BOOST_TEST(number(report.at("violations").at("max_concurrent")) == 0,
             boost::json::serialize(report.at("violations")));
}

// One full migration by the agent at `parallel` nodes at a time (memoised:
// (a), (b) and (c) share the runs).
const EngineRun& engine_run(unsigned parallel) {
  static std::map<unsigned, EngineRun> runs;
  if (auto it = runs.find(parallel); it != runs.end())
    return it->second;
  InProcessSim sim(nodes(), kPodsPerNode, time_scale());
  sim.wait_settled(std::chrono::seconds(300));
  agent::AgentRunOptions options;
  options.config = default_config();
  // A failing check halts after one minute, not five.
  options.config.timeouts.connectivity = std::chrono::seconds(60);
  options.config.parallelism.max_parallel_nodes = parallel;
  // Sampled checks (connectivity.sampleNodes) when CNIMIG_BENCH_SAMPLE_NODES > 0.
  if (const auto sample = env_double("CNIMIG_BENCH_SAMPLE_NODES", 0); sample > 0)
    options.config.connectivity.sample_nodes = static_cast<unsigned>(sample);
  options.config.parallelism.max_unavailable = config::MaxUnavailable{parallel, false};
  options.apply = true;
  options.kubeconfig = sim.kubeconfig;
  const auto before = sim.report();
  CaptureSink sink;
  EngineRun run;
  run.exit_code = agent::run_agent(options, sink);
  run.report = sim.report();
  run.events = std::move(sink.events);
  run.requests = RequestCounts::of(run.report) - RequestCounts::of(before);
  const auto& req = run.report.at("requests").as_object();
  const auto& req0 = before.at("requests").as_object();
  const auto count = [](const boost::json::object& r, const char* k) {
    return r.contains(k) ? number(r.at(k)) : 0;
  };
  run.pod_deletes = count(req, "delete pods") - count(req0, "delete pods");
  run.evictions = count(req, "create pods/eviction") - count(req0, "create pods/eviction");
  run.execs = count(req, "get pods/exec") - count(req0, "get pods/exec");
  if (run.exit_code != 0) {
    for (std::size_t i = run.events.size() > 40 ? run.events.size() - 40 : 0; i < run.events.size();
         ++i)
      std::cerr << boost::json::serialize(run.events[i]) << "\n";
  }
  BOOST_TEST_REQUIRE(run.exit_code == 0);
  check_clean(run.report);
  return runs.emplace(parallel, std::move(run)).first->second;
}

const boost::json::object* find_event(const std::vector<boost::json::object>& events,
                                      std::string_view name) {
  for (const auto& e : events)
    if (e.at("event").as_string() == name)
      return &e;
  return nullptr;
}

}  // namespace

BOOST_AUTO_TEST_CASE(api_requests_engine_vs_polling_baseline) {
  const auto n = static_cast<double>(nodes());
  const auto& engine = engine_run(1);

  // The baseline on a fresh cluster of the same shape, polling every 2 s of
  // simulated time (the interval scales with the cluster's delays).
  const auto poll_sim_s = env_double("CNIMIG_BENCH_POLL_S", 2.0);
  const auto interval =
      std::chrono::milliseconds(static_cast<std::int64_t>(poll_sim_s * 1000 * time_scale()));
  InProcessSim sim(nodes(), kPodsPerNode, time_scale());
  sim.wait_settled(std::chrono::seconds(300));
  const auto before = sim.report();
  auto config = default_config();
  const auto baseline =
      run_polling_migrator(config, sim.kubeconfig, interval, std::chrono::minutes(30));
  const auto after = sim.report();
  BOOST_TEST_REQUIRE(baseline.completed, baseline.reason);
  check_clean(after);
  const auto base = RequestCounts::of(after) - RequestCounts::of(before);

  figure("api_nodes", n, "nodes");
  figure("api_engine_reads", static_cast<double>(engine.requests.reads), "requests");
  figure("api_engine_writes", static_cast<double>(engine.requests.writes), "requests");
  figure("api_engine_total", static_cast<double>(engine.requests.total()), "requests");
  figure("api_engine_per_node", static_cast<double>(engine.requests.total()) / n, "requests/node");
  figure("api_engine_reads_per_node", static_cast<double>(engine.requests.reads) / n,
         "requests/node");
  figure("api_engine_pod_deletes", static_cast<double>(engine.pod_deletes), "requests");
  figure("api_engine_evictions", static_cast<double>(engine.evictions), "requests");
  figure("api_baseline_poll_interval", poll_sim_s, "s_simulated");
  figure("api_baseline_polls", static_cast<double>(baseline.polls), "polls");
  figure("api_baseline_reads", static_cast<double>(base.reads), "requests");
  figure("api_baseline_writes", static_cast<double>(base.writes), "requests");
  figure("api_baseline_total", static_cast<double>(base.total()), "requests");
  figure("api_baseline_per_node", static_cast<double>(base.total()) / n, "requests/node");
  figure("api_baseline_reads_per_node", static_cast<double>(base.reads) / n, "requests/node");
  figure("api_ratio_baseline_over_engine_total",
         static_cast<double>(base.total()) / static_cast<double>(engine.requests.total()), "x");
  figure("api_ratio_baseline_over_engine_reads",
         static_cast<double>(base.reads) / static_cast<double>(engine.requests.reads), "x");
}

BOOST_AUTO_TEST_CASE(reaction_latency_event_to_next_write) {
  std::vector<double> samples;
  for (unsigned parallel : {1u, 3u}) {
    for (const auto& e : engine_run(parallel).events) {
      if (const auto* r = e.if_contains("reaction_ms"))
        samples.push_back(r->to_number<double>());
    }
  }
  BOOST_TEST_REQUIRE(!samples.empty());
  figure("reaction_samples", static_cast<double>(samples.size()), "wakes");
  figure("reaction_p50_ms", percentile(samples, 0.50), "ms");
  figure("reaction_p99_ms", percentile(samples, 0.99), "ms");
  figure("reaction_max_ms", percentile(samples, 1.0), "ms");
}

BOOST_AUTO_TEST_CASE(makespan_vs_simulator_lower_bound) {
  for (unsigned parallel : {1u, 3u}) {
    const auto& run = engine_run(parallel);
    const auto* done = find_event(run.events, "migration.completed");
    BOOST_TEST_REQUIRE(done != nullptr);
    const auto makespan = static_cast<double>(number(done->at("duration_ms")));
    const auto& bound = run.report.at("makespan_lower_bound").as_object();
    const auto lower =
        bound.at("by_parallelism_ms").at(std::to_string(parallel)).to_number<double>();
    const auto p = "makespan_p" + std::to_string(parallel);
    figure(p + "_ms", makespan, "ms");
    figure(p + "_bound_ms", lower, "ms");
    figure(p + "_ratio", makespan / lower, "x");
    // What the gates cost: passing checks, and probe execs, per node.
    const auto checks = std::count_if(run.events.begin(), run.events.end(), [](const auto& e) {
      return e.at("event").as_string() == "probe.passed";
    });
    figure(p + "_checks_per_node", static_cast<double>(checks) / static_cast<double>(nodes()),
           "checks/node");
    const auto retried = std::count_if(run.events.begin(), run.events.end(), [](const auto& e) {
      return e.at("event").as_string() == "probe.failed";
    });
    figure(p + "_failed_check_rounds", static_cast<double>(retried), "rounds");
    figure(p + "_execs_per_node", static_cast<double>(run.execs) / static_cast<double>(nodes()),
           "execs/node");
    // Where the time goes: each step's duration, next to its share of the bound.
    for (const auto& e : run.events) {
      if (e.at("event").as_string() == "step.completed")
        figure(p + "_step_" + std::string(e.at("step").as_string()) + "_ms",
               static_cast<double>(number(e.at("duration_ms"))), "ms");
    }
    if (parallel == 1) {
      for (const char* k :
           {"preflight_ms", "prepare_ms", "roll_node_ms", "priority_node_ms", "migrate_node_ms"})
        figure(std::string("makespan_bound_") + k, bound.at(k).to_number<double>(), "ms");
    }
  }
}
