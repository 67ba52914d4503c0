// One call of the core on a large cluster (test/bench/README.md: 5,000 nodes,
// 150,000 pods): the driver calls it on every relevant change, so it must stay
// well within the 50 ms reaction budget in an optimised build.

#define BOOST_TEST_MODULE migrate_scale
#include <chrono>

#include <boost/test/unit_test.hpp>

#include "cnimig/migrate/planner.hpp"
#include "cnimig/migrate/simulated_effects.hpp"

#include "cluster_fixture.hpp"

using namespace cnimig::migrate;
using namespace cnimig::migrate::test;

BOOST_AUTO_TEST_CASE(five_thousand_nodes) {
  const auto s = MigrationSettings::defaults();
  FixtureOptions o;
  o.nodes = 5000;
  o.knet_stress_installed = true;
  auto snap = make_cluster(s, o);
  // 30 pods per node: 150,000 in all.
  for (auto& [name, n] : snap.nodes) {
    while (n.pods.size() < 30) {
      PodState p;
      p.ns = "apps";
      p.name = "app-" + name + "-" + std::to_string(n.pods.size());
      p.owner_kind = "ReplicaSet";
      p.owner_name = "app-1234";
      p.created = 100;
      n.pods.push_back(std::move(p));
    }
  }
  // Prepared by hand (the effects model reconciles every DaemonSet on every
  // node per action, too slow for 5,000 labels): every node runs both CNIs.
  for (auto& [name, n] : snap.nodes) {
    n.labels[s.labels.calico_cilium] = s.labels.value;
    n.labels[s.labels.cni_priority_calico] = s.labels.value;
  }
  snap.workloads[s.source_cni].node_selector[s.labels.calico_cilium] = s.labels.value;
  for (const auto& ref : {s.cilium(), s.multus_calico(), s.multus_cilium()}) {
    snap.workloads[ref] = WorkloadState{true, true, {}, {}};
  }
  snap.workloads[s.cilium_migrated()] =
      WorkloadState{true, true, {{s.labels.cilium, s.labels.value}}, {}};
  snap.applied_bundles = {s.bundles.cilium, s.bundles.multus, s.bundles.knet_stress};
  snap.last_check = check_result(true, snap.write_generation, "");
  SimulatedEffects effects(s);
  // Start 10 nodes and cordon them: the next call evicts from all ten.
  Budget budget{10, 10};
  for (int round = 0; round < 2; ++round) {
    auto d = next_actions(snap, s, budget, Selection{});
    BOOST_TEST_REQUIRE((d.current_step == StepId::roll));
    for (const auto& a : d.actions())
      effects.apply(snap, a);
  }
  const int calls = 20;
  auto start = std::chrono::steady_clock::now();
  std::size_t actions = 0;
  for (int i = 0; i < calls; ++i)
    actions += next_actions(snap, s, budget, Selection{}).actions().size();
  auto per_call = std::chrono::duration_cast<std::chrono::microseconds>(
                      std::chrono::steady_clock::now() - start) /
                  calls;
  BOOST_TEST_MESSAGE("next_actions on 5000 nodes / 150000 pods: "
                     << per_call.count() << " us per call, " << actions / calls << " actions");
  BOOST_TEST(actions > 0u);
}
