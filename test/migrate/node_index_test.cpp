// The NodeIndex kept across rounds must always equal one derived fresh from
// the snapshot, and the decisions made with it must be the stateless core's.
// Randomized (fixed seeds): cluster sizes, budgets, --nodes selections,
// administrator cordons, pods a drain refuses, runs interrupted at a random
// action and resumed by a fresh process, and, for the driver's use (nodes
// touched as watch events show them), edits made behind the core's back.

#define BOOST_TEST_MODULE migrate_node_index
#include "cnimig/migrate/node_index.hpp"

#include <random>

#include <boost/test/unit_test.hpp>

#include "cnimig/migrate/planner.hpp"
#include "cnimig/migrate/simulated_effects.hpp"

#include "cluster_fixture.hpp"

using namespace cnimig::migrate;
using namespace cnimig::migrate::test;

namespace {

struct Scenario {
  MigrationSettings settings = MigrationSettings::defaults();
  PlanState start;
  Budget budget;
  Selection selection;
};

Scenario random_scenario(std::mt19937& rng) {
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  Scenario sc;
  FixtureOptions o;
  o.nodes = static_cast<std::size_t>(pick(1, 7));
  o.knet_stress_installed = pick(0, 3) != 0;
  for (std::size_t i = 0; i < o.nodes; ++i) {
    if (pick(0, 5) == 0)
      o.cordoned.insert(node_name(i));
  }
  sc.start = make_cluster(sc.settings, o);
  // A pod a drain may refuse: bare (no controller) or with an emptyDir.
  if (pick(0, 4) == 0) {
    PodState p;
    p.ns = "default";
    p.name = "bare";
    p.uid = "uid-bare";
    p.empty_dir = pick(0, 1) == 1;
    p.owner_kind = p.empty_dir ? "ReplicaSet" : "";
    p.owner_name = p.empty_dir ? "cache-5d" : "";
    p.created = 100;
    sc.start.nodes.at(node_name(static_cast<std::size_t>(pick(0, static_cast<int>(o.nodes) - 1))))
        .pods.push_back(p);
  }
  sc.settings.delete_empty_dir_data = pick(0, 1) == 1;
  sc.budget.max_parallel_nodes = static_cast<std::size_t>(pick(1, 3));
  sc.budget.max_unavailable = static_cast<std::size_t>(pick(1, 3));
  if (pick(0, 4) == 0) {
    for (std::size_t i = 0; i < o.nodes; ++i) {
      if (pick(0, 1) == 0)
        sc.selection.nodes.insert(node_name(i));
    }
  }
  return sc;
}

// Every third seed runs the cilium-native strategy (its own per-node step
// and phases, no joins, the finish as a cleanup variant). Rollbacks are the
// multus strategy's only.
Scenario with_strategy(Scenario sc, unsigned seed) {
  if (seed % 3 == 0)
    sc.settings.strategy = cnimig::config::Strategy::cilium_native;
  return sc;
}

// The index kept since the last round, brought up to date, against one
// derived fresh from the same snapshot.
void check_index(const NodeIndex& kept, const ClusterSnapshot& snap, const MigrationSettings& s,
                 const std::string& where) {
  NodeIndex current = kept;
  current.refresh(snap, s);
  NodeIndex fresh;
  fresh.refresh(snap, s);
  BOOST_TEST((current == fresh), where);
}

void check_same_decision(const Decision& kept, const std::map<std::string, NodePhase>& phases,
                         const Decision& fresh, const std::string& where) {
  BOOST_TEST((kept.next == fresh.next), where);
  BOOST_TEST((kept.waits == fresh.waits), where);
  BOOST_TEST((kept.steps == fresh.steps), where);
  BOOST_TEST((kept.current_step == fresh.current_step), where);
  BOOST_TEST((phases == fresh.node_phases), where);
}

struct Run {
  std::vector<Action> actions;
  std::optional<RunEnd> outcome;
};

// What PlanRunner does, with the stateless core: the reference.
Run stateless_plan(PlanState state, const Scenario& sc, const SimulatedEffects& effects) {
  Run run;
  for (int round = 0; round < 5000; ++round) {
    const auto d = next_actions(state, sc.settings, sc.budget, sc.selection);
    if (d.halted() || d.finished()) {
      run.outcome = d.end();
      break;
    }
    if (d.actions().empty()) {
      const bool clock_only = std::all_of(d.waits.begin(), d.waits.end(), [](const Action& w) {
        return std::get<WaitFor>(w.kind).gate == Gate::cut_off;
      });
      if (!clock_only) {
        // The runner halts here, naming the waits; only the step is compared.
        run.outcome = Halt{d.current_step.value_or(StepId::preflight), "plan cannot proceed"};
        break;
      }
      state.now += 1;
      continue;
    }
    for (const auto& a : d.actions()) {
      effects.apply(state, a);
      run.actions.push_back(a);
    }
  }
  return run;
}

// PlanRunner, its kept index checked before every round.
Run indexed_plan(PlanState state, const Scenario& sc, const SimulatedEffects& effects,
                 const std::string& where) {
  PlanRunner runner(std::move(state), sc.settings, sc.budget, sc.selection, effects, 5000);
  std::size_t round = 0;
  do {
    check_index(runner.nodes(), runner.state(), sc.settings,
                where + " round " + std::to_string(round++));
  } while (!runner.advance(1));
  auto done = runner.finish();
  return Run{std::move(done.actions), done.outcome};
}

void check_same_run(const Run& indexed, const Run& reference, const std::string& where) {
  BOOST_TEST(indexed.actions.size() == reference.actions.size(), where);
  const auto n = std::min(indexed.actions.size(), reference.actions.size());
  for (std::size_t i = 0; i < n; ++i) {
    if (!(indexed.actions[i] == reference.actions[i])) {
      BOOST_TEST(describe(indexed.actions[i]) == describe(reference.actions[i]),
                 where << " action " << i);
      break;
    }
  }
  BOOST_TEST_REQUIRE(indexed.outcome.has_value());
  BOOST_TEST_REQUIRE(reference.outcome.has_value());
  BOOST_TEST(describe(*indexed.outcome).starts_with(describe(*reference.outcome)), where);
}

}  // namespace

