// Deriving a node's phase from what the cluster records. Each step writes its
// progress annotation before acting, so the annotation plus the observable
// facts (cordon, taint, labels, pods) always name the next action.

#include "cnimig/migrate/node_phase.hpp"

#include <optional>

#include "node_roll.hpp"

namespace cnimig::migrate {
namespace {

struct NodeFacts {
  const NodeState& node;
  const ClusterSnapshot& snap;
  const MigrationSettings& s;

  bool label(const std::string& key) const { return detail::has_label(s, node, key); }
  std::optional<std::string> ann(std::string_view name) const {
    if (const auto* value = s.find_annotation(node.annotations, name))
      return *value;
    return std::nullopt;
  }
  bool was_cordoned() const { return ann(annotation_names::kWasCordoned) == "true"; }
  bool cilium_taint() const {
    for (const auto& t : node.taints) {
      if (t.key == s.labels.cilium && t.effect == "NoExecute")
        return true;
    }
    return false;
  }
  bool cilium_migrated_ready() const {
    return detail::runs_ready_pod(node, s.system_namespace, s.cilium_migrated_daemon_set);
  }
  // The only facts outside the node a phase reads (NodeIndex re-derives
  // every node when one of them changes).
  bool cleanup_started() const { return detail::cleanup_started(snap, s); }
  bool source_cni_selects_prepared_nodes() const { return detail::source_cni_patched(snap, s); }
  bool any_annotation() const {
    for (const auto& [key, value] : node.annotations) {
      if (key.starts_with(s.annotation_prefix))
        return true;
    }
    return false;
  }
  bool any_label() const {
    for (const auto& key : s.labels.all()) {
      if (node.labels.contains(key))
        return true;
    }
    return false;
  }
};

const detail::RollPhases kRollPhases{
    NodePhase::roll_started,       NodePhase::roll_started,          NodePhase::roll_draining,
    NodePhase::roll_drained,       NodePhase::roll_deleting_pods,    NodePhase::roll_pods_deleted,
    NodePhase::roll_awaiting_gate, annotation_names::kRollPodsBefore};
const detail::RollPhases kPriorityPhases{
    NodePhase::priority_started,       NodePhase::priority_swapped,
    NodePhase::priority_draining,      NodePhase::priority_drained,
    NodePhase::priority_deleting_pods, NodePhase::priority_pods_deleted,
    NodePhase::priority_awaiting_gate, annotation_names::kPriorityPodsBefore};

// After the deletion: the gate, then untaint, uncordon and `migrated` in one
// patch (older versions wrote them one by one), then the final gate.
NodePhase migrate_after_deletion(const NodeFacts& f) {
  if (f.cilium_taint())
    return NodePhase::migrate_pods_deleted;
  if (f.node.unschedulable && !f.was_cordoned())
    return NodePhase::migrate_untainted;
  if (!f.label(f.s.labels.migrated))
    return NodePhase::migrate_uncordoned;
  return NodePhase::migrate_labelled;
}

NodePhase migrate_phase(const NodeFacts& f, std::string_view stage_value) {
  if (stage_value == stage::kDeleting) {
    // Recorded with the taint and the swap, before cilium-migrated runs here.
    if (!f.cilium_migrated_ready())
      return NodePhase::migrate_cilium_ready_wait;
    const auto cut = detail::cutoff(f.s, f.node, annotation_names::kMigratePodsBefore);
    if (!cut.recorded() || !detail::pods_to_recreate(f.node, cut).empty())
      return NodePhase::migrate_deleting_pods;
    return migrate_after_deletion(f);
  }
  if (stage_value == stage::kPodsDeleted)
    return migrate_after_deletion(f);
  if (!f.node.unschedulable)
    return NodePhase::migrate_started;
  if (detail::has_evictable_pods(f.s, f.node))
    return NodePhase::migrate_draining;
  if (!f.cilium_taint())
    return NodePhase::migrate_drained;
  if (f.label(f.s.labels.calico_cilium) || !f.label(f.s.labels.cilium)) {
    return NodePhase::migrate_tainted;
  }
  if (!f.cilium_migrated_ready())
    return NodePhase::migrate_cilium_ready_wait;
  return NodePhase::migrate_cilium_ready;
}

}  // namespace

std::string_view to_string(NodePhase phase) noexcept {
  switch (phase) {
    case NodePhase::unprepared:
      return "unprepared";
    case NodePhase::joining:
      return "joining";
    case NodePhase::join_cni_wait:
      return "join-cni-wait";
    case NodePhase::join_deleting_pods:
      return "join-deleting-pods";
    case NodePhase::join_awaiting_gate:
      return "join-awaiting-gate";
    case NodePhase::prepared:
      return "pending-roll";
    case NodePhase::roll_started:
      return "roll-started";
    case NodePhase::roll_draining:
      return "roll-draining";
    case NodePhase::roll_drained:
      return "roll-drained";
    case NodePhase::roll_deleting_pods:
      return "roll-deleting-pods";
    case NodePhase::roll_pods_deleted:
      return "roll-pods-deleted";
    case NodePhase::roll_awaiting_gate:
      return "roll-awaiting-gate";
    case NodePhase::roll_finishing:
      return "roll-finishing";
    case NodePhase::rolled:
      return "rolled";
    case NodePhase::priority_started:
      return "priority-swapping";
    case NodePhase::priority_swapped:
      return "priority-swapped";
    case NodePhase::priority_draining:
      return "priority-draining";
    case NodePhase::priority_drained:
      return "priority-drained";
    case NodePhase::priority_deleting_pods:
      return "priority-deleting-pods";
    case NodePhase::priority_pods_deleted:
      return "priority-pods-deleted";
    case NodePhase::priority_awaiting_gate:
      return "priority-awaiting-gate";
    case NodePhase::prioritised:
      return "prioritised";
    case NodePhase::migrate_started:
      return "migrate-started";
    case NodePhase::migrate_draining:
      return "migrate-draining";
    case NodePhase::migrate_drained:
      return "migrate-drained";
    case NodePhase::migrate_tainted:
      return "migrate-tainted";
    case NodePhase::migrate_cilium_ready_wait:
      return "cilium-migrated-ready-wait";
    case NodePhase::migrate_cilium_ready:
      return "cilium-migrated-ready";
    case NodePhase::migrate_deleting_pods:
      return "migrate-deleting-pods";
    case NodePhase::migrate_pods_deleted:
      return "migrate-pods-deleted";
    case NodePhase::migrate_untainted:
      return "migrate-untainted";
    case NodePhase::migrate_uncordoned:
      return "migrate-uncordoned";
    case NodePhase::migrate_labelled:
      return "migrate-labelled";
    case NodePhase::native_pending:
      return "pending-native";
    case NodePhase::native_started:
      return "native-started";
    case NodePhase::native_draining:
      return "native-draining";
    case NodePhase::native_drained:
      return "native-drained";
    case NodePhase::native_agent_restarting:
      return "native-agent-restarting";
    case NodePhase::native_agent_wait:
      return "native-agent-wait";
    case NodePhase::native_agent_ready:
      return "native-agent-ready";
    case NodePhase::native_deleting_pods:
      return "native-deleting-pods";
    case NodePhase::native_pods_deleted:
      return "native-pods-deleted";
    case NodePhase::native_uncordoned:
      return "native-uncordoned";
    case NodePhase::native_labelled:
      return "native-labelled";
    case NodePhase::migrated:
      return "migrated";
    case NodePhase::cleaned:
      return "cleaned";
    default:
      return detail::rollback_phase_name(phase);
  }
}

NodePhase node_phase(const NodeState& node, const ClusterSnapshot& snapshot,
                     const MigrationSettings& settings) {
  if (settings.native())
    return detail::native_phase(node, snapshot, settings);
  NodeFacts f{node, snapshot, settings};
  const auto& l = settings.labels;
  if (auto phase = detail::rollback_phase(node, settings))
    return *phase;
  if (auto j = f.ann(annotation_names::kJoin)) {
    if (*j == stage::kDeleting)
      return NodePhase::join_deleting_pods;
    if (*j == stage::kPodsDeleted)
      return NodePhase::join_awaiting_gate;
    return f.any_label() ? NodePhase::join_cni_wait : NodePhase::joining;
  }
  // A step's annotations are removed before the next step may start on the
  // node, so at most one of these is present.
  if (auto m = f.ann(annotation_names::kMigrate))
    return migrate_phase(f, *m);
  if (auto p = f.ann(annotation_names::kPriority)) {
    return detail::roll_like_phase(settings, node, *p, kPriorityPhases,
                                   f.label(l.cni_priority_calico));
  }
  if (auto r = f.ann(annotation_names::kRoll)) {
    // The rolled label records completion; only the annotation's removal is left.
    if (f.label(l.rolled))
      return NodePhase::roll_finishing;
    return detail::roll_like_phase(settings, node, *r, kRollPhases, false);
  }
  if (f.label(l.migrated))
    return NodePhase::migrated;
  if (f.label(l.cni_priority_cilium))
    return NodePhase::prioritised;
  if (f.label(l.rolled))
    return NodePhase::rolled;
  if (f.label(l.calico_cilium) && f.label(l.cni_priority_calico))
    return NodePhase::prepared;
  if (f.cleanup_started() && !f.any_label())
    return NodePhase::cleaned;
  if (!f.any_label() && f.source_cni_selects_prepared_nodes() && !f.any_annotation())
    return NodePhase::joining;
  return NodePhase::unprepared;
}

}  // namespace cnimig::migrate

