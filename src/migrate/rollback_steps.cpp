// The three reverse steps of a rollback, per node. Each re-creates the
// node's pods once the CNIs they must get run Ready there, with the shared
// roll's cordon, drain, cut-off and deletion (node_roll.hpp), and records its
// completion only after a gate, as the forward steps do.
//
// unmigrate: cordon, drain, remove the migrate step's taint and swap
// cilium/migrated for calico-cilium + priority-cilium (cilium-migrated
// leaves, the source CNI, the first Cilium and kube-multus-cilium return),
// wait for them, delete the pods that predate them, gate, uncordon.
// unprioritise: swap priority-cilium for priority-calico, wait until
// kube-multus-calico runs Ready and kube-multus-cilium has left, re-roll.
// unroll: remove priority-calico and rolled (multus leaves the node), wait
// until it has, re-roll: the pods come back with the source CNI alone.

#include <algorithm>

#include "rollback.hpp"

namespace cnimig::migrate::detail {
namespace {

bool never_done(const MigrationSettings&, const NodeState&) {
  return false;
}

Taint cilium_taint(const MigrationSettings& s) {
  return Taint{s.labels.cilium, s.labels.value, "NoExecute"};
}

bool has_cilium_taint(const MigrationSettings& s, const NodeState& node) {
  return std::any_of(node.taints.begin(), node.taints.end(), [&](const Taint& t) {
    return t.key == s.labels.cilium && t.effect == "NoExecute";
  });
}

// ---------------------------------------------------------------- unmigrate

void unmigrate_start(const Context& ctx, const NodeStep& step, const NodeState& node,
                     StepOutcome& out) {
  cordon_and_drain(ctx, step, node, out);
}

// Untaint (a flannel agent does not tolerate the migrate step's taint) and
// swap the labels back, in one decision: the node is cordoned and drained.
void swap_back(const Context& ctx, const NodeStep& step, const NodeState& node, StepOutcome& out) {
  const auto& s = ctx.settings;
  const auto& l = s.labels;
  if (has_cilium_taint(s, node))
    out.write(step.step, node.name, RemoveTaint{node.name, cilium_taint(s)});
  out.write(step.step, node.name,
            LabelNode{node.name,
                      {{l.calico_cilium, l.value}, {l.cni_priority_cilium, l.value}},
                      {l.cilium, l.migrated}});
}

bool wait_both_cnis(const Context& ctx, const NodeStep& step, const NodeState& node,
                    StepOutcome& out) {
  auto pending = both_cnis_ready(ctx.settings, node);
  if (pending.empty())
    return true;
  if (!ctx.failed)
    out.wait(step.step, node.name, Gate::cni_ready, std::move(pending));
  return false;
}

NodeHold unmigrate_finish(const Context& ctx, const NodeStep& step, const NodeState& node,
                          StepOutcome& out) {
  if (!ctx.gate_ok_for(node.name, step.step)) {
    request_gate(ctx, step.step, node.name, out);
    return NodeHold::unavailable;
  }
  const auto& s = ctx.settings;
  if (has_cilium_taint(s, node))
    out.write(step.step, node.name, RemoveTaint{node.name, cilium_taint(s)});
  if (node.unschedulable && !ctx.was_cordoned(node))
    out.write(step.step, node.name, SetCordon{node.name, false});
  out.write(step.step, node.name, step_annotations_removed(ctx, step, node));
  return NodeHold::finished;
}

NodeHold unmigrate_advance(const Context& ctx, const NodeStep& step, const NodeState& node,
                           NodePhase phase, StepOutcome& out) {
  if (phase == NodePhase::rollback_migrate_pods_deleted)
    return unmigrate_finish(ctx, step, node, out);
  if (ctx.failed)
    return NodeHold::unavailable;  // every other phase is a safe place to stop
  const auto& s = ctx.settings;
  switch (phase) {
    case NodePhase::rollback_migrate_started:
      cordon(ctx, step.step, node, out);
      drain(ctx, step.step, node, out);
      break;
    case NodePhase::rollback_migrate_draining:
      drain(ctx, step.step, node, out);
      break;
    case NodePhase::rollback_migrate_drained:
      swap_back(ctx, step, node, out);
      break;
    case NodePhase::rollback_migrate_cni_wait:
      wait_both_cnis(ctx, step, node, out);
      break;
    case NodePhase::rollback_migrate_cni_ready:
      out.write(step.step, node.name,
                cutoff_annotation(ctx, node, step.stage_key, step.before_key));
      break;
    case NodePhase::rollback_migrate_deleting_pods:
      // A restart finds the node here without the phase's check.
      if (!wait_both_cnis(ctx, step, node, out))
        break;
      if (delete_old_pods(ctx, step.step, node, step.before_key, out)) {
        out.write(
            step.step, node.name,
            AnnotateNode{
                node.name, {{s.annotation(step.stage_key), std::string(stage::kPodsDeleted)}}, {}});
      }
      break;
    default:
      return NodeHold::in_flight;
  }
  return NodeHold::unavailable;
}

// ------------------------------------------------- unprioritise and unroll

// The labels a re-rolling reverse step swaps first, and what must hold on
// the node before its pods are re-created.
struct ReverseRoll {
  NodePhase started;
  NodePhase cordon;
  NodePhase awaiting_gate;
  LabelNode (*swap)(const MigrationSettings& s, const std::string& node);
  std::vector<std::string> (*pending)(const MigrationSettings& s, const NodeState& node);
};

LabelNode source_first(const MigrationSettings& s, const std::string& node) {
  const auto& l = s.labels;
  return LabelNode{node, {{l.cni_priority_calico, l.value}}, {l.cni_priority_cilium}};
}

std::vector<std::string> source_first_pending(const MigrationSettings& s, const NodeState& node) {
  std::vector<std::string> pending;
  if (!runs_ready_pod(node, s.system_namespace, s.multus_calico_daemon_set))
    pending.push_back(s.multus_calico().describe() + " not Ready on " + node.name);
  if (runs_pod(node, s.system_namespace, s.multus_cilium_daemon_set))
    pending.push_back(s.multus_cilium().describe() + " still on " + node.name);
  return pending;
}

LabelNode off_multus(const MigrationSettings& s, const std::string& node) {
  const auto& l = s.labels;
  return LabelNode{node, {}, {l.cni_priority_calico, l.rolled}};
}

// Without multus the kubelet takes the source CNI's config (Cilium's
// 99-cilium.conf sorts after it).
std::vector<std::string> off_multus_pending(const MigrationSettings& s, const NodeState& node) {
  std::vector<std::string> pending;
  for (const auto& ds : {s.multus_calico_daemon_set, s.multus_cilium_daemon_set}) {
    if (runs_pod(node, s.system_namespace, ds))
      pending.push_back(s.system_namespace + "/" + ds + " still on " + node.name);
  }
  if (!runs_ready_pod(node, s.source_cni.ns, s.source_cni.name))
    pending.push_back(s.source_cni.describe() + " not Ready on " + node.name);
  return pending;
}

const ReverseRoll kSourceFirst{
    NodePhase::rollback_priority_started, NodePhase::rollback_priority_swapped,
    NodePhase::rollback_priority_awaiting_gate, source_first, source_first_pending};
const ReverseRoll kOffMultus{NodePhase::rollback_roll_started, NodePhase::rollback_roll_swapped,
                             NodePhase::rollback_roll_awaiting_gate, off_multus,
                             off_multus_pending};

std::optional<RollStage> stage_of(const ReverseRoll& r, NodePhase phase) {
  // The shared roll's phases follow `cordon` in the enum, in RollStage order.
  const auto offset = static_cast<int>(phase) - static_cast<int>(r.cordon);
  if (offset < 0 || offset > static_cast<int>(RollStage::pods_deleted))
    return std::nullopt;
  return static_cast<RollStage>(offset);
}

NodeHold reverse_roll_advance(const Context& ctx, const NodeStep& step, const ReverseRoll& r,
                              const NodeState& node, NodePhase phase, StepOutcome& out) {
  const auto& s = ctx.settings;
  if (phase == r.started) {
    if (!ctx.failed)
      out.write(step.step, node.name, r.swap(s, node.name));
    return NodeHold::unavailable;
  }
  if (phase == r.awaiting_gate)
    return finish_after_gate(ctx, step, node, std::nullopt, out);
  const auto stage = stage_of(r, phase);
  if (!stage)
    return NodeHold::in_flight;
  // Uncordoning gives the node back; every other stage leads to pods
  // re-created on it, which must find the CNIs they are to get.
  if (*stage != RollStage::pods_deleted) {
    if (auto pending = r.pending(s, node); !pending.empty()) {
      if (!ctx.failed)
        out.wait(step.step, node.name, Gate::cni_ready, std::move(pending));
      return NodeHold::unavailable;
    }
  }
  if (*stage == RollStage::cordon && !ctx.watched_ready) {
    if (!ctx.failed)
      out.wait(step.step, node.name, Gate::resources_ready, ctx.not_ready);
    return NodeHold::unavailable;
  }
  return roll_stage(ctx, step, node, *stage, out);
}

void unprioritise_start(const Context& ctx, const NodeStep& step, const NodeState& node,
                        StepOutcome& out) {
  out.write(step.step, node.name, source_first(ctx.settings, node.name));
}

NodeHold unprioritise_advance(const Context& ctx, const NodeStep& step, const NodeState& node,
                              NodePhase phase, StepOutcome& out) {
  return reverse_roll_advance(ctx, step, kSourceFirst, node, phase, out);
}

void unroll_start(const Context& ctx, const NodeStep& step, const NodeState& node,
                  StepOutcome& out) {
  out.write(step.step, node.name, off_multus(ctx.settings, node.name));
}

NodeHold unroll_advance(const Context& ctx, const NodeStep& step, const NodeState& node,
                        NodePhase phase, StepOutcome& out) {
  return reverse_roll_advance(ctx, step, kOffMultus, node, phase, out);
}

const NodeStep kUnmigrate{StepId::migrate,
                          annotation_names::kRollbackMigrate,
                          annotation_names::kRollbackMigratePodsBefore,
                          NodePhase::migrated,
                          never_done,
                          unmigrate_start,
                          unmigrate_advance};
const NodeStep kUnprioritise{StepId::priority,
                             annotation_names::kRollbackPriority,
                             annotation_names::kRollbackPriorityPodsBefore,
                             NodePhase::prioritised,
                             never_done,
                             unprioritise_start,
                             unprioritise_advance};
const NodeStep kUnroll{StepId::roll,
                       annotation_names::kRollbackRoll,
                       annotation_names::kRollbackRollPodsBefore,
                       NodePhase::rolled,
                       never_done,
                       unroll_start,
                       unroll_advance};

}  // namespace

const NodeStep& unmigrate_step() {
  return kUnmigrate;
}
const NodeStep& unprioritise_step() {
  return kUnprioritise;
}
const NodeStep& unroll_step() {
  return kUnroll;
}

const NodeStep* reverse_step_of(const MigrationSettings& s, const NodeState& node) {
  for (const auto* step : {&kUnmigrate, &kUnprioritise, &kUnroll}) {
    if (s.find_annotation(node.annotations, step->stage_key) != nullptr)
      return step;
  }
  return nullptr;
}

}  // namespace cnimig::migrate::detail
