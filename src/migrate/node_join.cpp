// A node that joins during the migration (a cluster autoscaler's new
// machine) has none of the migration labels. Once prepare has given the
// source CNI its node selector, no CNI DaemonSet selects such a node: its pods
// would never get a network. It is brought into the state the migration is
// in, whatever step is running:
//
// 1. annotation join=started, then the labels of that state (node.joined):
//    - no node has begun priority: calico-cilium + priority-calico (both CNIs,
//      multus with the source CNI primary, as every prepared node); the roll
//      step then rolls it like any other node;
//    - priority under way: calico-cilium + priority-cilium + rolled (both
//      CNIs, multus with Cilium primary): its pods reach the rolled nodes'
//      source IPs and the prioritised nodes' Cilium IPs, and both reach it;
//    - priority done everywhere or migrate under way: cilium + migrated +
//      rolled (cilium-migrated alone): every pod anywhere has a Cilium
//      interface by then, so Cilium-only pods reach them all;
// 2. once every CNI agent that selects it runs Ready there, record a cut-off
//    and delete the pods created before it (the kubelet started them with
//    whichever CNI config appeared first; the replacements get the right one);
// 3. gate, then the annotations go.
//
// It is never cordoned: nothing on it ran with a network before its CNIs did.

#include <algorithm>

#include "node_roll.hpp"

namespace cnimig::migrate::detail {
namespace {

std::map<std::string, std::string> join_labels(const Context& ctx) {
  const auto& l = ctx.settings.labels;
  bool priority_begun = false;
  bool priority_everywhere = true;
  bool migrate_begun = false;
  for (const auto& [name, node] : ctx.snap.nodes) {
    if (ctx.joining(name))
      continue;
    const bool prioritised =
        ctx.has_label(node, l.cni_priority_cilium) || ctx.has_label(node, l.migrated);
    const bool in_priority = ctx.annotation(node, annotation_names::kPriority).has_value();
    priority_begun = priority_begun || prioritised || in_priority;
    priority_everywhere = priority_everywhere && prioritised && !in_priority;
    migrate_begun = migrate_begun || ctx.has_label(node, l.cilium) ||
                    ctx.annotation(node, annotation_names::kMigrate).has_value();
  }
  if (migrate_begun || (priority_begun && priority_everywhere))
    return {{l.rolled, l.value}, {l.cilium, l.value}, {l.migrated, l.value}};
  if (priority_begun)
    return {{l.calico_cilium, l.value}, {l.rolled, l.value}, {l.cni_priority_cilium, l.value}};
  return {{l.calico_cilium, l.value}, {l.cni_priority_calico, l.value}};
}

// The CNI agents whose DaemonSet selects the node and that have no Ready pod
// there yet.
std::vector<std::string> agents_not_ready(const Context& ctx, const NodeState& node) {
  const auto& s = ctx.settings;
  std::vector<std::string> pending;
  for (const auto& ref :
       {s.source_cni, s.cilium(), s.cilium_migrated(), s.multus_calico(), s.multus_cilium()}) {
    const auto* w = ctx.snap.workload(ref);
    if (w == nullptr || !w->exists)
      continue;
    if (w->selects(node) && !runs_ready_pod(node, ref.ns, ref.name))
      pending.push_back(ref.describe() + " not Ready on " + node.name);
  }
  return pending;
}

void advance_join(const Context& ctx, StepId step, const NodeState& node, NodePhase phase,
                  StepOutcome& out) {
  const auto& s = ctx.settings;
  const auto& name = node.name;
  switch (phase) {
    case NodePhase::joining:
      out.write(step, name,
                AnnotateNode{name, {{s.annotation(annotation_names::kJoin), "started"}}, {}});
      out.write(step, name, LabelNode{name, join_labels(ctx), {}, true});
      break;
    case NodePhase::join_cni_wait:
      if (auto pending = agents_not_ready(ctx, node); !pending.empty()) {
        out.wait(step, name, Gate::cni_ready, std::move(pending));
      } else {
        out.write(step, name,
                  cutoff_annotation(ctx, node, annotation_names::kJoin,
                                    annotation_names::kJoinPodsBefore));
      }
      break;
    case NodePhase::join_deleting_pods:
      // Pods without a controller are left as they are: deleted, they would
      // be gone for good (they got the network the kubelet found).
      if (delete_old_pods(ctx, step, node, annotation_names::kJoinPodsBefore, out,
                          [&](const PodState& p) { return !refusal(s, p); })) {
        out.write(step, name,
                  AnnotateNode{
                      name,
                      {{s.annotation(annotation_names::kJoin), std::string(stage::kPodsDeleted)}},
                      {}});
      }
      break;
    case NodePhase::join_awaiting_gate:
      if (!ctx.gate_ok_for(name, step)) {
        request_gate(ctx, step, name, out);
      } else {
        out.write(step, name,
                  AnnotateNode{name,
                               {},
                               {s.annotation(annotation_names::kJoin),
                                s.annotation(annotation_names::kJoinPodsBefore)}});
      }
      break;
    default:
      break;
  }
}

}  // namespace

bool is_join_phase(NodePhase phase) {
  switch (phase) {
    case NodePhase::joining:
    case NodePhase::join_cni_wait:
    case NodePhase::join_deleting_pods:
    case NodePhase::join_awaiting_gate:
      return true;
    default:
      return false;
  }
}

bool joins_in_progress(const Context& ctx) {
  return !ctx.nodes.joining().empty();
}

void run_joins(const Context& ctx, StepId step, StepOutcome& out) {
  if (ctx.failed)
    return;  // nothing of a join is urgent: the node holds nothing cordoned
  for (const auto& name : ctx.nodes.joining())
    advance_join(ctx, step, ctx.snap.nodes.at(name), ctx.phase(name), out);
}

}  // namespace cnimig::migrate::detail
