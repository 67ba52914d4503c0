// Step 5, cleanup. First remove cilium-migrated's node selector (new nodes
// get Cilium; this write is also what tells later runs that cleanup began,
// since the labels that prove migration go last). Once observed: delete the
// multus bundle, the source CNI, the first Cilium and cleanUpResources. Once
// those are gone: remove the migration labels and our annotations (the
// cilium label only after cilium-migrated stopped selecting on it, or Cilium
// would leave the node).

#include <algorithm>

#include "node_roll.hpp"

namespace cnimig::migrate::detail {
namespace {

std::vector<ObjectRef> objects_to_delete(const Context& ctx) {
  const auto& s = ctx.settings;
  std::vector<ObjectRef> refs{s.source_cni, s.cilium()};
  for (const auto& ref : flatten(s.cleanup_resources)) {
    if (ref == s.cilium_migrated())
      continue;  // the Cilium that stays
    if (std::find(refs.begin(), refs.end(), ref) == refs.end())
      refs.push_back(ref);
  }
  return refs;
}

bool node_clean(const Context& ctx, const NodeState& node) {
  for (const auto& key : ctx.settings.labels.all()) {
    if (node.labels.contains(key))
      return false;
  }
  for (const auto& [key, value] : node.annotations) {
    if (key.starts_with(ctx.settings.annotation_prefix))
      return false;
  }
  return true;
}

bool objects_gone(const Context& ctx) {
  if (ctx.snap.applied_bundles.contains(ctx.settings.bundles.multus))
    return false;
  for (const auto& ref : objects_to_delete(ctx)) {
    if (ctx.snap.exists(ref))
      return false;
  }
  return true;
}

}  // namespace

bool cleanup_done(const Context& ctx) {
  if (!ctx.cleanup_started() || !objects_gone(ctx))
    return false;
  for (const auto& [name, node] : ctx.snap.nodes) {
    if (!node_clean(ctx, node))
      return false;
  }
  return true;
}

StepOutcome run_final_gate(const Context& ctx) {
  StepOutcome out;
  if (ctx.failed)
    return out;
  // Removing cilium-migrated's node selector changed its pod template: every
  // Cilium agent is replaced, maxUnavailable at a time. The migration is
  // complete only once that rollout is (its status counts every node at the
  // new generation) and connectivity is proven after it.
  const auto& s = ctx.settings;
  auto deleted = objects_to_delete(ctx);
  deleted.push_back(s.multus_calico());
  deleted.push_back(s.multus_cilium());
  std::vector<std::string> pending;
  auto refs = flatten(s.watched_resources);
  refs.push_back(s.cilium_migrated());
  for (const auto& ref : refs) {
    if (std::find(deleted.begin(), deleted.end(), ref) != deleted.end())
      continue;
    if (ref == s.cilium_migrated() && !ctx.snap.exists(ref)) {
      pending.push_back(ref.describe() + " absent");
      continue;
    }
    (void)ctx.resource_ready(ref, &pending);
  }
  std::sort(pending.begin(), pending.end());
  pending.erase(std::unique(pending.begin(), pending.end()), pending.end());
  if (!pending.empty()) {
    out.wait(StepId::cleanup, "", Gate::resources_ready, std::move(pending));
    return out;
  }
  // A run that wrote nothing (a rerun on a finished cluster) has nothing to
  // prove: it plans nothing, as before.
  if (ctx.run.write_generation > 0 && !ctx.check_current) {
    out.wants_check = true;
    return out;
  }
  out.scope_complete = true;
  return out;
}

StepOutcome run_cleanup(const Context& ctx) {
  StepOutcome out;
  const auto step = StepId::cleanup;
  const auto& s = ctx.settings;
  if (ctx.failed)
    return out;
  if (!ctx.cleanup_started()) {
    // Cleanup removes every migration label and annotation: a node still
    // joining would lose the state it is being brought into.
    std::vector<std::string> joining;
    for (const auto& [name, node] : ctx.snap.nodes) {
      if (ctx.joining(name))
        joining.push_back(name);
    }
    if (!joining.empty()) {
      out.wait(step, "", Gate::node_joining, std::move(joining));
      return out;
    }
    if (!ctx.snap.exists(s.cilium_migrated())) {
      out.halt = s.cilium_migrated().describe() + " does not exist; refusing to clean up";
      return out;
    }
    // Both writes go in order in one group: the selector's removal rolls
    // cilium-migrated, whose new agents then read the restored values. A
    // crash between them repeats both (the merge is idempotent).
    out.write(step, "",
              RestoreCiliumDefaults{s.system_namespace, s.cilium_config_map, s.cilium_defaults,
                                    s.cilium_operator_deployment});
    out.write(step, "",
              PatchDaemonSetNodeSelector{
                  s.system_namespace, s.cilium_migrated_daemon_set, {}, {s.labels.cilium}});
    return out;
  }
  if (!objects_gone(ctx)) {
    // Safety: the source CNI may go only when no node needs it.
    for (const auto& [name, node] : ctx.snap.nodes) {
      if (ctx.has_label(node, s.labels.calico_cilium)) {
        out.halt = "node " + name + " still runs the source CNI; refusing to delete it";
        return out;
      }
    }
    if (ctx.snap.applied_bundles.contains(s.bundles.multus)) {
      out.write(step, "", DeleteBundle{s.bundles.multus});
    }
    for (const auto& ref : objects_to_delete(ctx)) {
      if (ctx.snap.exists(ref))
        out.write(step, "", DeleteObject{ref});
    }
    return out;
  }
  for (const auto& [name, node] : ctx.snap.nodes) {
    if (node_clean(ctx, node))
      continue;
    LabelNode labels{name, {}, {}};
    for (const auto& key : s.labels.all()) {
      if (node.labels.contains(key))
        labels.remove.push_back(key);
    }
    AnnotateNode annotations{name, {}, {}};
    for (const auto& [key, value] : node.annotations) {
      if (key.starts_with(s.annotation_prefix))
        annotations.remove.push_back(key);
    }
    if (!labels.remove.empty())
      out.write(step, name, std::move(labels));
    if (!annotations.remove.empty())
      out.write(step, name, std::move(annotations));
  }
  return out;
}

}  // namespace cnimig::migrate::detail
