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
#include "cnimig/migrate/migration_settings.hpp"
#include "cnimig/migrate/selection.hpp"

namespace cnimig::migrate {

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
  // writes, write_generation by one). WaitFor, Halt and Done change only `now`.
  void apply(ClusterSnapshot& snapshot, const Action& action) const;
  // The same with a Tracker kept across the actions of a run (run_plan's).
  void apply(ClusterSnapshot& snapshot, const Action& action, Tracker& tracker) const;

  // 1 by default. 0 models a fast cluster where controllers re-create pods
  // many times within one second (run_plan then lets the clock tick only
  // when the core waits for it).
  std::int64_t seconds_per_action = 1;

  // Outcome of RunConnectivityCheck; passes when unset.
  std::function<bool(const ClusterSnapshot&)> check_outcome;

 private:
  void reconcile_daemon_sets(ClusterSnapshot& snapshot, Tracker& tracker) const;
  void schedule_pending(ClusterSnapshot& snapshot, Tracker& tracker) const;
  void replace_pod(ClusterSnapshot& snapshot, Tracker& tracker, const std::string& node,
                   PodState pod) const;

  // Sets the name and uid of a pod the model creates.
  void name_new_pod(const ClusterSnapshot& snapshot, Tracker& tracker, PodState& pod,
                    const std::string& base) const;

  MigrationSettings settings_;
};

struct PlanRun {
  std::vector<Action> actions;  // every action applied, in order (no waits)
  ClusterSnapshot final_snapshot;
  std::optional<Action> outcome;  // the final Halt or Done; empty when max_rounds ran out
  std::size_t rounds = 0;
};

using PlanObserver = std::function<void(const ClusterSnapshot&, const Action&)>;

// run_plan a slice at a time, for a caller that must stay responsive: plan
// mode returns to its io_context between slices, so that a signal stops a
// long plan. Settings, budget, selection and effects are used by reference
// and must outlive it.
class PlanRunner {
 public:
  PlanRunner(ClusterSnapshot snapshot, const MigrationSettings& settings, const Budget& budget,
             const Selection& selection, const SimulatedEffects& effects,
             std::size_t max_rounds = 100000, const PlanObserver& observer = {});
  ~PlanRunner();
  PlanRunner(const PlanRunner&) = delete;
  PlanRunner& operator=(const PlanRunner&) = delete;

  // Runs at most `rounds` more rounds; true once the plan has ended (Halt,
  // Done, or max_rounds ran out).
  bool advance(std::size_t rounds);
  const PlanRun& progress() const noexcept { return run_; }
  // The result, once advance() returned true.
  PlanRun finish();

 private:
  ClusterSnapshot snapshot_;
  const MigrationSettings& settings_;
  const Budget& budget_;
  const Selection& selection_;
  const SimulatedEffects& effects_;
  std::size_t max_rounds_;
  PlanObserver observer_;
  std::unique_ptr<SimulatedEffects::Tracker> tracker_;
  PlanRun run_;
  bool ended_ = false;
};

// Calls next_actions, applies every returned action, repeats until Halt or
// Done. `observer` runs after each applied action (tests check invariants).
PlanRun run_plan(ClusterSnapshot snapshot, const MigrationSettings& settings, const Budget& budget,
                 const Selection& selection, const SimulatedEffects& effects,
                 std::size_t max_rounds = 100000, const PlanObserver& observer = {});

}  // namespace cnimig::migrate
