#pragma once
// The I/O-free core (src/migrate/README.md): given what the watches have seen,
// say what to do next. Shaped like boost::redis's exec_fsm, except that it is
// level-triggered: it keeps no state between calls, so resuming after a crash
// is the same call on the new snapshot.
//
// Driver loop:
//   for (;;) {
//     the cache updates the ClusterSnapshot from watch events; the driver
//       keeps its RunRecord (bump write_generation per write issued, record
//       last_check, failures, blocked evictions, removed pods, in_flight);
//     Decision d = next_actions(snapshot, record, settings, budget, selection);
//     if (d.finished()) exit 0;  if (d.halted()) exit 1 with *d.halt_reason();
//     start d.actions() not already running (keep per-node order);
//     if nothing was started, wait for the next relevant watch event / result
//       (each WaitFor in d.waits has a deadline from config: on expiry, add a
//       Failure and call again, which brings in-flight nodes to a safe point
//       and returns Halt).
//   }

#include "cnimig/migrate/budget.hpp"
#include "cnimig/migrate/cluster_snapshot.hpp"
#include "cnimig/migrate/decision.hpp"
#include "cnimig/migrate/migration_settings.hpp"
#include "cnimig/migrate/node_index.hpp"
#include "cnimig/migrate/run_record.hpp"
#include "cnimig/migrate/selection.hpp"

namespace cnimig::migrate {

Decision next_actions(const ClusterSnapshot& snapshot, const RunRecord& record,
                      const MigrationSettings& settings, const Budget& budget,
                      const Selection& selection);

// The same decision at the cost of what changed: `nodes` keeps each node's
// derived facts between calls (node_index.hpp) and is refreshed here on
// `snapshot`; the caller touches the nodes that changed since the last call.
// The Decision's node_phases stay empty: the phases are nodes.phases().
Decision next_actions(NodeIndex& nodes, const ClusterSnapshot& snapshot, const RunRecord& record,
                      const MigrationSettings& settings, const Budget& budget,
                      const Selection& selection);

// A step's done predicate on the snapshot (what the cluster records, so it
// survives restarts). Later progress implies earlier steps: e.g. after cleanup
// has removed the labels, migrate is still done.
// Without a record: what a new process would find (preflight is done only
// once the migration has visibly started).
bool step_done(StepId step, const ClusterSnapshot& snapshot, const MigrationSettings& settings);

// Cleanup has begun (cilium-migrated's node selector is removed, the source
// CNI is being deleted): a rollback (Selection::rollback) is refused from then.
bool past_point_of_no_return(const ClusterSnapshot& snapshot, const MigrationSettings& settings);
bool step_done(StepId step, const ClusterSnapshot& snapshot, const RunRecord& record,
               const MigrationSettings& settings);

}  // namespace cnimig::migrate
