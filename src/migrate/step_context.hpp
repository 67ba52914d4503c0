#pragma once
// Internal: what every step file reads (the snapshot plus derived facts) and
// what it returns.

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cnimig/migrate/budget.hpp"
#include "cnimig/migrate/cluster_snapshot.hpp"
#include "cnimig/migrate/decision.hpp"
#include "cnimig/migrate/migration_settings.hpp"
#include "cnimig/migrate/node_index.hpp"
#include "cnimig/migrate/node_phase.hpp"
#include "cnimig/migrate/run_record.hpp"
#include "cnimig/migrate/selection.hpp"

namespace cnimig::migrate::detail {

// The node's label `key` carries the migration's value.
bool has_label(const MigrationSettings& s, const NodeState& node, const std::string& key);
// Cleanup's first write, cilium-migrated's selector removal, is observed.
bool cleanup_started(const ClusterSnapshot& snap, const MigrationSettings& s);
// prepare's patch: the source CNI selects calico-cilium nodes (from then on
// a node without the labels runs no CNI).
bool source_cni_patched(const ClusterSnapshot& snap, const MigrationSettings& s);
// The node carries what prepare labels (or what later steps replaced it with).
bool node_prepared(const MigrationSettings& s, const NodeState& node);
// No migration label and none of our annotations on the node.
bool node_clean(const MigrationSettings& s, const NodeState& node);

struct Context {
  // `nodes` is refreshed on `snapshot`.
  Context(const ClusterSnapshot& snapshot, const RunRecord& record,
          const MigrationSettings& settings, const Budget& budget, const Selection& selection,
          const NodeIndex& nodes);

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
  // A write that is about no one node (a bundle, a DaemonSet) is running.
  bool cluster_writes_in_flight = false;
  bool check_in_flight = false;
  // Every watched resource exists (or is not expected yet) and is ready.
  bool watched_ready = false;
  std::vector<std::string> not_ready;
  // A check passed at the current write generation with nothing in flight
  // (check_covers(run, "")).
  bool check_current = false;
  // A check passed during this run (the preflight condition).
  bool checked_this_run = false;
  // The whole-cluster gate (src/migrate/README.md "Gates, budget and
  // failures"): watched resources ready and a passing check after every
  // write. Steps start and end behind it.
  bool gate_ok = false;
  // A node's gate: watched resources ready and a passing check that started
  // after every write to that node and every cluster-wide write
  // (check_covers()), whatever other nodes did since.
  // With sampled checks, the gate of a step's last node needs a full one.
  bool gate_ok_for(const std::string& node, StepId step) const;

  // Each node's derived facts (node_index.hpp): what the steps scan for.
  const NodeIndex& nodes;

  // RunRecord::in_flight by node and RunRecord::blocked_evictions by pod,
  // indexed once per call: a drain tests each of its pods against both, and
  // with 250 nodes draining at once a scan of the whole lists per pod made
  // the core quadratic (most of the agent's CPU in the 5,000-node run).
  std::unordered_map<std::string_view, std::vector<const Action*>> in_flight_by_node;
  std::map<std::pair<std::string_view, std::string_view>, const BlockedEviction*> blocked_by_pod;
  bool in_flight(const Action& action) const;
  const BlockedEviction* blocked(const PodState& pod) const;

  bool has_label(const NodeState& node, const std::string& key) const;
  std::optional<std::string> annotation(const NodeState& node, std::string_view name) const;
  bool was_cordoned(const NodeState& node) const;
  bool cleanup_started() const;
  bool migration_started() const;
  // Objects the migration creates are expected only once their bundle is
  // applied (config.yaml: "only expected once their step has run"), those
  // of the other strategy never.
  bool expected(const ObjectRef& ref) const;
  bool resource_ready(const ObjectRef& ref, std::vector<std::string>* pending) const;
  NodePhase phase(const std::string& node) const { return nodes.phase(node); }
  // The node joined during the migration and is being brought into its
  // state (node_join.cpp): the steps leave it alone until then.
  bool joining(const std::string& node) const;
};

// Calls `fn(name)` for each of `names` (in name order) that `selection`
// includes, until it returns false. It walks the smaller of the two sets:
// a call costs the nodes in question, not the cluster.
template <class Fn>
void for_each_selected(const Selection& selection, const std::set<std::string>& names, Fn fn) {
  if (selection.nodes.empty() || names.size() <= selection.nodes.size()) {
    for (const auto& name : names) {
      if (selection.includes_node(name) && !fn(name))
        return;
    }
    return;
  }
  for (const auto& name : selection.nodes) {
    if (names.contains(name) && !fn(name))
      return;
  }
}

inline bool any_selected(const Selection& selection, const std::set<std::string>& names) {
  bool any = false;
  for_each_selected(selection, names, [&](const std::string&) { return !(any = true); });
  return any;
}

struct StepOutcome {
  std::vector<Action> writes;
  std::vector<Action> waits;
  // The step needs a gate (or, before the first write, a passing check) and
  // has nothing else to do.
  bool wants_check = false;
  // A node's gate needs a check that follows that node's writes: it may
  // start while other nodes' writes run (not while a cluster-wide one does).
  bool wants_node_check = false;
  // The nodes whose gates want it (a sampled check execs their pods).
  std::vector<std::string> check_nodes;
  // Every in-scope node (with --nodes) or the whole step has nothing left.
  bool scope_complete = false;
  std::optional<std::string> halt;

  // Something to do or to wait for.
  bool busy() const { return !writes.empty() || !waits.empty() || wants_check || wants_node_check; }
  void write(StepId step, std::string node, ActionKind kind) {
    writes.push_back(Action{step, std::move(node), std::move(kind)});
  }
  void wait(StepId step, std::string node, Gate gate, std::vector<std::string> pending) {
    waits.push_back(Action{step, std::move(node), WaitFor{gate, std::move(pending)}});
  }
};

// Turns a step's outcome into the decision: its writes not already running,
// else a connectivity check, a wait, a Halt (failure, no progress) or Done
// (`last_selected` and its scope complete).
void finish(Decision& d, const Context& ctx, StepId step, StepOutcome out, bool last_selected);

// Adds a wait for readiness or asks for a check: what the whole-cluster
// gate needs next.
void request_gate(const Context& ctx, StepId step, StepOutcome& out);
// The same for `node`'s gate.
void request_gate(const Context& ctx, StepId step, const std::string& node, StepOutcome& out);

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
// Removes every migration label and our annotations from the node (the end
// of cleanup, and of a rollback's restore).
void clean_node(const Context& ctx, StepId step, const NodeState& node, StepOutcome& out);
StepOutcome run_cleanup(const Context& ctx);
// After cleanup: the rollout its selector removal started has finished and,
// if this run wrote anything, a connectivity check passed since its last
// write (scope_complete then).
StepOutcome run_final_gate(const Context& ctx);

}  // namespace cnimig::migrate::detail
