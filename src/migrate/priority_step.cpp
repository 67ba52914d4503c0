// Step 3, priority: swap priority-calico for priority-cilium (multus then puts
// Cilium first) and roll the node again so its pods take their IP from
// Cilium. The annotation priority=started is written before the swap and
// removed only after the roll and its gate: a crash between swap and roll
// leaves a node that is visibly not done (the original tool lost this).

#include "node_roll.hpp"

namespace cnimig::migrate::detail {
namespace {

bool node_done(const Context& ctx, const NodeState& node) {
  const auto& l = ctx.settings.labels;
  return (ctx.has_label(node, l.priority_cilium) || ctx.has_label(node, l.migrated)) &&
         !ctx.annotation(node, annotation_names::kPriority);
}

}  // namespace

bool priority_done(const Context& ctx) {
  if (ctx.cleanup_started())
    return true;
  for (const auto& [name, node] : ctx.snap.nodes) {
    if (!node_done(ctx, node))
      return false;
  }
  return true;
}

StepOutcome run_priority(const Context& ctx) {
  StepOutcome out;
  const auto step = StepId::priority;
  const auto& s = ctx.settings;
  InFlight in_flight;
  for (const auto& [name, node] : ctx.snap.nodes) {
    if (!ctx.annotation(node, annotation_names::kPriority))
      continue;
    ++in_flight.nodes;
    const NodePhase phase = ctx.phase(name);
    const bool ours = !ctx.was_cordoned(node);
    auto roll = [&](RollStage stage) {
      if (ours)
        ++in_flight.unavailable;
      advance_roll(ctx, step, node, stage, annotation_names::kPriority,
                   annotation_names::kPriorityPodsBefore, out);
    };
    switch (phase) {
      case NodePhase::priority_started:
        if (ours)
          ++in_flight.unavailable;
        if (!ctx.failed) {
          out.write(
              step, name,
              LabelNode{
                  name, {{s.labels.priority_cilium, s.labels.value}}, {s.labels.priority_calico}});
        }
        break;
      case NodePhase::priority_swapped:
        // Pods re-created before kube-multus-cilium has rewritten the node's
        // 00-multus.conflist would still take their IP from the source CNI.
        if (ctx.watched_ready) {
          roll(RollStage::cordon);
        } else {
          if (ours)
            ++in_flight.unavailable;
          if (!ctx.failed)
            out.wait(step, name, "resources-ready", ctx.not_ready);
        }
        break;
      case NodePhase::priority_draining:
        roll(RollStage::draining);
        break;
      case NodePhase::priority_drained:
        roll(RollStage::drained);
        break;
      case NodePhase::priority_deleting_pods:
        roll(RollStage::deleting);
        break;
      case NodePhase::priority_pods_deleted:
        roll(RollStage::pods_deleted);
        break;
      case NodePhase::priority_awaiting_gate:
        if (ctx.gate_ok) {
          out.write(step, name,
                    AnnotateNode{name,
                                 {},
                                 {s.annotation(annotation_names::kPriority),
                                  s.annotation(annotation_names::kPriorityPodsBefore)}});
          --in_flight.nodes;  // the same gate opens the next node
        } else {
          request_gate(ctx, step, out);
        }
        break;
      default:
        break;
    }
  }
  start_nodes(ctx, step, NodePhase::rolled, annotation_names::kPriority, in_flight, out);
  out.scope_complete = true;
  for (const auto& [name, node] : ctx.snap.nodes) {
    if (ctx.annotation(node, annotation_names::kPriority) ||
        (ctx.selection.includes_node(name) && !node_done(ctx, node))) {
      out.scope_complete = false;
    }
  }
  return out;
}

}  // namespace cnimig::migrate::detail
