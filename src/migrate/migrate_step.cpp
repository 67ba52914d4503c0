// Step 4, migrate: move each node to Cilium alone. Per node: gate; record
// intent; cordon; drain; NoExecute taint on the cilium key (only pods that
// tolerate it, the CNI agents and knet-stress, stay), swap calico-cilium for
// cilium (the source CNI and the first Cilium leave, cilium-migrated and its
// 00-cilium.conf arrive) and record the cut-off, in one patch; wait for
// cilium-migrated Ready on the node; delete what predates the cut-off; gate;
// untaint, uncordon and swap priority-cilium for migrated (multus leaves) in
// one patch; gate; drop the annotations.
// It runs only when priority is done on every node: a node may drop the
// source CNI only when every pod anywhere already takes its IP from Cilium.

#include "node_step.hpp"

namespace cnimig::migrate::detail {
namespace {

bool node_done(const MigrationSettings& s, const NodeState& node) {
  return has_label(s, node, s.labels.migrated) &&
         s.find_annotation(node.annotations, annotation_names::kMigrate) == nullptr;
}

Taint cilium_taint(const MigrationSettings& s) {
  return Taint{s.labels.cilium, s.labels.value, "NoExecute"};
}

LabelNode to_cilium(const MigrationSettings& s, const std::string& node) {
  return LabelNode{node, {{s.labels.cilium, s.labels.value}}, {s.labels.calico_cilium}};
}

LabelNode to_migrated(const MigrationSettings& s, const std::string& node) {
  return LabelNode{node, {{s.labels.migrated, s.labels.value}}, {s.labels.cni_priority_cilium}};
}

bool is_stage(const MigrationSettings& s, const NodeState& node, std::string_view key,
              std::string_view value) {
  const auto* v = s.find_annotation(node.annotations, key);
  return v != nullptr && *v == value;
}

// Phases that give the node back, allowed even after a failure.
NodeHold advance_after_deletion(const Context& ctx, const NodeStep& step, const NodeState& node,
                                NodePhase phase, StepOutcome& out) {
  const auto& s = ctx.settings;
  const auto& name = node.name;
  switch (phase) {
    case NodePhase::migrate_untainted:
      out.write(step.step, name, SetCordon{name, false});
      return NodeHold::unavailable;
    case NodePhase::migrate_pods_deleted:
      if (ctx.gate_ok_for(name, step.step)) {
        // One gate, then untaint, uncordon and swap priority-cilium for
        // migrated in this order (src/migrate/README.md), in one patch.
        if (!is_stage(s, node, step.stage_key, stage::kPodsDeleted)) {
          out.write(
              step.step, name,
              AnnotateNode{
                  name, {{s.annotation(step.stage_key), std::string(stage::kPodsDeleted)}}, {}});
        }
        out.write(step.step, name, RemoveTaint{name, cilium_taint(s)});
        if (node.unschedulable && !ctx.was_cordoned(node))
          out.write(step.step, name, SetCordon{name, false});
        if (!ctx.has_label(node, s.labels.migrated))
          out.write(step.step, name, to_migrated(s, name));
      } else {
        request_gate(ctx, step.step, name, out);
      }
      return NodeHold::unavailable;
    case NodePhase::migrate_labelled:
      return finish_after_gate(ctx, step, node, std::nullopt, out);
    default:
      return NodeHold::in_flight;
  }
}

NodeHold advance(const Context& ctx, const NodeStep& step, const NodeState& node, NodePhase phase,
                 StepOutcome& out) {
  const auto& s = ctx.settings;
  const auto& name = node.name;
  switch (phase) {
    case NodePhase::migrate_untainted:
    case NodePhase::migrate_pods_deleted:
    case NodePhase::migrate_labelled:
      return advance_after_deletion(ctx, step, node, phase, out);
    case NodePhase::migrate_uncordoned:
      if (!ctx.failed)
        out.write(step.step, name, to_migrated(s, name));
      return NodeHold::in_flight;
    default:
      break;
  }
  if (ctx.failed)
    return NodeHold::unavailable;  // every other phase is a safe place to stop
  switch (phase) {
    case NodePhase::migrate_started:
      cordon(ctx, step.step, node, out);
      drain(ctx, step.step, node, out);
      break;
    case NodePhase::migrate_draining:
      drain(ctx, step.step, node, out);
      break;
    case NodePhase::migrate_drained:
      // Taint first: the swap takes the source CNI away, and only pods
      // that tolerate the taint may still be on the node by then.
      out.write(step.step, name, AddTaint{name, cilium_taint(s)});
      if (ctx.has_label(node, s.labels.calico_cilium) || !ctx.has_label(node, s.labels.cilium))
        out.write(step.step, name, to_cilium(s, name));
      out.write(step.step, name, cutoff_annotation(ctx, node, step.stage_key, step.before_key));
      break;
    case NodePhase::migrate_tainted:
      out.write(step.step, name, to_cilium(s, name));
      out.write(step.step, name, cutoff_annotation(ctx, node, step.stage_key, step.before_key));
      break;
    case NodePhase::migrate_cilium_ready_wait:
    case NodePhase::migrate_cilium_ready:
      // The cut-off goes with the swap: the node is cordoned and tainted, so
      // the only pods created on it until cilium-migrated is Ready are the
      // ones tolerating both, and the deletion waits for that Ready anyway.
      // A node swapped by an earlier version has none yet.
      if (!is_stage(s, node, step.stage_key, stage::kDeleting))
        out.write(step.step, name, cutoff_annotation(ctx, node, step.stage_key, step.before_key));
      if (phase == NodePhase::migrate_cilium_ready_wait)
        out.wait(step.step, name, Gate::cilium_migrated_ready,
                 {s.cilium_migrated().describe() + " on " + name});
      break;
    case NodePhase::migrate_deleting_pods:
      // Behind 00-cilium.conf: else the pods would get no Cilium IP.
      if (delete_pods_behind_agent(ctx, step, node, s.cilium_migrated(),
                                   Gate::cilium_migrated_ready, out))
        return advance_after_deletion(ctx, step, node, NodePhase::migrate_pods_deleted, out);
      break;
    default:
      return NodeHold::in_flight;
  }
  return NodeHold::unavailable;
}

const NodeStep kMigrate{StepId::migrate,
                        annotation_names::kMigrate,
                        annotation_names::kMigratePodsBefore,
                        NodePhase::prioritised,
                        node_done,
                        cordon_and_drain,
                        advance};

}  // namespace

const NodeStep& migrate_step() {
  return kMigrate;
}

}  // namespace cnimig::migrate::detail
