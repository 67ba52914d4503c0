#define BOOST_TEST_MODULE plan at scale
// Plan mode's cost on a large cluster: run_plan (next_actions plus the
// effects model, what `cnimig-agent` without --apply runs after its watches
// have synced) over a whole migration of CNIMIG_BENCH_PLAN_NODES nodes
// (default 5,000) with CNIMIG_BENCH_PLAN_PODS_PER_NODE application pods each
// (default 30: 150,000 pods), at the default budget of one node at a time.
// Prints `metric value unit` lines; asserts only that the plan completes.
//
// Its cost should grow linearly with the nodes: the same process first plans
// CNIMIG_BENCH_PLAN_BASE_NODES nodes (default 500; 0 skips it) and prints
// plan_ratio, plan(nodes) / plan(base), beside the node ratio (a linear plan
// has plan_ratio close to it; both runs share the machine's load).
#include <chrono>
#include <cstdlib>
#include <iostream>

#include <boost/test/unit_test.hpp>

#include "cnimig/migrate/planner.hpp"
#include "cnimig/migrate/simulated_effects.hpp"

#include "cluster_fixture.hpp"

using namespace cnimig::migrate;
using namespace cnimig::migrate::test;

namespace {

std::size_t env_size(const char* name, std::size_t fallback) {
  const char* v = std::getenv(name);
  return v != nullptr ? static_cast<std::size_t>(std::atol(v)) : fallback;
}

void figure(const std::string& name, double value, const std::string& unit) {
  std::cout << name << ' ' << value << ' ' << unit << std::endl;
}

// The fixture cluster with `per_node` application pods on each node.
PlanState cluster(const MigrationSettings& s, std::size_t nodes, std::size_t per_node) {
  FixtureOptions o;
  o.nodes = nodes;
  o.knet_stress_installed = true;
  auto snap = make_cluster(s, o);
  for (auto& [name, n] : snap.nodes) {
    for (std::size_t i = 0; i < per_node; ++i) {
      PodState p;
      p.ns = "apps";
      p.name = "app-" + name + "-" + std::to_string(i);
      p.uid = "uid-" + p.name;
      p.owner_kind = "ReplicaSet";
      p.owner_name = "app-5d8f7c";
      p.created = 100;
      n.pods.push_back(std::move(p));
    }
  }
  return snap;
}

// Plans a whole migration of `nodes` nodes, prints its figures (prefixed
// with `prefix`) and returns its wall time in seconds.
double plan(const std::string& prefix, std::size_t nodes, std::size_t per_node) {
  const auto s = MigrationSettings::defaults();
  auto snap = cluster(s, nodes, per_node);
  std::size_t pods = 0;
  for (const auto& [name, n] : snap.nodes)
    pods += n.pods.size();
  figure(prefix + "nodes", static_cast<double>(nodes), "nodes");
  figure(prefix + "pods", static_cast<double>(pods), "pods");
  const auto t0 = std::chrono::steady_clock::now();
  const auto run = run_plan(std::move(snap), s, Budget{1, 1}, Selection{}, SimulatedEffects(s),
                            100 * nodes + 100000);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  figure(prefix + "seconds", seconds, "s");
  figure(prefix + "actions", static_cast<double>(run.actions.size()), "actions");
  figure(prefix + "rounds", static_cast<double>(run.rounds), "rounds");
  BOOST_TEST_REQUIRE(run.outcome.has_value());
  BOOST_TEST(std::holds_alternative<Done>(*run.outcome), describe(*run.outcome));
  return seconds;
}

}  // namespace

BOOST_AUTO_TEST_CASE(whole_plan) {
  const auto nodes = env_size("CNIMIG_BENCH_PLAN_NODES", 5000);
  const auto base = env_size("CNIMIG_BENCH_PLAN_BASE_NODES", 500);
  const auto per_node = env_size("CNIMIG_BENCH_PLAN_PODS_PER_NODE", 30);
  const double base_seconds = base > 0 ? plan("plan_base_", base, per_node) : 0.0;
  const double seconds = plan("plan_", nodes, per_node);
  if (base > 0 && base_seconds > 0) {
    figure("plan_node_ratio", static_cast<double>(nodes) / static_cast<double>(base), "x");
    figure("plan_ratio", seconds / base_seconds, "x");
  }
}
