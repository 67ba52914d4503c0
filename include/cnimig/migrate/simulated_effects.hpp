#pragma once
// The expected effect of each action on a snapshot, as a cooperative cluster
// would produce it at once: labels change, cordon sets unschedulable, an
// evicted or deleted pod disappears and, when a DaemonSet, Deployment or
// StatefulSet owns it, comes back Ready (DaemonSet pods on the same node when
// its selector still matches, others on the emptiest schedulable node), a
// bundle's DaemonSets exist and run Ready on the nodes they select, and a
// connectivity check passes. Plan mode runs the core against it; tests drive
// the core to the end with it.

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cnimig/migrate/budget.hpp"
#include "cnimig/migrate/cluster_snapshot.hpp"
#include "cnimig/migrate/decision.hpp"
#include "cnimig/migrate/migration_settings.hpp"
#include "cnimig/migrate/node_index.hpp"
#include "cnimig/migrate/run_record.hpp"
#include "cnimig/migrate/selection.hpp"

namespace cnimig::migrate {

// What the model evolves: the cluster as a watch cache would show it and the
// record a driver would keep, in one value (a real run keeps them apart, in
// the cache and the driver; the model plays both).
struct PlanState : ClusterSnapshot, RunRecord {
  PlanState() = default;
  // Implicit: a snapshot alone is what a new process starts from.
  PlanState(ClusterSnapshot cluster, RunRecord record = {})
      : ClusterSnapshot(std::move(cluster)), RunRecord(std::move(record)) {}

  const ClusterSnapshot& cluster() const noexcept { return *this; }
  const RunRecord& record() const noexcept { return *this; }
  friend bool operator==(const PlanState&, const PlanState&) = default;
};

// The core on the model: next_actions and step_done with its record.
Decision next_actions(const PlanState& state, const MigrationSettings& settings,
                      const Budget& budget, const Selection& selection);
bool step_done(StepId step, const PlanState& state, const MigrationSettings& settings);

class SimulatedEffects {
 public:
  explicit SimulatedEffects(MigrationSettings settings);

  // What the model remembers between the actions of one run so that an
  // action costs what it touches rather than the whole cluster (at 150,000
  // pods, per action): the pod names in use and where, each node's workload
  // pod count and schedulability, and the nodes changed since their
  // DaemonSet pods were last reconciled. It stays true only while its
  // snapshot changes through apply(snapshot, action, tracker) (or its clock).
  class Tracker;

  // Applies `action` (advancing `now` by `seconds_per_action` and, for
  // writes, write_generation by one). WaitFor changes only `now`.
  void apply(PlanState& state, const Action& action) const;
  // The same with a Tracker kept across the actions of a run (run_plan's).
  void apply(PlanState& state, const Action& action, Tracker& tracker) const;

  // 1 by default. 0 models a fast cluster where controllers re-create pods
  // many times within one second (run_plan then lets the clock tick only
  // when the core waits for it).
  std::int64_t seconds_per_action = 1;

  // Outcome of RunConnectivityCheck; passes when unset.
  std::function<bool(const ClusterSnapshot&)> check_outcome;

 private:
  void remove_pod(PlanState& state, Tracker& tracker, const std::string& ns,
                  const std::string& name) const;
  bool change_node(PlanState& state, Tracker& tracker, const Action& action) const;
  void add_taint(PlanState& state, Tracker& tracker, NodeState& node, const Taint& taint) const;
  void change_workloads(PlanState& state, Tracker& tracker, const Action& action) const;
  void delete_object(PlanState& state, Tracker& tracker, const ObjectRef& object) const;
  void reconcile_daemon_sets(PlanState& state, Tracker& tracker) const;
  void schedule_pending(PlanState& state, Tracker& tracker) const;
  void replace_pod(PlanState& state, Tracker& tracker, const std::string& node, PodState pod) const;

  // Sets the name and uid of a pod the model creates.
  void name_new_pod(const PlanState& state, Tracker& tracker, PodState& pod,
                    const std::string& base) const;

  MigrationSettings settings_;
};

struct PlanRun {
  std::vector<Action> actions;  // every action applied, in order (no waits)
  PlanState final_snapshot;
  std::optional<RunEnd> outcome;  // the final Halt or Done; empty when max_rounds ran out
  std::size_t rounds = 0;
};

using PlanObserver = std::function<void(const PlanState&, const Action&)>;

// run_plan a slice at a time, for a caller that must stay responsive: plan
// mode returns to its io_context between slices, so that a signal stops a
// long plan. Settings, budget, selection and effects are used by reference
// and must outlive it.
class PlanRunner {
 public:
  PlanRunner(PlanState state, const MigrationSettings& settings, const Budget& budget,
             const Selection& selection, const SimulatedEffects& effects,
             std::size_t max_rounds = 100000, const PlanObserver& observer = {});
  ~PlanRunner();
  PlanRunner(const PlanRunner&) = delete;
  PlanRunner& operator=(const PlanRunner&) = delete;

  // Runs at most `rounds` more rounds; true once the plan has ended (Halt,
  // Done, or max_rounds ran out).
  bool advance(std::size_t rounds);
  const PlanRun& progress() const noexcept { return run_; }
  // The modelled state between rounds, and the index the next round
  // refreshes on it (the nodes the last round touched are pending in it).
  const PlanState& state() const noexcept { return snapshot_; }
  const NodeIndex& nodes() const noexcept { return nodes_; }
  // The result, once advance() returned true.
  PlanRun finish();

 private:
  PlanState snapshot_;
  const MigrationSettings& settings_;
  const Budget& budget_;
  const Selection& selection_;
  const SimulatedEffects& effects_;
  std::size_t max_rounds_;
  PlanObserver observer_;
  std::unique_ptr<SimulatedEffects::Tracker> tracker_;
  // Each node's derived facts, re-derived for the nodes the tracker saw
  // touched: a round costs what its actions changed.
  NodeIndex nodes_;
  PlanRun run_;
  bool ended_ = false;
};

// Calls next_actions, applies every returned action, repeats until Halt or
// Done. `observer` runs after each applied action (tests check invariants).
PlanRun run_plan(PlanState state, const MigrationSettings& settings, const Budget& budget,
                 const Selection& selection, const SimulatedEffects& effects,
                 std::size_t max_rounds = 100000, const PlanObserver& observer = {});

}  // namespace cnimig::migrate