BOOST_AUTO_TEST_CASE(plan_runner_index_matches_fresh_across_whole_and_interrupted_plans) {
  for (unsigned seed = 1; seed <= 60; ++seed) {
    std::mt19937 rng(seed);
    const auto sc = with_strategy(random_scenario(rng), seed);
    const SimulatedEffects effects(sc.settings);
    const auto where = "seed " + std::to_string(seed);
    const auto reference = stateless_plan(sc.start, sc, effects);
    check_same_run(indexed_plan(sc.start, sc, effects, where), reference, where);

    // Interrupted after a random action: a fresh process resumes.
    auto mid = sc.start;
    const auto stop = std::uniform_int_distribution<std::size_t>(0, reference.actions.size())(rng);
    for (std::size_t i = 0; i < stop; ++i)
      effects.apply(mid, reference.actions[i]);
    mid = fresh_process(std::move(mid));
    const auto resumed = where + " resumed after " + std::to_string(stop);
    check_same_run(indexed_plan(mid, sc, effects, resumed), stateless_plan(mid, sc, effects),
                   resumed);
  }
}

// A rollback (Selection::rollback) from any point of a migration, of the
// whole cluster or of the scenario's nodes.
BOOST_AUTO_TEST_CASE(rollback_index_matches_fresh_from_any_point_of_a_migration) {
  for (unsigned seed = 1; seed <= 40; ++seed) {
    std::mt19937 rng(seed);
    const auto sc = random_scenario(rng);
    const SimulatedEffects effects(sc.settings);
    const auto forward = stateless_plan(sc.start, sc, effects);
    auto mid = sc.start;
    const auto stop = std::uniform_int_distribution<std::size_t>(0, forward.actions.size())(rng);
    for (std::size_t i = 0; i < stop; ++i)
      effects.apply(mid, forward.actions[i]);
    mid = fresh_process(std::move(mid));
    auto back = sc;
    back.selection.rollback = true;
    const auto where = "seed " + std::to_string(seed) + " rollback after " + std::to_string(stop);
    check_same_run(indexed_plan(mid, back, effects, where), stateless_plan(mid, back, effects),
                   where);
  }
}

namespace {

// Touches what changed between two snapshots, node by node: what the
// agent's cache reports from watch events.
void touch_changes(NodeIndex& index, const ClusterSnapshot& before, const ClusterSnapshot& after) {
  for (const auto& [name, node] : after.nodes) {
    auto it = before.nodes.find(name);
    if (it == before.nodes.end() || !(it->second == node))
      index.touch(name);
  }
  for (const auto& [name, node] : before.nodes) {
    if (!after.nodes.contains(name))
      index.touch(name);
  }
}

// An edit made behind the run's back: an administrator, a controller, an
// autoscaler, a hand-edited DaemonSet.
void random_edit(PlanState& state, const MigrationSettings& s, std::mt19937& rng) {
  auto pick = [&](int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(rng); };
  if (state.nodes.empty())
    return;
  auto it = state.nodes.begin();
  std::advance(it, pick(0, static_cast<int>(state.nodes.size()) - 1));
  auto& node = it->second;
  switch (pick(0, 6)) {
    case 0:
      node.unschedulable = !node.unschedulable;
      break;
    case 1:
      if (!node.annotations.empty())
        node.annotations.erase(node.annotations.begin());
      break;
    case 2:
      if (!node.pods.empty())
        node.pods.erase(node.pods.begin() + pick(0, static_cast<int>(node.pods.size()) - 1));
      break;
    case 3: {
      NodeState joined;
      joined.name = "joined-" + std::to_string(pick(0, 1000));
      state.nodes.emplace(joined.name, joined);
      break;
    }
    case 4:
      if (state.nodes.size() > 1)
        state.nodes.erase(it);
      break;
    case 5: {
      auto& sel = state.workloads[s.source_cni].node_selector;
      if (sel.empty()) {
        sel[s.labels.calico_cilium] = s.labels.value;
      } else {
        sel.clear();
      }
      break;
    }
    default:
      node.labels[s.labels.rolled] = s.labels.value;
      break;
  }
}

}  // namespace

