// The rollback (src/migrate/README.md "Rollback") driven with the effects
// model: from a cluster with 2 of 4 nodes migrated back to the state before
// prepare; interrupted after every action and resumed by a fresh process to
// the same end; a rollback of some nodes that a migration then finishes;
// the refusals.

#define BOOST_TEST_MODULE migrate_rollback
#include <boost/test/unit_test.hpp>

#include "cnimig/migrate/planner.hpp"
#include "cnimig/migrate/simulated_effects.hpp"

#include "rollback_monitor.hpp"

using namespace cnimig::migrate;
using namespace cnimig::migrate::test;

namespace {

const MigrationSettings& settings() {
  static const auto s = MigrationSettings::defaults();
  return s;
}

Selection steps(const char* range, std::set<std::string> nodes = {}) {
  Selection sel;
  sel.steps = *cnimig::config::parse_step_range(range);
  sel.nodes = std::move(nodes);
  return sel;
}

Selection rollback(std::set<std::string> nodes = {}) {
  Selection sel;
  sel.rollback = true;
  sel.nodes = std::move(nodes);
  return sel;
}

bool done(const PlanRun& run) {
  return run.outcome && std::holds_alternative<Done>(*run.outcome);
}

std::string outcome(const PlanRun& run) {
  return run.outcome ? describe(*run.outcome) : std::string("no outcome");
}

PlanObserver watch(ReachabilityMonitor& monitor) {
  return [&monitor](const ClusterSnapshot& snap, const Action& a) { monitor.observe(snap, a); };
}

// Every node prioritised, node-0 and node-1 migrated.
PlanState half_migrated(ReachabilityMonitor& monitor, const Budget& budget,
                        const FixtureOptions& options = {}) {
  const SimulatedEffects effects(settings());
  auto run = run_plan(make_cluster(settings(), options), settings(), budget, steps("0-3"), effects,
                      100000, watch(monitor));
  BOOST_REQUIRE_MESSAGE(done(run), outcome(run));
  run = run_plan(fresh_process(run.final_snapshot), settings(), budget,
                 steps("migrate", {"node-0", "node-1"}), effects, 100000, watch(monitor));
  BOOST_REQUIRE_MESSAGE(done(run), outcome(run));
  const auto& nodes = run.final_snapshot.nodes;
  BOOST_REQUIRE(nodes.at("node-0").labels.contains(settings().labels.migrated));
  BOOST_REQUIRE(nodes.at("node-2").labels.contains(settings().labels.cni_priority_cilium));
  monitor.violations.clear();  // the migration's are its own tests' business
  return fresh_process(run.final_snapshot);
}

// The state before prepare: the source CNI without the migration's selector,
// no Cilium or multus, no migration label, annotation, taint or cordon.
void check_rolled_back(const ClusterSnapshot& end, ReachabilityMonitor& monitor,
                       const std::set<std::string>& admin_cordoned = {}) {
  const auto& s = settings();
  for (const auto& [name, n] : end.nodes) {
    for (const auto& key : s.labels.all())
      BOOST_TEST(!n.labels.contains(key), name << " keeps " << key);
    BOOST_TEST(n.annotations.empty(), name);
    BOOST_TEST(n.taints.empty(), name);
    BOOST_TEST(n.unschedulable == admin_cordoned.contains(name), name);
  }
  BOOST_TEST(end.exists(s.source_cni));
  BOOST_TEST(!end.workload(s.source_cni)->node_selector.contains(s.labels.calico_cilium));
  for (const auto& ref : {s.cilium(), s.cilium_migrated(), s.multus_calico(), s.multus_cilium()})
    BOOST_TEST(!end.exists(ref), ref.describe());
  BOOST_TEST(!end.applied_bundles.contains(s.bundles.cilium));
  BOOST_TEST(!end.applied_bundles.contains(s.bundles.multus));
  BOOST_TEST(monitor.all_pods_on_source_alone(end));
}

void check_no_violations(const ReachabilityMonitor& monitor, const std::string& context) {
  BOOST_TEST(monitor.violations.empty(), context);
  for (const auto& v : monitor.violations)
    BOOST_TEST_MESSAGE(v);
}

void sweep(Budget budget, const FixtureOptions& options = {}) {
  const SimulatedEffects effects(settings());
  ReachabilityMonitor reference_monitor(settings(), budget, options.cordoned);
  const auto start = half_migrated(reference_monitor, budget, options);
  auto reference =
      run_plan(start, settings(), budget, rollback(), effects, 100000, watch(reference_monitor));
  BOOST_REQUIRE_MESSAGE(done(reference), outcome(reference));
  check_no_violations(reference_monitor, "reference rollback");
  check_rolled_back(reference.final_snapshot, reference_monitor, options.cordoned);
  const auto expected = canonical(reference.final_snapshot);
  BOOST_TEST_MESSAGE("rollback: " << reference.actions.size() << " actions");

  for (std::size_t k = 0; k <= reference.actions.size(); ++k) {
    ReachabilityMonitor monitor(settings(), budget, options.cordoned);
    (void)half_migrated(monitor, budget, options);
    PlanState snap = start;
    for (std::size_t i = 0; i < k; ++i) {
      effects.apply(snap, reference.actions[i]);
      monitor.observe(snap, reference.actions[i]);
    }
    auto resumed = run_plan(fresh_process(snap), settings(), budget, rollback(), effects, 100000,
                            watch(monitor));
    BOOST_REQUIRE_MESSAGE(done(resumed), "interrupted after " << k << ": " << outcome(resumed));
    check_no_violations(monitor, "interrupted after " + std::to_string(k));
    BOOST_TEST(canonical(resumed.final_snapshot) == expected, "interrupted after " << k);
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(whole_cluster_back_to_before_prepare_every_interruption_parallel_1) {
  sweep(Budget{1, 1});
}

BOOST_AUTO_TEST_CASE(whole_cluster_back_to_before_prepare_every_interruption_parallel_2) {
  sweep(Budget{2, 2});
}

// An administrator's cordon is neither counted nor lifted.
BOOST_AUTO_TEST_CASE(admin_cordoned_node_stays_cordoned_every_interruption) {
  FixtureOptions o;
  o.cordoned = {"node-3"};
  o.knet_stress_installed = true;
  sweep(Budget{2, 1}, o);
}

// Nodes leave Cilium alone first, then come off Cilium first, then off multus:
// the reverse of the forward order.
BOOST_AUTO_TEST_CASE(reverse_steps_run_in_reverse_order) {
  const Budget budget{1, 1};
  ReachabilityMonitor monitor(settings(), budget);
  const auto start = half_migrated(monitor, budget);
  auto run = run_plan(start, settings(), budget, rollback(), SimulatedEffects(settings()));
  BOOST_REQUIRE(done(run));
  std::vector<StepId> order;
  for (const auto& a : run.actions) {
    if (!a.node.empty() && (order.empty() || order.back() != a.step))
      order.push_back(a.step);
  }
  const std::vector<StepId> expected{StepId::migrate, StepId::priority, StepId::roll,
                                     StepId::prepare};
  BOOST_TEST(order == expected, [&] {
    std::string s;
    for (auto st : order)
      s += std::string(to_string(st)) + " ";
    return s;
  }());
  // The source CNI's selector goes before the bundles, the bundles before
  // the labels.
  std::vector<std::string> cluster_writes;
  for (const auto& a : run.actions) {
    if (a.step == StepId::prepare && is_write(a))
      cluster_writes.push_back(describe(a));
  }
  BOOST_REQUIRE(cluster_writes.size() >= 4u);
  BOOST_TEST(cluster_writes[0].find("nodeSelector") != std::string::npos, cluster_writes[0]);
  BOOST_TEST(cluster_writes[1].find("delete bundle multus") != std::string::npos);
  BOOST_TEST(cluster_writes[2].find("delete bundle cilium") != std::string::npos);
}

// A rollback of one node in the middle of its migrate step, interrupted at
// every point of that migrate step: the node goes back to both CNIs (Cilium
// first, since node-0 stays on Cilium alone) and a migration then finishes.
BOOST_AUTO_TEST_CASE(one_node_rolled_back_mid_migrate_then_migration_finishes) {
  const auto& s = settings();
  const Budget budget{1, 1};
  const SimulatedEffects effects(s);
  ReachabilityMonitor base_monitor(s, budget);
  auto base = half_migrated(base_monitor, budget);
  // node-2's migrate step, action by action.
  auto migrate = run_plan(base, s, budget, steps("migrate", {"node-2"}), effects);
  BOOST_REQUIRE(done(migrate));
  std::size_t mid_points = 0;
  for (std::size_t k = 0; k <= migrate.actions.size(); ++k) {
    PlanState snap = base;
    for (std::size_t i = 0; i < k; ++i)
      effects.apply(snap, migrate.actions[i]);
    const bool mid =
        snap.nodes.at("node-2").annotations.contains(s.annotation(annotation_names::kMigrate));
    mid_points += mid ? 1 : 0;
    ReachabilityMonitor monitor(s, budget);
    auto back = run_plan(fresh_process(snap), s, budget, rollback({"node-2"}), effects, 100000,
                         watch(monitor));
    BOOST_REQUIRE_MESSAGE(done(back), "after " << k << ": " << outcome(back));
    const auto& node = back.final_snapshot.nodes.at("node-2");
    BOOST_TEST(node_phase(node, back.final_snapshot, s) == NodePhase::prioritised, "after " << k);
    BOOST_TEST(node.taints.empty());
    BOOST_TEST(!node.unschedulable);
    BOOST_TEST(back.final_snapshot.nodes.at("node-0").labels.contains(s.labels.migrated));
    auto finished = run_plan(fresh_process(back.final_snapshot), s, budget, Selection{}, effects,
                             100000, watch(monitor));
    BOOST_REQUIRE_MESSAGE(done(finished), "after " << k << ": " << outcome(finished));
    for (const auto& [name, n] : finished.final_snapshot.nodes) {
      BOOST_TEST(n.annotations.empty(), name);
      BOOST_TEST(!n.unschedulable, name);
    }
    BOOST_TEST(!finished.final_snapshot.exists(s.source_cni));
    check_no_violations(monitor, "after " + std::to_string(k));
  }
  BOOST_TEST(mid_points > 5u);
}

// With no node on Cilium alone, a rollback of some nodes takes them back to
// the source CNI first (rolled), never off multus.
BOOST_AUTO_TEST_CASE(some_nodes_back_to_source_first_when_none_is_on_cilium_alone) {
  const auto& s = settings();
  const Budget budget{1, 1};
  const SimulatedEffects effects(s);
  auto run = run_plan(make_cluster(s), s, budget, steps("0-3"), effects);
  BOOST_REQUIRE(done(run));
  auto back = run_plan(fresh_process(run.final_snapshot), s, budget, rollback({"node-1"}), effects);
  BOOST_REQUIRE_MESSAGE(done(back), outcome(back));
  const auto& snap = back.final_snapshot;
  BOOST_TEST(node_phase(snap.nodes.at("node-1"), snap, s) == NodePhase::rolled);
  BOOST_TEST(node_phase(snap.nodes.at("node-0"), snap, s) == NodePhase::prioritised);
  BOOST_TEST(snap.workload(s.source_cni)->node_selector.contains(s.labels.calico_cilium));
  BOOST_TEST(snap.exists(s.multus_calico()));
}

// Cleanup deletes the source CNI: once it started, a rollback writes nothing.
BOOST_AUTO_TEST_CASE(refused_once_cleanup_started) {
  const auto& s = settings();
  const Budget budget{1, 1};
  ReachabilityMonitor monitor(s, budget);
  auto snap = half_migrated(monitor, budget);
  snap.workloads[s.cilium_migrated()].node_selector.clear();
  const auto d = next_actions(snap, snap, s, budget, rollback());
  BOOST_REQUIRE(d.halted());
  BOOST_TEST(d.halt_reason()->find("point of no return") != std::string::npos, *d.halt_reason());
  BOOST_TEST(d.actions().empty());
}

// A migration does not run over a node a rollback holds.
BOOST_AUTO_TEST_CASE(migration_waits_for_an_unfinished_rollback) {
  const auto& s = settings();
  const Budget budget{1, 1};
  ReachabilityMonitor monitor(s, budget);
  auto snap = half_migrated(monitor, budget);
  snap.nodes.at("node-0").annotations[s.annotation(annotation_names::kRollbackMigrate)] = "started";
  const auto d = next_actions(snap, snap, s, budget, Selection{});
  BOOST_REQUIRE(d.halted());
  BOOST_TEST(d.halt_reason()->find("node-0 is being rolled back") != std::string::npos,
             *d.halt_reason());
}

// Nothing migrated (knet-stress not even installed): done at once, with
// nothing to do.
BOOST_AUTO_TEST_CASE(nothing_to_roll_back) {
  const auto& s = settings();
  auto run = run_plan(make_cluster(s), s, Budget{1, 1}, rollback(), SimulatedEffects(s));
  BOOST_REQUIRE_MESSAGE(done(run), outcome(run));
  BOOST_TEST(run.actions.empty());
}

// A whole-cluster rollback from every point of a migration before cleanup
// (a node part-way through any step included) reaches the state before
// prepare, with every pair of pods in service reachable throughout.
// Calls `check(k, snapshot, monitor)` after each prefix of a whole 4-node
// migration (the monitor has observed the prefix), until it returns false.
template <class Check>
void each_point_of_a_migration(const Budget& budget, Check check) {
  const auto& s = settings();
  const SimulatedEffects effects(s);
  const auto start = make_cluster(s);
  const auto forward = run_plan(start, s, budget, Selection{}, effects);
  BOOST_REQUIRE(done(forward));
  for (std::size_t k = 0; k <= forward.actions.size(); ++k) {
    ReachabilityMonitor monitor(s, budget);
    PlanState snap = start;
    for (std::size_t i = 0; i < k; ++i) {
      effects.apply(snap, forward.actions[i]);
      monitor.observe(snap, forward.actions[i]);
    }
    if (!check(k, snap, monitor))
      return;
  }
}

BOOST_AUTO_TEST_CASE(whole_cluster_rollback_from_every_point_before_cleanup) {
  const auto& s = settings();
  const Budget budget{1, 1};
  const SimulatedEffects effects(s);
  std::size_t points = 0;
  each_point_of_a_migration(
      budget, [&](std::size_t k, const PlanState& snap, ReachabilityMonitor& monitor) {
        if (past_point_of_no_return(snap, s))
          return false;
        monitor.violations.clear();  // the migration's are its own tests' business
        ++points;
        auto back =
            run_plan(fresh_process(snap), s, budget, rollback(), effects, 100000, watch(monitor));
        BOOST_REQUIRE_MESSAGE(done(back), "after " << k << ": " << outcome(back));
        check_no_violations(monitor, "after " + std::to_string(k));
        BOOST_TEST_CONTEXT("after " << k) {
          check_rolled_back(back.final_snapshot, monitor);
        }
        return true;
      });
  BOOST_TEST(points > 100u);
}

// A rollback of one node gives a node the migration left in its roll step
// back (uncordoned, its roll annotations removed): the migration rolls it again.
BOOST_AUTO_TEST_CASE(rollback_of_some_nodes_gives_a_node_in_the_roll_step_back) {
  const auto& s = settings();
  const Budget budget{1, 1};
  const SimulatedEffects effects(s);
  std::size_t given_back = 0;
  each_point_of_a_migration(budget, [&](std::size_t k, const PlanState& snap,
                                        ReachabilityMonitor&) {
    const auto& node = snap.nodes.at("node-0");
    if (!node.annotations.contains(s.annotation(annotation_names::kRoll)))
      return true;
    ++given_back;
    auto back = run_plan(fresh_process(snap), s, budget, rollback({"node-0"}), effects);
    BOOST_REQUIRE_MESSAGE(done(back), "after " << k << ": " << outcome(back));
    const auto& after = back.final_snapshot.nodes.at("node-0");
    BOOST_TEST(!after.unschedulable, "after " << k);
    BOOST_TEST(after.annotations.empty(), "after " << k);
    auto finished = run_plan(fresh_process(back.final_snapshot), s, budget, Selection{}, effects);
    BOOST_TEST(done(finished), "after " << k << ": " << outcome(finished));
    return true;
  });
  BOOST_TEST(given_back > 3u);
}
