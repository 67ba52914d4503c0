#pragma once
// A plan for people: what a run would write, step by step, what each node
// goes through, what cannot be undone, how long it may take and what needs a
// human before `--apply`. A pure function of the plan's actions and outcome
// (plus a few facts read from the cluster before planning), so its content
// is unit-tested; plan mode logs the rendered text on stderr, stdout keeps
// the machine-readable plan.

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "cnimig/config/config.hpp"
#include "cnimig/migrate/action.hpp"
#include "cnimig/migrate/budget.hpp"
#include "cnimig/migrate/cluster_snapshot.hpp"
#include "cnimig/migrate/decision.hpp"
#include "cnimig/migrate/migration_settings.hpp"

namespace cnimig::agent {

// What the summary needs from the cluster as it is before the plan: read
// from the snapshot before it is handed to the core (plan_facts in
// plan_summary_facts.hpp), plus
// warnings found elsewhere (preflight, PodDisruptionBudgets, the core's own
// findings). `warnings` is the list to extend: each entry is one sentence a
// person has to act on or accept.
struct PlanFacts {
  // Unschedulable before the migration touched them: they stay cordoned.
  std::vector<std::string> cordoned_by_administrator;
  // metadata.uid -> "namespace/name" of pods no controller re-creates: an
  // eviction or deletion of one loses it (as `kubectl drain` without --force
  // refuses to).
  std::map<std::string, std::string> unmanaged_pods;
  std::vector<std::string> warnings;
};

struct PlanSummaryInput {
  const std::vector<migrate::Action>& actions;
  const std::optional<migrate::RunEnd>& outcome;  // Done or Halt; empty: unfinished
  const migrate::Budget& budget;
  const config::Timeouts& timeouts;
  const PlanFacts& facts;
  // Bundle id -> its objects ("DaemonSet kube-system/cilium"), in apply order.
  std::map<std::string, std::vector<std::string>> bundle_objects;
  // A rollback's plan (Selection::rollback): its steps stay in the order
  // they run, each named after the step it reverses.
  bool rollback = false;
  config::Strategy strategy = config::Strategy::multus;
};

struct StepSummary {
  migrate::StepId step = migrate::StepId::preflight;
  std::size_t writes = 0;
  std::set<std::string> nodes_labelled;
  std::set<std::string> nodes_annotated;  // the agent's bookkeeping under cnimig.io/
  std::set<std::string> nodes_cordoned;
  std::set<std::string> nodes_tainted;
  std::vector<std::string> applied;            // "bundle cilium: DaemonSet kube-system/cilium, ..."
  std::vector<std::string> patched;            // "DaemonSet kube-system/canal nodeSelector +key"
  std::vector<std::string> deleted;            // objects and bundles
  std::map<std::string, std::size_t> evicted;  // namespace -> pods
  std::map<std::string, std::size_t> pods_deleted;
  std::size_t checks = 0;  // connectivity checks
  // Serial node rounds (ceil(nodes / max_parallel_nodes)) in steps 2 to 4.
  std::size_t node_rounds = 0;
  std::chrono::milliseconds max_duration{0};
};

struct PlanSummary {
  std::vector<StepSummary> steps;  // steps with at least one action, in order
  // Node -> what it goes through, e.g. "roll (cordon, evict, delete pods,
  // uncordon, label) -> priority (...)".
  std::map<std::string, std::string> node_journeys;
  std::vector<std::string> irreversible;
  std::vector<std::string> warnings;
  std::size_t writes = 0;
  std::size_t pods_evicted = 0;
  std::size_t pods_deleted = 0;
  // Every wait at its configured timeout: past it the run halts instead.
  std::chrono::milliseconds max_duration{0};
  std::optional<std::string> halt_reason;
  // cleanup.hold ends the plan before cleanup, the point of no return.
  bool held_before_cleanup = false;
  bool rollback = false;                                 // PlanSummaryInput::rollback
  config::Strategy strategy = config::Strategy::multus;  // PlanSummaryInput::strategy
};

PlanSummary summarize_plan(const PlanSummaryInput& input);

// The summary as text for stderr: one block, lines of at most ~100 columns,
// long name lists shortened ("node-1, node-2 and 998 more").
std::string render_plan_summary(const PlanSummary& summary);

}  // namespace cnimig::agent
