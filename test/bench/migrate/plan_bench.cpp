#define BOOST_TEST_MODULE plan at scale
// Plan mode's cost on a large cluster: run_plan (next_actions plus the
// effects model, what `cnimig-agent` without --apply runs after its watches
// have synced) over a whole migration of CNIMIG_BENCH_PLAN_NODES nodes
// (default 5,000) with CNIMIG_BENCH_PLAN_PODS_PER_NODE application pods each
// (default 30: 150,000 pods), at the default budget of one node at a time.
// Prints `metric value unit` lines; asserts only that the plan completes.
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

}  // namespace

BOOST_AUTO_TEST_CASE(whole_plan) {
  const auto nodes = env_size("CNIMIG_BENCH_PLAN_NODES", 5000);
  const auto per_node = env_size("CNIMIG_BENCH_PLAN_PODS_PER_NODE", 30);
  const auto s = MigrationSettings::defaults();
  FixtureOptions o;
  o.nodes = nodes;
  o.knet_stress_installed = true;
  auto snap = make_cluster(s, o);
  std::size_t pods = 0;
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
    pods += n.pods.size();
  }
  figure("plan_nodes", static_cast<double>(nodes), "nodes");
  figure("plan_pods", static_cast<double>(pods), "pods");
  const auto t0 = std::chrono::steady_clock::now();
  const auto run = run_plan(std::move(snap), s, Budget{1, 1}, Selection{}, SimulatedEffects(s),
                            100 * nodes + 100000);
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  figure("plan_seconds", seconds, "s");
  figure("plan_actions", static_cast<double>(run.actions.size()), "actions");
  figure("plan_rounds", static_cast<double>(run.rounds), "rounds");
  BOOST_TEST_REQUIRE(run.outcome.has_value());
  BOOST_TEST(std::holds_alternative<Done>(*run.outcome), describe(*run.outcome));
}
