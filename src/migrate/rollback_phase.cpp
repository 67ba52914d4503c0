// The phase of a node a rollback holds, from its rollback annotation, labels,
// cordon and pods (src/migrate/README.md "Rollback"). As for the forward
// steps, the annotation is written before the work it announces, so a fresh
// process derives the same phase after a crash.

#include "node_roll.hpp"

namespace cnimig::migrate::detail {
namespace {

const RollPhases kRollbackPriority{
    NodePhase::rollback_priority_started,       NodePhase::rollback_priority_swapped,
    NodePhase::rollback_priority_draining,      NodePhase::rollback_priority_drained,
    NodePhase::rollback_priority_deleting_pods, NodePhase::rollback_priority_pods_deleted,
    NodePhase::rollback_priority_awaiting_gate, annotation_names::kRollbackPriorityPodsBefore};
const RollPhases kRollbackRoll{
    NodePhase::rollback_roll_started,       NodePhase::rollback_roll_swapped,
    NodePhase::rollback_roll_draining,      NodePhase::rollback_roll_drained,
    NodePhase::rollback_roll_deleting_pods, NodePhase::rollback_roll_pods_deleted,
    NodePhase::rollback_roll_awaiting_gate, annotation_names::kRollbackRollPodsBefore};

NodePhase unmigrate_phase(const MigrationSettings& s, const NodeState& node,
                          std::string_view value) {
  if (value == stage::kDeleting)
    return NodePhase::rollback_migrate_deleting_pods;
  if (value == stage::kPodsDeleted)
    return NodePhase::rollback_migrate_pods_deleted;
  if (!node.unschedulable)
    return NodePhase::rollback_migrate_started;
  if (has_evictable_pods(s, node))
    return NodePhase::rollback_migrate_draining;
  if (!back_on_both_cnis(s, node))
    return NodePhase::rollback_migrate_drained;
  if (!both_cnis_ready(s, node).empty())
    return NodePhase::rollback_migrate_cni_wait;
  return NodePhase::rollback_migrate_cni_ready;
}

}  // namespace

bool back_on_both_cnis(const MigrationSettings& s, const NodeState& node) {
  const auto& l = s.labels;
  return has_label(s, node, l.calico_cilium) && has_label(s, node, l.cni_priority_cilium) &&
         !node.labels.contains(l.cilium) && !node.labels.contains(l.migrated);
}

std::vector<std::string> both_cnis_ready(const MigrationSettings& s, const NodeState& node) {
  std::vector<std::string> pending;
  const auto& ns = s.system_namespace;
  if (!runs_ready_pod(node, s.source_cni.ns, s.source_cni.name))
    pending.push_back(s.source_cni.describe() + " not Ready on " + node.name);
  if (!runs_ready_pod(node, ns, s.cilium_daemon_set))
    pending.push_back(s.cilium().describe() + " not Ready on " + node.name);
  if (!runs_ready_pod(node, ns, s.multus_cilium_daemon_set))
    pending.push_back(s.multus_cilium().describe() + " not Ready on " + node.name);
  // Its 00-cilium.conf sorts first: pods re-created while it runs would get
  // Cilium alone again.
  if (runs_pod(node, ns, s.cilium_migrated_daemon_set))
    pending.push_back(s.cilium_migrated().describe() + " still on " + node.name);
  return pending;
}

std::optional<NodePhase> rollback_phase(const NodeState& node, const MigrationSettings& s) {
  const auto& l = s.labels;
  if (const auto* v = s.find_annotation(node.annotations, annotation_names::kRollbackMigrate))
    return unmigrate_phase(s, node, *v);
  if (const auto* v = s.find_annotation(node.annotations, annotation_names::kRollbackPriority)) {
    return roll_like_phase(s, node, *v, kRollbackPriority,
                           node.labels.contains(l.cni_priority_cilium));
  }
  if (const auto* v = s.find_annotation(node.annotations, annotation_names::kRollbackRoll)) {
    const bool swap_pending =
        node.labels.contains(l.cni_priority_calico) || node.labels.contains(l.rolled);
    return roll_like_phase(s, node, *v, kRollbackRoll, swap_pending);
  }
  return std::nullopt;
}

std::string_view rollback_phase_name(NodePhase phase) noexcept {
  switch (phase) {
    case NodePhase::rollback_migrate_started:
      return "rollback-migrate-started";
    case NodePhase::rollback_migrate_draining:
      return "rollback-migrate-draining";
    case NodePhase::rollback_migrate_drained:
      return "rollback-migrate-drained";
    case NodePhase::rollback_migrate_cni_wait:
      return "rollback-migrate-cni-wait";
    case NodePhase::rollback_migrate_cni_ready:
      return "rollback-migrate-cni-ready";
    case NodePhase::rollback_migrate_deleting_pods:
      return "rollback-migrate-deleting-pods";
    case NodePhase::rollback_migrate_pods_deleted:
      return "rollback-migrate-pods-deleted";
    case NodePhase::rollback_priority_started:
      return "rollback-priority-swapping";
    case NodePhase::rollback_priority_swapped:
      return "rollback-priority-swapped";
    case NodePhase::rollback_priority_draining:
      return "rollback-priority-draining";
    case NodePhase::rollback_priority_drained:
      return "rollback-priority-drained";
    case NodePhase::rollback_priority_deleting_pods:
      return "rollback-priority-deleting-pods";
    case NodePhase::rollback_priority_pods_deleted:
      return "rollback-priority-pods-deleted";
    case NodePhase::rollback_priority_awaiting_gate:
      return "rollback-priority-awaiting-gate";
    case NodePhase::rollback_roll_started:
      return "rollback-roll-swapping";
    case NodePhase::rollback_roll_swapped:
      return "rollback-roll-swapped";
    case NodePhase::rollback_roll_draining:
      return "rollback-roll-draining";
    case NodePhase::rollback_roll_drained:
      return "rollback-roll-drained";
    case NodePhase::rollback_roll_deleting_pods:
      return "rollback-roll-deleting-pods";
    case NodePhase::rollback_roll_pods_deleted:
      return "rollback-roll-pods-deleted";
    case NodePhase::rollback_roll_awaiting_gate:
      return "rollback-roll-awaiting-gate";
    default:
      return "unknown";
  }
}

}  // namespace cnimig::migrate::detail

namespace cnimig::migrate {

bool is_rollback_phase(NodePhase phase) noexcept {
  return static_cast<int>(phase) >= static_cast<int>(NodePhase::rollback_migrate_started);
}

}  // namespace cnimig::migrate
