// The routine behind the roll, priority and migrate steps.

#include "node_step.hpp"

namespace cnimig::migrate::detail {

std::vector<const NodeStep*> node_steps(const MigrationSettings& s) {
  if (s.native())
    return {&native_step()};
  return {&roll_step(), &priority_step(), &migrate_step()};
}

bool node_step_done(const Context& ctx, const NodeStep& step) {
  return ctx.cleanup_started() || ctx.nodes.not_done(step.step).empty();
}

void advance_node(const Context& ctx, const NodeStep& step, const NodeState& node,
                  InFlight& in_flight, StepOutcome& out) {
  ++in_flight.nodes;
  switch (step.advance(ctx, step, node, ctx.phase(node.name), out)) {
    case NodeHold::unavailable:
      // An administrator-cordoned node was out of service before we came.
      if (!ctx.was_cordoned(node))
        ++in_flight.unavailable;
      break;
    case NodeHold::finished:
      --in_flight.nodes;
      break;
    case NodeHold::in_flight:
      break;
  }
}

StepOutcome run_node_step(const Context& ctx, const NodeStep& step) {
  StepOutcome out;
  InFlight in_flight;
  // The nodes with the step's progress annotation, by name.
  for (const auto& name : ctx.nodes.in_step(step.step))
    advance_node(ctx, step, ctx.snap.nodes.at(name), in_flight, out);
  start_nodes(ctx, step.step, step.waiting_phase, step.stage_key, in_flight, out,
              [&](const NodeState& node, StepOutcome& o) { step.start(ctx, step, node, o); });
  out.scope_complete = ctx.nodes.in_step(step.step).empty() &&
                       !any_selected(ctx.selection, ctx.nodes.not_done(step.step));
  return out;
}

void cordon_and_drain(const Context& ctx, const NodeStep& step, const NodeState& node,
                      StepOutcome& out) {
  const auto cutoff_key = step.cutoff_with_cordon ? step.before_key : std::string_view{};
  if (!node.unschedulable) {
    cordon(ctx, step.step, node, out, cutoff_key);
  } else if (!cutoff_key.empty()) {
    // An administrator's cordon: the start annotation recorded the drain's
    // start; the cut-off joins it in the same patch.
    out.write(step.step, node.name, cutoff_write(ctx, node, cutoff_key));
  }
  drain(ctx, step.step, node, out);
}

std::optional<RollStage> shared_roll_stage(NodePhase phase) {
  switch (phase) {
    case NodePhase::roll_started:
      return RollStage::cordon;
    case NodePhase::roll_draining:
    case NodePhase::priority_draining:
      return RollStage::draining;
    case NodePhase::roll_drained:
    case NodePhase::priority_drained:
      return RollStage::drained;
    case NodePhase::roll_deleting_pods:
    case NodePhase::priority_deleting_pods:
      return RollStage::deleting;
    case NodePhase::roll_pods_deleted:
    case NodePhase::priority_pods_deleted:
      return RollStage::pods_deleted;
    default:
      return std::nullopt;  // priority_swapped starts the roll only once multus is ready
  }
}

NodeHold roll_stage(const Context& ctx, const NodeStep& step, const NodeState& node,
                    RollStage stage, StepOutcome& out) {
  // Pods re-created, node still cordoned: the gate, then the uncordon with
  // the completion. After a failure the shared roll gives the node back.
  if (stage == RollStage::pods_deleted && !ctx.failed)
    return finish_after_gate(ctx, step, node, out);
  advance_roll(ctx, step.step, node, stage, step.stage_key, step.before_key, out);
  return NodeHold::unavailable;
}

bool delete_pods_behind_agent(const Context& ctx, const NodeStep& step, const NodeState& node,
                              const ObjectRef& agent, Gate gate, StepOutcome& out) {
  if (!runs_ready_pod(node, agent.ns, agent.name)) {
    out.wait(step.step, node.name, gate, {agent.describe() + " on " + node.name});
    return false;
  }
  return delete_old_pods(ctx, step.step, node, step.before_key, out);
}

AnnotateNode step_annotations_removed(const Context& ctx, const NodeStep& step,
                                      const NodeState& node) {
  return AnnotateNode{
      node.name,
      {},
      {ctx.settings.annotation(step.stage_key), ctx.settings.annotation(step.before_key),
       ctx.settings.annotation(annotation_names::kDrainSince)}};
}

NodeHold finish_after_gate(const Context& ctx, const NodeStep& step, const NodeState& node,
                           std::optional<LabelNode> record, StepOutcome& out) {
  const bool cordoned_by_us = node.unschedulable && !ctx.was_cordoned(node);
  if (!ctx.gate_ok_for(node.name, step.step)) {
    request_gate(ctx, step.step, node.name, out);
    return cordoned_by_us ? NodeHold::unavailable : NodeHold::in_flight;
  }
  if (cordoned_by_us)
    out.write(step.step, node.name, SetCordon{node.name, false});
  if (record)
    out.write(step.step, node.name, std::move(*record));
  out.write(step.step, node.name, step_annotations_removed(ctx, step, node));
  // A node given back in this patch holds its slot until the watch shows it:
  // the driver writes to different nodes at once, and the next node's cordon
  // could land first (two cordoned with a budget of one, seen under API
  // faults that delayed the uncordon's retry).
  return cordoned_by_us ? NodeHold::unavailable : NodeHold::finished;
}

NodeHold finish_after_gate(const Context& ctx, const NodeStep& step, const NodeState& node,
                           StepOutcome& out) {
  return finish_after_gate(ctx, step, node,
                           step.record ? step.record(ctx.settings, node.name) : std::nullopt, out);
}

}  // namespace cnimig::migrate::detail
