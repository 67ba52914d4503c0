#pragma once
// Internal: what every step file reads (the snapshot plus derived facts) and
// what it returns.

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cnimig/migrate/budget.hpp"
#include "cnimig/migrate/cluster_snapshot.hpp"
#include "cnimig/migrate/migration_settings.hpp"
#include "cnimig/migrate/node_phase.hpp"
#include "cnimig/migrate/run_record.hpp"
#include "cnimig/migrate/selection.hpp"

namespace cnimig::migrate::detail {

struct Context {
  Context(const ClusterSnapshot& snapshot, const RunRecord& record,
          const MigrationSettings& settings, const Budget& budget, const Selection& selection);

  const ClusterSnapshot& snap;
  const RunRecord& run;
  const MigrationSettings& settings;
  const Budget& budget;
  const Selection& selection;

  // A failure was reported or the latest check failed: no node starts, no
  // gate passes, in-flight nodes only move towards availability.
  bool failed = false;
  std::string failure_reason;
  bool writes_in_flight = false;
  bool check_in_flight = false;
  // Every watched resource exists (or is not expected yet) and is ready.
  bool watched_ready = false;
  std::vector<std::string> not_ready;
  // A check passed at the current write generation with nothing in flight.
  bool check_current = false;
  // A check passed during this run (the preflight condition).
  bool checked_this_run = false;
  // A gate (src/migrate/README.md "Gates, budget and failures"): watched
  // resources ready and a current passing check.
  bool gate_ok = false;

  std::map<std::string, NodePhase> phases;

  bool has_label(const NodeState& node, const std::string& key) const;
  std::optional<std::string> annotation(const NodeState& node, std::string_view name) const;
  bool was_cordoned(const NodeState& node) const;
  bool cleanup_started() const;
  bool migration_started() const;
  bool resource_ready(const ObjectRef& ref, std::vector<std::string>* pending) const;
  NodePhase phase(const std::string& node) const { return phases.at(node); }
  // The node joined during the migration and is being brought into its
  // state (node_join.cpp): the steps leave it alone until then.
  bool joining(const std::string& node) const;
};

struct StepOutcome {
  std::vector<Action> writes;
  std::vector<Action> waits;
  // The step needs a gate (or, before the first write, a passing check) and
  // has nothing else to do.
  bool wants_check = false;
  // Every in-scope node (with --nodes) or the whole step has nothing left.
  bool scope_complete = false;
  std::optional<std::string> halt;

  void write(StepId step, std::string node, ActionKind kind) {
    writes.push_back(Action{step, std::move(node), std::move(kind)});
  }
  void wait(StepId step, std::string node, Gate gate, std::vector<std::string> pending) {
    waits.push_back(Action{step, std::move(node), WaitFor{gate, std::move(pending)}});
  }
};

// Adds a wait for readiness or asks for a check: what a gate needs next.
void request_gate(const Context& ctx, StepId step, StepOutcome& out);

// Every preflight resource exists and is ready (the knet-stress pods a check
// execs into).
bool preflight_resources_ready(const Context& ctx, std::vector<std::string>* pending);

// One file per step: its done predicate and its actions.
bool preflight_done(const Context& ctx);
StepOutcome run_preflight(const Context& ctx, bool may_write);
bool prepare_done(const Context& ctx);
StepOutcome run_prepare(const Context& ctx);
// roll, priority and migrate: node_step.hpp.
bool cleanup_done(const Context& ctx);
StepOutcome run_cleanup(const Context& ctx);
// After cleanup: the rollout its selector removal started has finished and,
// if this run wrote anything, a connectivity check passed since its last
// write (scope_complete then).
StepOutcome run_final_gate(const Context& ctx);

}  // namespace cnimig::migrate::detail
