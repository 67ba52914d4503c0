// Step 4, migrate: move each node to Cilium alone. Per node: gate; record
// intent; cordon; drain; NoExecute taint on the cilium key (only pods that
// tolerate it, the CNI agents and knet-stress, stay); swap calico-cilium for
// cilium (the source CNI and the first Cilium leave, cilium-migrated and its
// 00-cilium.conf arrive); wait for cilium-migrated Ready on the node; record
// the cut-off and delete what predates it; gate; untaint; uncordon; swap
// priority-cilium for migrated (multus leaves); gate; drop the annotations.
// It runs only when priority is done on every node: a node may drop the
// source CNI only when every pod anywhere already takes its IP from Cilium.

#include "node_roll.hpp"

namespace cnimig::migrate::detail {
namespace {

bool node_done(const Context& ctx, const NodeState& node) {
  return ctx.has_label(node, ctx.settings.labels.migrated) &&
         !ctx.annotation(node, annotation_names::kMigrate);
}

Taint cilium_taint(const MigrationSettings& s) {
  return Taint{s.labels.cilium, s.labels.value, "NoExecute"};
}

}  // namespace

bool migrate_done(const Context& ctx) {
  if (ctx.cleanup_started())
    return true;
  for (const auto& [name, node] : ctx.snap.nodes) {
    if (!node_done(ctx, node))
      return false;
  }
  return true;
}

StepOutcome run_migrate(const Context& ctx) {
  StepOutcome out;
  const auto step = StepId::migrate;
  const auto& s = ctx.settings;
  InFlight in_flight;
  for (const auto& [name, node] : ctx.snap.nodes) {
    if (!ctx.annotation(node, annotation_names::kMigrate))
      continue;
    ++in_flight.nodes;
    const NodePhase phase = ctx.phase(name);
    const bool ours = !ctx.was_cordoned(node);
    switch (phase) {
      case NodePhase::migrate_started:
      case NodePhase::migrate_draining:
      case NodePhase::migrate_drained:
      case NodePhase::migrate_tainted:
      case NodePhase::migrate_cilium_ready_wait:
      case NodePhase::migrate_cilium_ready:
      case NodePhase::migrate_deleting_pods:
      case NodePhase::migrate_pods_deleted:
      case NodePhase::migrate_untainted:
        if (ours)
          ++in_flight.unavailable;
        break;
      default:
        break;
    }
    switch (phase) {
      case NodePhase::migrate_untainted:
        // Giving the node back is allowed even after a failure.
        out.write(step, name, SetCordon{name, false});
        continue;
      case NodePhase::migrate_pods_deleted:
        if (ctx.gate_ok) {
          // One gate, then untaint, uncordon and swap priority-cilium for
          // migrated in this order (DESIGN.md section 1).
          out.write(step, name, RemoveTaint{name, cilium_taint(s)});
          if (node.unschedulable && ours)
            out.write(step, name, SetCordon{name, false});
          if (!ctx.has_label(node, s.labels.migrated)) {
            out.write(
                step, name,
                LabelNode{name, {{s.labels.migrated, s.labels.value}}, {s.labels.priority_cilium}});
          }
        } else {
          request_gate(ctx, step, out);
        }
        continue;
      case NodePhase::migrate_labelled:
        if (ctx.gate_ok) {
          out.write(step, name,
                    AnnotateNode{name,
                                 {},
                                 {s.annotation(annotation_names::kMigrate),
                                  s.annotation(annotation_names::kMigratePodsBefore)}});
          --in_flight.nodes;  // the same gate opens the next node
        } else {
          request_gate(ctx, step, out);
        }
        continue;
      default:
        break;
    }
    if (ctx.failed)
      continue;  // every other phase is a safe place to stop
    switch (phase) {
      case NodePhase::migrate_started:
        out.write(step, name, SetCordon{name, true});
        drain(ctx, step, node, out);
        break;
      case NodePhase::migrate_draining:
        drain(ctx, step, node, out);
        break;
      case NodePhase::migrate_drained:
        // Taint first: the swap takes the source CNI away, and only pods
        // that tolerate the taint may still be on the node by then.
        out.write(step, name, AddTaint{name, cilium_taint(s)});
        if (ctx.has_label(node, s.labels.calico_cilium) || !ctx.has_label(node, s.labels.cilium)) {
          out.write(step, name,
                    LabelNode{name, {{s.labels.cilium, s.labels.value}}, {s.labels.calico_cilium}});
        }
        break;
      case NodePhase::migrate_tainted:
        out.write(step, name,
                  LabelNode{name, {{s.labels.cilium, s.labels.value}}, {s.labels.calico_cilium}});
        break;
      case NodePhase::migrate_cilium_ready_wait:
        out.wait(step, name, "cilium-migrated-ready",
                 {s.cilium_migrated().describe() + " on " + name});
        break;
      case NodePhase::migrate_cilium_ready:
        out.write(step, name,
                  cutoff_annotation(ctx, node, annotation_names::kMigrate,
                                    annotation_names::kMigratePodsBefore));
        break;
      case NodePhase::migrate_deleting_pods:
        if (delete_old_pods(ctx, step, node, annotation_names::kMigratePodsBefore, out)) {
          out.write(step, name,
                    AnnotateNode{name,
                                 {{s.annotation(annotation_names::kMigrate),
                                   std::string(stage::kPodsDeleted)}},
                                 {}});
        }
        break;
      case NodePhase::migrate_uncordoned:
        out.write(
            step, name,
            LabelNode{name, {{s.labels.migrated, s.labels.value}}, {s.labels.priority_cilium}});
        break;
      default:
        break;
    }
  }
  start_nodes(ctx, step, NodePhase::prioritised, annotation_names::kMigrate, in_flight, out,
              [&](const NodeState& node, StepOutcome& o) {
                if (!node.unschedulable)
                  o.write(step, node.name, SetCordon{node.name, true});
                drain(ctx, step, node, o);
              });
  out.scope_complete = true;
  for (const auto& [name, node] : ctx.snap.nodes) {
    if (ctx.annotation(node, annotation_names::kMigrate) ||
        (ctx.selection.includes_node(name) && !node_done(ctx, node))) {
      out.scope_complete = false;
    }
  }
  return out;
}

}  // namespace cnimig::migrate::detail
