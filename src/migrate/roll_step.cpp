// Step 2, roll: re-create every pod of every node so that each one gets both
// interfaces through multus (kube-multus-calico: source CNI primary, Cilium
// attached). Per node: record intent (and an administrator's cordon), cordon,
// evict, record the cut-off, delete what predates it (DaemonSet pods too,
// not hostNetwork ones), uncordon, gate, label rolled, drop the annotations.

#include "node_roll.hpp"

namespace cnimig::migrate::detail {
namespace {

bool node_done(const Context& ctx, const NodeState& node) {
  return ctx.has_label(node, ctx.settings.labels.rolled) &&
         !ctx.annotation(node, annotation_names::kRoll);
}

}  // namespace

bool roll_done(const Context& ctx) {
  if (ctx.cleanup_started())
    return true;
  for (const auto& [name, node] : ctx.snap.nodes) {
    if (!node_done(ctx, node))
      return false;
  }
  return true;
}

StepOutcome run_roll(const Context& ctx) {
  StepOutcome out;
  const auto step = StepId::roll;
  const auto& s = ctx.settings;
  InFlight in_flight;
  for (const auto& [name, node] : ctx.snap.nodes) {
    if (!ctx.annotation(node, annotation_names::kRoll))
      continue;
    ++in_flight.nodes;
    const NodePhase phase = ctx.phase(name);
    const bool ours = !ctx.was_cordoned(node);
    auto roll = [&](RollStage stage) {
      if (ours)
        ++in_flight.unavailable;
      advance_roll(ctx, step, node, stage, annotation_names::kRoll,
                   annotation_names::kRollPodsBefore, out);
    };
    switch (phase) {
      case NodePhase::roll_started:
        roll(RollStage::cordon);
        break;
      case NodePhase::roll_draining:
        roll(RollStage::draining);
        break;
      case NodePhase::roll_drained:
        roll(RollStage::drained);
        break;
      case NodePhase::roll_deleting_pods:
        roll(RollStage::deleting);
        break;
      case NodePhase::roll_pods_deleted:
        roll(RollStage::pods_deleted);
        break;
      case NodePhase::roll_awaiting_gate:
        // Completion is recorded only after the gate (DESIGN.md section 1).
        if (ctx.gate_ok) {
          // The same gate opens the next node: a finished node no longer
          // counts as in flight.
          out.write(step, name, LabelNode{name, {{s.labels.rolled, s.labels.value}}, {}});
          out.write(step, name,
                    AnnotateNode{name,
                                 {},
                                 {s.annotation(annotation_names::kRoll),
                                  s.annotation(annotation_names::kRollPodsBefore)}});
          --in_flight.nodes;
        } else {
          request_gate(ctx, step, out);
        }
        break;
      case NodePhase::roll_finishing:
        out.write(step, name,
                  AnnotateNode{name,
                               {},
                               {s.annotation(annotation_names::kRoll),
                                s.annotation(annotation_names::kRollPodsBefore)}});
        break;
      default:
        break;
    }
  }
  start_nodes(ctx, step, NodePhase::prepared, annotation_names::kRoll, in_flight, out);
  out.scope_complete = true;
  for (const auto& [name, node] : ctx.snap.nodes) {
    if (ctx.annotation(node, annotation_names::kRoll) ||
        (ctx.selection.includes_node(name) && !node_done(ctx, node))) {
      out.scope_complete = false;
    }
  }
  return out;
}

}  // namespace cnimig::migrate::detail
