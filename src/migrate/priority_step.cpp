// Step 3, priority: swap priority-calico for priority-cilium (multus then puts
// Cilium first) and roll the node again so its pods take their IP from
// Cilium. The annotation priority=started is written before the swap and
// removed only after the roll and its gate: a crash between swap and roll
// leaves a node that is visibly not done (the original tool lost this).

#include "node_step.hpp"

namespace cnimig::migrate::detail {
namespace {

bool node_done(const MigrationSettings& s, const NodeState& node) {
  const auto& l = s.labels;
  return (has_label(s, node, l.cni_priority_cilium) || has_label(s, node, l.migrated)) &&
         s.find_annotation(node.annotations, annotation_names::kPriority) == nullptr;
}

LabelNode swap(const Context& ctx, const NodeState& node) {
  const auto& l = ctx.settings.labels;
  return LabelNode{node.name, {{l.cni_priority_cilium, l.value}}, {l.cni_priority_calico}};
}

// Multus puts Cilium first on the node only once kube-multus-cilium's pod runs
// Ready there and kube-multus-calico's has left it. The DaemonSets' status
// cannot tell: the label swap bumps no generation, and the status may not
// count the node yet. Pods re-created before then would still take their IP
// from the source CNI, so the roll waits (a restart past the swap too).
bool cilium_first(const Context& ctx, const NodeStep& step, const NodeState& node,
                  StepOutcome& out) {
  const auto& s = ctx.settings;
  std::vector<std::string> pending;
  if (!runs_ready_pod(node, s.system_namespace, s.multus_cilium_daemon_set))
    pending.push_back(s.multus_cilium().describe() + " not Ready on " + node.name);
  if (runs_pod(node, s.system_namespace, s.multus_calico_daemon_set))
    pending.push_back(s.multus_calico().describe() + " still on " + node.name);
  if (pending.empty())
    return true;
  if (!ctx.failed)
    out.wait(step.step, node.name, Gate::cni_ready, std::move(pending));
  return false;
}

void start(const Context& ctx, const NodeStep& step, const NodeState& node, StepOutcome& out) {
  out.write(step.step, node.name, swap(ctx, node));
}

NodeHold advance(const Context& ctx, const NodeStep& step, const NodeState& node, NodePhase phase,
                 StepOutcome& out) {
  if (auto stage = shared_roll_stage(phase)) {
    // Uncordoning gives the node back; every other stage leads to pods
    // re-created on it.
    if (*stage != RollStage::pods_deleted && !cilium_first(ctx, step, node, out))
      return NodeHold::unavailable;
    return roll_stage(ctx, step, node, *stage, out);
  }
  switch (phase) {
    case NodePhase::priority_started:
      if (!ctx.failed)
        start(ctx, step, node, out);
      return NodeHold::unavailable;
    case NodePhase::priority_swapped:
      if (!cilium_first(ctx, step, node, out))
        return NodeHold::unavailable;
      if (ctx.watched_ready)
        return roll_stage(ctx, step, node, RollStage::cordon, out);
      if (!ctx.failed)
        out.wait(step.step, node.name, Gate::resources_ready, ctx.not_ready);
      return NodeHold::unavailable;
    case NodePhase::priority_awaiting_gate:
      return finish_after_gate(ctx, step, node, out);
    default:
      return NodeHold::in_flight;
  }
}

const NodeStep kPriority{StepId::priority,
                         annotation_names::kPriority,
                         annotation_names::kPriorityPodsBefore,
                         NodePhase::rolled,
                         node_done,
                         start,
                         advance};

}  // namespace

const NodeStep& priority_step() {
  return kPriority;
}

}  // namespace cnimig::migrate::detail