BOOST_AUTO_TEST_CASE(touched_nodes_index_matches_fresh_under_outside_edits) {
  for (unsigned seed = 1; seed <= 40; ++seed) {
    std::mt19937 rng(seed);
    const auto sc = with_strategy(random_scenario(rng), seed);
    const SimulatedEffects effects(sc.settings);
    auto state = sc.start;
    NodeIndex kept;
    // The phases as a reader of take_phase_changes() alone sees them (the
    // driver's node.phase events): they must be every node's phase.
    std::map<std::string, NodePhase> mirrored;
    for (int round = 0; round < 400; ++round) {
      const auto where = "seed " + std::to_string(seed) + " round " + std::to_string(round);
      check_index(kept, state, sc.settings, where);
      const auto d =
          next_actions(kept, state.cluster(), state.record(), sc.settings, sc.budget, sc.selection);
      check_same_decision(d, kept.phases(),
                          next_actions(state, sc.settings, sc.budget, sc.selection), where);
      for (const auto& node : kept.take_phase_changes()) {
        if (auto it = kept.phases().find(node); it != kept.phases().end())
          mirrored[node] = it->second;
      }
      for (const auto& [node, phase] : kept.phases())
        BOOST_TEST((mirrored.contains(node) && mirrored.at(node) == phase), where << " " << node);
      if (d.halted() || d.finished())
        break;
      const ClusterSnapshot before = state;
      for (const auto& a : d.actions())
        effects.apply(state, a);
      if (d.actions().empty())
        state.now += 1;
      if (std::uniform_int_distribution<int>(0, 3)(rng) == 0)
        random_edit(state, sc.settings, rng);
      touch_changes(kept, before, state);
    }
  }
}

// A node that appears or goes is taken in or dropped; touch_all re-derives
// everything.
BOOST_AUTO_TEST_CASE(nodes_that_come_and_go) {
  const auto s = MigrationSettings::defaults();
  auto snap = make_cluster(s, FixtureOptions{3, true, {}});
  NodeIndex index;
  index.refresh(snap, s);
  BOOST_TEST(index.phases().size() == 3u);
  BOOST_TEST(index.unprepared().size() == 3u);

  snap.nodes.erase(node_name(1));
  index.touch(node_name(1));
  index.refresh(snap, s);
  BOOST_TEST(index.phases().size() == 2u);
  BOOST_TEST(!index.unprepared().contains(node_name(1)));

  snap.nodes.at(node_name(0)).labels[s.labels.calico_cilium] = s.labels.value;
  snap.nodes.at(node_name(0)).labels[s.labels.cni_priority_calico] = s.labels.value;
  // Not touched: the index still shows what it derived.
  index.refresh(snap, s);
  BOOST_TEST(index.phase(node_name(0)) == NodePhase::unprepared);
  index.touch_all();
  index.refresh(snap, s);
  BOOST_TEST(index.phase(node_name(0)) == NodePhase::prepared);
  BOOST_TEST(index.in_phase(NodePhase::prepared).size() == 1u);
}

// Patching the source CNI's selector changes the phase of unlabelled nodes
// (they become joining): the index re-derives every node by itself.
BOOST_AUTO_TEST_CASE(a_global_change_rederives_every_node) {
  const auto s = MigrationSettings::defaults();
  auto snap = make_cluster(s, FixtureOptions{2, true, {}});
  NodeIndex index;
  index.refresh(snap, s);
  BOOST_TEST(index.joining().empty());
  snap.workloads[s.source_cni].node_selector[s.labels.calico_cilium] = s.labels.value;
  index.refresh(snap, s);
  BOOST_TEST(index.joining().size() == 2u);
  BOOST_TEST(index.phase(node_name(0)) == NodePhase::joining);
}