namespace cnimig::migrate::detail {

NodePhase roll_like_phase(const MigrationSettings& s, const NodeState& node,
                          std::string_view stage_value, const RollPhases& phases,
                          bool swap_pending) {
  const auto* was = s.find_annotation(node.annotations, annotation_names::kWasCordoned);
  const bool was_cordoned = was != nullptr && *was == "true";
  // Pods re-created: the node waits for its gate, cordoned (the uncordon
  // goes with the completion) or given back after a failure.
  const auto re_created =
      node.unschedulable && !was_cordoned ? phases.pods_deleted : phases.awaiting_gate;
  if (stage_value == stage::kPodsDeleted)
    return re_created;
  // The deletion's end shows in the pods themselves: no write records it.
  const auto cut = cutoff(s, node, phases.before_key);
  const bool old_pods_left = !cut.recorded() || !pods_to_recreate(node, cut).empty();
  if (stage_value == stage::kDeleting)
    return old_pods_left ? phases.deleting : re_created;
  // "started" (or a value we do not know: start over, every action is idempotent)
  if (swap_pending)
    return phases.started;
  // The cut-off is recorded with the cordon: none predating it left means
  // the pods were re-created, whether the node is still cordoned or was
  // given back after a failure.
  if (cut.recorded() && !old_pods_left)
    return re_created;
  if (!node.unschedulable)
    return phases.cordon;
  if (has_evictable_pods(s, node))
    return phases.draining;
  // Drained. With the cut-off recorded (at the cordon), the deletion needs no
  // write to begin.
  return cut.recorded() ? phases.deleting : phases.drained;
}

}  // namespace cnimig::migrate::detail
