// Step 1, prepare: every node runs both CNIs. Label every node calico-cilium
// and priority-calico; once every label is observed, give the source CNI
// DaemonSet a node selector on calico-cilium (before that, the selector would
// take the source CNI off unlabelled nodes) and apply the cilium and multus
// bundles. Its closing gate is the one the roll step opens each node with.

#include "step_context.hpp"

namespace cnimig::migrate::detail {
namespace {

// cilium-native: install Cilium beside the source CNI (paths.cilium-native
// without its CiliumNodeConfig), then, once cilium-operator is Ready (it
// registers the CiliumNodeConfig CRD), the CiliumNodeConfig. No node is
// labelled: the per-node step selects each in turn.
StepOutcome run_native_prepare(const Context& ctx) {
  StepOutcome out;
  const auto step = StepId::prepare;
  const auto& s = ctx.settings;
  const auto& b = s.bundles;
  if (!ctx.snap.applied_bundles.contains(b.cilium_native)) {
    out.write(step, "", ApplyBundle{b.cilium_native});
    return out;
  }
  if (!ctx.snap.applied_bundles.contains(b.cilium_node_config)) {
    const auto* op = ctx.snap.workload(s.cilium_operator());
    if (op == nullptr || !op->exists || !op->ready) {
      out.wait(step, "", Gate::resources_ready,
               {s.cilium_operator().describe() + " not ready (it registers the CiliumNodeConfig "
                                                 "CRD)"});
      return out;
    }
    out.write(step, "", ApplyBundle{b.cilium_node_config});
  }
  return out;
}

}  // namespace

bool prepare_done(const Context& ctx) {
  if (ctx.cleanup_started())
    return true;
  if (ctx.settings.native()) {
    return ctx.snap.applied_bundles.contains(ctx.settings.bundles.cilium_native) &&
           ctx.snap.applied_bundles.contains(ctx.settings.bundles.cilium_node_config);
  }
  if (!ctx.nodes.unprepared().empty())
    return false;
  return source_cni_patched(ctx.snap, ctx.settings) &&
         ctx.snap.applied_bundles.contains(ctx.settings.bundles.cilium) &&
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
  if (s.native())
    return run_native_prepare(ctx);
  // Neither prepared nor joining, by name.
  const bool all_labelled = ctx.nodes.unprepared().empty();
  for (const auto& name : ctx.nodes.unprepared()) {
    const auto& node = ctx.snap.nodes.at(name);
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
  if (!source_cni_patched(ctx.snap, ctx.settings)) {
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
