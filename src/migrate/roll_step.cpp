// Step 2, roll: re-create every pod of every node so that each one gets both
// interfaces through multus (kube-multus-calico: source CNI primary, Cilium
// attached). Per node: record intent (and an administrator's cordon), cordon,
// evict, record the cut-off, delete what predates it (DaemonSet pods too,
// not hostNetwork ones), uncordon, gate, label rolled, drop the annotations.

#include "node_step.hpp"

namespace cnimig::migrate::detail {
namespace {

bool node_done(const Context& ctx, const NodeState& node) {
  return ctx.has_label(node, ctx.settings.labels.rolled) &&
         !ctx.annotation(node, annotation_names::kRoll);
}

void start(const Context& ctx, const NodeStep& step, const NodeState& node, StepOutcome& out) {
  if (ctx.settings.skip_roll_for_tests) {
    // The broken variant: rolled, and nothing re-created.
    const auto& l = ctx.settings.labels;
    out.write(step.step, node.name, LabelNode{node.name, {{l.rolled, l.value}}, {}});
    return;
  }
  cordon_and_drain(ctx, step, node, out);
}

NodeHold advance(const Context& ctx, const NodeStep& step, const NodeState& node, NodePhase phase,
                 StepOutcome& out) {
  const auto& l = ctx.settings.labels;
  if (auto stage = shared_roll_stage(phase))
    return roll_stage(ctx, step, node, *stage, out);
  switch (phase) {
    case NodePhase::roll_awaiting_gate:
      return finish_after_gate(ctx, step, node, LabelNode{node.name, {{l.rolled, l.value}}, {}},
                               out);
    case NodePhase::roll_finishing:
      // Labelled rolled (completion recorded): only the tidy-up is left.
      out.write(step.step, node.name, step_annotations_removed(ctx, step, node));
      return NodeHold::in_flight;
    default:
      return NodeHold::in_flight;
  }
}

const NodeStep kRoll{StepId::roll,
                     annotation_names::kRoll,
                     annotation_names::kRollPodsBefore,
                     NodePhase::prepared,
                     node_done,
                     start,
                     advance};

}  // namespace

const NodeStep& roll_step() {
  return kRoll;
}

}  // namespace cnimig::migrate::detail
