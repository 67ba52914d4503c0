// Step 2, roll: re-create every pod of every node so that each one gets both
// interfaces through multus (kube-multus-calico: source CNI primary, Cilium
// attached). Per node: record intent (and an administrator's cordon), the
// cut-off and the cordon in one patch; evict; delete what predates the
// cut-off (DaemonSet pods too, not hostNetwork ones); gate; uncordon, label
// rolled and drop the annotations in one patch.

#include "node_step.hpp"

namespace cnimig::migrate::detail {
namespace {

bool node_done(const MigrationSettings& s, const NodeState& node) {
  return has_label(s, node, s.labels.rolled) &&
         s.find_annotation(node.annotations, annotation_names::kRoll) == nullptr;
}

std::optional<LabelNode> rolled(const MigrationSettings& s, const std::string& node) {
  return LabelNode{node, {{s.labels.rolled, s.labels.value}}, {}};
}

NodeHold advance(const Context& ctx, const NodeStep& step, const NodeState& node, NodePhase phase,
                 StepOutcome& out) {
  if (auto stage = shared_roll_stage(phase))
    return roll_stage(ctx, step, node, *stage, out);
  switch (phase) {
    case NodePhase::roll_awaiting_gate:
      return finish_after_gate(ctx, step, node, out);
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
                     cordon_and_drain,
                     advance,
                     /*cutoff_with_cordon=*/true,
                     rolled};

}  // namespace

const NodeStep& roll_step() {
  return kRoll;
}

// The broken variant (MigrationSettings::skip_roll_for_tests): every node is
// labelled rolled at once, nothing is re-created. No annotation, no cordon:
// a label the watch has not shown yet is simply written again.
StepOutcome skip_roll_for_tests(const Context& ctx) {
  StepOutcome out;
  const auto& l = ctx.settings.labels;
  out.scope_complete = true;
  for_each_selected(ctx.selection, ctx.nodes.in_phase(NodePhase::prepared),
                    [&](const std::string& name) {
                      out.scope_complete = false;
                      out.write(StepId::roll, name, LabelNode{name, {{l.rolled, l.value}}, {}});
                      return true;
                    });
  return out;
}

}  // namespace cnimig::migrate::detail
