#pragma once
// A node's place in the migration, derived only from its labels, our
// annotations, taints, cordon and pods (plus cilium-migrated's pod on it):
// nothing is remembered between calls, so a fresh process derives the same
// phase after a crash.

#include <string_view>

#include "cnimig/migrate/cluster_snapshot.hpp"
#include "cnimig/migrate/migration_settings.hpp"

namespace cnimig::migrate {

enum class NodePhase {
  unprepared,  // no migration label yet (prepare labels it)

  // A node that joined after prepare gave the CNIs their node selectors
  // (annotation join=...): it gets the labels of the state the migration is
  // in, then its pods are re-created once its CNIs run (node_join.cpp).
  joining,             // no migration label: the join labels next
  join_cni_wait,       // labelled: waiting for its CNI agents to run Ready
  join_deleting_pods,  // deleting the pods created before its CNIs were in place
  join_awaiting_gate,  // gate, then the annotation removal ends the join
  prepared,            // calico-cilium + priority-calico: waiting for its roll

  // roll (annotation roll=...)
  roll_started,        // intent recorded, cordon next
  roll_draining,       // cordoned, evicting non-DaemonSet pods
  roll_drained,        // nothing left to evict: record the deletion cut-off next
  roll_deleting_pods,  // deleting pods created before the cut-off (DaemonSet pods too)
  roll_pods_deleted,   // all re-created: uncordon next
  roll_awaiting_gate,  // uncordoned: gate, then label rolled
  roll_finishing,      // labelled rolled: remove the roll annotations
  rolled,              // waiting for priority

  // priority (annotation priority=...)
  priority_started,  // intent recorded, swap priority-calico -> priority-cilium next
  priority_swapped,  // swapped: multus ready, then cordon
  priority_draining,
  priority_drained,
  priority_deleting_pods,
  priority_pods_deleted,   // uncordon next
  priority_awaiting_gate,  // gate, then the annotation removal records completion
  prioritised,             // priority-cilium, done: waiting for migrate

  // migrate (annotation migrate=...)
  migrate_started,            // intent recorded, cordon next
  migrate_draining,           // evicting non-DaemonSet pods
  migrate_drained,            // NoExecute taint next
  migrate_tainted,            // swap calico-cilium -> cilium next
  migrate_cilium_ready_wait,  // waiting for cilium-migrated Ready on the node
  migrate_cilium_ready,       // record the deletion cut-off next
  migrate_deleting_pods,      // deleting pods created before the cut-off
  migrate_pods_deleted,       // gate, then remove the taint
  migrate_untainted,          // uncordon next
  migrate_uncordoned,         // priority-cilium -> migrated next
  migrate_labelled,           // gate, then the annotation removal records completion

  // cilium-native's per-node step (annotation native=..., node_native.cpp).
  native_pending,           // no migration label: waiting for its turn
  native_started,           // intent recorded, cordon next
  native_draining,          // evicting non-DaemonSet pods
  native_drained,           // agent cut-off and label cilium-default next
  native_agent_restarting,  // deleting the Cilium agent pod that predates the label
  native_agent_wait,        // waiting for the re-created agent pod Ready
  native_agent_ready,       // record the pods' cut-off next
  native_deleting_pods,     // deleting pods created before the cut-off
  native_pods_deleted,      // pods Ready on Cilium addresses, gate, then uncordon
  native_uncordoned,        // label migrated next
  native_labelled,          // gate, then the annotation removal records completion
  migrated,

  cleaned,  // cleanup removed the migration labels

  // Rollback (rollback_phase.cpp). Back from Cilium alone (annotation
  // rollback-migrate=...): to calico-cilium + priority-cilium.
  rollback_migrate_started,        // intent recorded, cordon next
  rollback_migrate_draining,       // evicting non-DaemonSet pods
  rollback_migrate_drained,        // swap cilium/migrated -> calico-cilium + priority-cilium next
  rollback_migrate_cni_wait,       // waiting for the source CNI, the first Cilium and multus
  rollback_migrate_cni_ready,      // record the deletion cut-off next
  rollback_migrate_deleting_pods,  // deleting pods created before the cut-off
  rollback_migrate_pods_deleted,   // gate, then untaint, uncordon, annotations removed
  // Back to the source CNI first (annotation rollback-priority=...).
  rollback_priority_started,  // swap priority-cilium -> priority-calico next
  rollback_priority_swapped,  // multus with the source first ready on the node, then cordon
  rollback_priority_draining,
  rollback_priority_drained,
  rollback_priority_deleting_pods,
  rollback_priority_pods_deleted,   // uncordon next
  rollback_priority_awaiting_gate,  // gate, then the annotation removal records completion
  // Off multus (annotation rollback-roll=...), whole-cluster rollbacks only.
  rollback_roll_started,  // remove priority-calico and rolled next
  rollback_roll_swapped,  // multus gone from the node, then cordon
  rollback_roll_draining,
  rollback_roll_drained,
  rollback_roll_deleting_pods,
  rollback_roll_pods_deleted,
  rollback_roll_awaiting_gate,
};

std::string_view to_string(NodePhase phase) noexcept;

// A node in flight in a rollback (one of the rollback_* phases).
bool is_rollback_phase(NodePhase phase) noexcept;

NodePhase node_phase(const NodeState& node, const ClusterSnapshot& snapshot,
                     const MigrationSettings& settings);

}  // namespace cnimig::migrate
