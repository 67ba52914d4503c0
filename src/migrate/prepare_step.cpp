// Step 1, prepare: every node runs both CNIs. Label every node calico-cilium
// and priority-calico; once every label is observed, give the source CNI
// DaemonSet a node selector on calico-cilium (before that, the selector would
// take the source CNI off unlabelled nodes) and apply the cilium and multus
// bundles. Its closing gate is the one the roll step opens each node with.

#include "step_context.hpp"

namespace cnimig::migrate::detail {
namespace {

// Later steps replace calico-cilium by cilium and the priority labels by
// migrated: those nodes stay prepared.
bool node_prepared(const Context& ctx, const NodeState& node) {
  const auto& l = ctx.settings.labels;
  return (ctx.has_label(node, l.calico_cilium) || ctx.has_label(node, l.cilium)) &&
         (ctx.has_label(node, l.cni_priority_calico) ||
          ctx.has_label(node, l.cni_priority_cilium) || ctx.has_label(node, l.migrated));
}

bool source_patched(const Context& ctx) {
  const auto* src = ctx.snap.workload(ctx.settings.source_cni);
  if (src == nullptr || !src->exists)
    return false;
  auto it = src->node_selector.find(ctx.settings.labels.calico_cilium);
  return it != src->node_selector.end() && it->second == ctx.settings.labels.value;
}

}  // namespace

bool prepare_done(const Context& ctx) {
  if (ctx.cleanup_started())
    return true;
  for (const auto& [name, node] : ctx.snap.nodes) {
    if (!ctx.joining(name) && !node_prepared(ctx, node))
      return false;
  }
  return source_patched(ctx) && ctx.snap.applied_bundles.contains(ctx.settings.bundles.cilium) &&
         ctx.snap.applied_bundles.contains(ctx.settings.bundles.multus);
}

StepOutcome run_prepare(const Context& ctx) {
  StepOutcome out;
  const auto step = StepId::prepare;
  const auto& s = ctx.settings;
  if (!ctx.snap.exists(s.source_cni)) {
    out.halt = "source CNI " + s.source_cni.describe() + " does not exist";
    return out;
  }
  if (ctx.failed)
    return out;
  // No write before a connectivity check has passed in this run (after a
  // restart in the middle of prepare, preflight is done but this run has not
  // checked yet).
  if (!ctx.checked_this_run) {
    std::vector<std::string> pending;
    if (preflight_resources_ready(ctx, &pending)) {
      out.wants_check = true;
    } else {
      out.wait(step, "", Gate::resources_ready, std::move(pending));
    }
    return out;
  }
  bool all_labelled = true;
  for (const auto& [name, node] : ctx.snap.nodes) {
    if (node_prepared(ctx, node) || ctx.joining(name))
      continue;
    all_labelled = false;
    LabelNode label{name, {}, {}};
    if (!ctx.has_label(node, s.labels.calico_cilium) && !ctx.has_label(node, s.labels.cilium)) {
      label.set.emplace(s.labels.calico_cilium, s.labels.value);
    }
    if (!ctx.has_label(node, s.labels.cni_priority_calico) &&
        !ctx.has_label(node, s.labels.cni_priority_cilium) &&
        !ctx.has_label(node, s.labels.migrated)) {
      label.set.emplace(s.labels.cni_priority_calico, s.labels.value);
    }
    out.write(step, name, std::move(label));
  }
  if (!all_labelled)
    return out;
  if (!source_patched(ctx)) {
    out.write(
        step, "",
        PatchDaemonSetNodeSelector{
            s.source_cni.ns, s.source_cni.name, {{s.labels.calico_cilium, s.labels.value}}, {}});
  }
  if (!ctx.snap.applied_bundles.contains(s.bundles.cilium)) {
    out.write(step, "", ApplyBundle{s.bundles.cilium});
  }
  if (!ctx.snap.applied_bundles.contains(s.bundles.multus)) {
    out.write(step, "", ApplyBundle{s.bundles.multus});
  }
  return out;
}

}  // namespace cnimig::migrate::detail
