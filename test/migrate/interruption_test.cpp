// Drive the core to the end with the effects model; then, for every prefix
// of that action list, throw away all in-memory state, call the core fresh on
// the resulting snapshot and drive it to the end: the end state is the same
// every time, and the ordering safety property and the budget hold after
// every single action of every run.

#define BOOST_TEST_MODULE migrate_interruption
#include <boost/test/unit_test.hpp>

#include "cnimig/migrate/planner.hpp"
#include "cnimig/migrate/simulated_effects.hpp"

#include "cluster_fixture.hpp"

using namespace cnimig::migrate;
using namespace cnimig::migrate::test;

namespace {

void check_end_state(const ClusterSnapshot& end, const MigrationSettings& s,
                     const std::set<std::string>& admin_cordoned) {
  for (const auto& [name, n] : end.nodes) {
    for (const auto& key : s.labels.all())
      BOOST_TEST(!n.labels.contains(key), name << " " << key);
    BOOST_TEST(n.annotations.empty(), name);
    BOOST_TEST(n.taints.empty(), name);
    BOOST_TEST(n.unschedulable == admin_cordoned.contains(name), name);
    bool cilium = false;
    for (const auto& p : n.pods) {
      if (p.owner_name == s.cilium_migrated_daemon_set)
        cilium = true;
      BOOST_TEST(p.owner_name != s.source_cni.name, name);
      BOOST_TEST(p.owner_name != s.cilium_daemon_set, name);
      BOOST_TEST(p.owner_name.str().find("multus") == std::string::npos, name);
    }
    BOOST_TEST(cilium, name << " runs cilium-migrated");
  }
  BOOST_TEST(!end.exists(s.source_cni));
  BOOST_TEST(!end.exists(s.cilium()));
  BOOST_TEST(!end.exists(s.multus_calico()));
  BOOST_TEST(!end.exists(s.multus_cilium()));
  BOOST_TEST(end.exists(s.cilium_migrated()));
  BOOST_TEST(end.workload(s.cilium_migrated())->node_selector.empty());
  BOOST_TEST(end.unscheduled_pods.empty());
}

void interruption_sweep(Budget budget, FixtureOptions options) {
  const auto s = MigrationSettings::defaults();
  const SimulatedEffects effects(s);
  const auto start = make_cluster(s, options);

  SafetyMonitor reference_monitor(s, budget, options.cordoned);
  auto reference = run_plan(
      start, s, budget, Selection{}, effects, 100000,
      [&](const ClusterSnapshot& snap, const Action& a) { reference_monitor.observe(snap, a); });
  BOOST_REQUIRE(reference.outcome.has_value());
  BOOST_REQUIRE_MESSAGE(std::holds_alternative<Done>(*reference.outcome),
                        describe(*reference.outcome));
  BOOST_TEST(reference_monitor.violations.empty());
  for (const auto& v : reference_monitor.violations)
    BOOST_TEST_MESSAGE(v);
  BOOST_TEST(reference_monitor.all_pods_on_cilium(reference.final_snapshot));
  check_end_state(reference.final_snapshot, s, options.cordoned);
  const auto expected = canonical(reference.final_snapshot);
  BOOST_TEST_MESSAGE("reference run: " << reference.actions.size() << " actions, "
                                       << reference.rounds << " rounds");
  resume_after_every_prefix(start, s, budget, effects, reference.actions, expected,
                            [&] { return SafetyMonitor(s, budget, options.cordoned); });
}

}  // namespace

BOOST_AUTO_TEST_CASE(interrupt_after_every_action_parallel_1) {
  interruption_sweep(Budget{1, 1}, FixtureOptions{});
}

BOOST_AUTO_TEST_CASE(interrupt_after_every_action_parallel_3) {
  interruption_sweep(Budget{3, 3}, FixtureOptions{});
}

BOOST_AUTO_TEST_CASE(interrupt_with_admin_cordoned_node_and_knet_stress_present) {
  FixtureOptions o;
  o.cordoned = {"node-2"};
  o.knet_stress_installed = true;
  interruption_sweep(Budget{2, 1}, o);
}

// A gate that fails after any action: the run halts with every node at a
// point a later run resumes from, never breaking the safety property, and a
// fresh run (checks passing again) reaches the same end.
BOOST_AUTO_TEST_CASE(failed_gate_after_every_action_then_resume) {
  const auto s = MigrationSettings::defaults();
  const Budget budget{2, 2};
  const SimulatedEffects effects(s);
  SimulatedEffects failing(s);
  failing.check_outcome = [](const ClusterSnapshot&) { return false; };
  const auto start = make_cluster(s);
  auto reference = run_plan(start, s, budget, Selection{}, effects);
  BOOST_REQUIRE(reference.outcome && std::holds_alternative<Done>(*reference.outcome));
  const auto expected = canonical(reference.final_snapshot);
  std::size_t halted = 0;
  for (std::size_t k = 0; k <= reference.actions.size(); ++k) {
    SafetyMonitor monitor(s, budget, {});
    PlanState snap = start;
    for (std::size_t i = 0; i < k; ++i) {
      effects.apply(snap, reference.actions[i]);
      monitor.observe(snap, reference.actions[i]);
    }
    auto observe = [&](const ClusterSnapshot& after, const Action& a) {
      monitor.observe(after, a);
    };
    auto stopped = run_plan(snap, s, budget, Selection{}, failing, 100000, observe);
    BOOST_REQUIRE(stopped.outcome.has_value());
    if (std::holds_alternative<Halt>(*stopped.outcome)) {
      ++halted;
      // No write follows a failed check other than giving nodes back.
      bool after_check = false;
      for (const auto& a : stopped.actions) {
        if (std::holds_alternative<RunConnectivityCheck>(a.kind))
          after_check = true;
        if (after_check && is_write(a)) {
          const auto* c = std::get_if<SetCordon>(&a.kind);
          BOOST_TEST((c != nullptr && !c->unschedulable), "k=" << k << ": " << describe(a));
        }
      }
    }
    auto resumed = run_plan(fresh_process(stopped.final_snapshot), s, budget, Selection{}, effects,
                            100000, observe);
    BOOST_REQUIRE_MESSAGE(resumed.outcome && std::holds_alternative<Done>(*resumed.outcome),
                          "k=" << k);
    BOOST_TEST(monitor.violations.empty(), "k=" << k);
    for (const auto& v : monitor.violations)
      BOOST_TEST_MESSAGE(v);
    BOOST_TEST(canonical(resumed.final_snapshot) == expected, "k=" << k);
  }
  BOOST_TEST(halted > reference.actions.size() / 2);
}
