// Step 5, cleanup. First remove cilium-migrated's node selector (new nodes
// get Cilium; this write is also what tells later runs that cleanup began,
// since the labels that prove migration go last). Once observed: delete the
// multus bundle, the source CNI, the first Cilium and cleanUpResources. Once
// those are gone: remove the migration labels and our annotations (the
// cilium label only after cilium-migrated stopped selecting on it, or Cilium
// would leave the node).
//
// With node leftovers to remove (MigrationSettings::remove_node_leftovers),
// between the two: once no pod of a deleted agent is left anywhere, apply the
// node-cleanup bundle; a node's labels go once its pod is Ready on it (the
// leftovers are gone there), and the bundle goes once every node is clean. A
// node's labels are therefore also the record of its leftovers: a restart
// re-applies the bundle only while some node still carries them, and running
// it twice on a node removes nothing twice.
//
// cilium-native's finish is a variant (run_native_cleanup): its first writes,
// in one ordered group, set cilium-config back to Cilium's defaults (with the
// CNI config file the CiliumNodeConfig gave every node), restart the cilium
// DaemonSet and the operator, and delete the CiliumNodeConfig. A restarted
// agent reads the same values with or without the CiliumNodeConfig, so its
// deletion need not wait for the rollout; the source CNI's deletion does.
// Then the same deletions and node leftovers as above, keeping the one
// cilium DaemonSet.

#include <algorithm>

#include "node_roll.hpp"

namespace cnimig::migrate::detail {
namespace {

// The Cilium DaemonSet that stays.
ObjectRef staying_cilium(const MigrationSettings& s) {
  return s.native() ? s.cilium() : s.cilium_migrated();
}

std::vector<ObjectRef> objects_to_delete(const Context& ctx) {
  const auto& s = ctx.settings;
  std::vector<ObjectRef> refs{s.source_cni};
  if (!s.native())
    refs.push_back(s.cilium());
  for (const auto& ref : flatten(s.cleanup_resources)) {
    if (ref == staying_cilium(s))
      continue;
    if (std::find(refs.begin(), refs.end(), ref) == refs.end())
      refs.push_back(ref);
  }
  return refs;
}

// Pods of the agents cleanup deleted (the source CNI, the first Cilium,
// multus) still on a node: one still terminating could write back what the
// node cleanup removes.
std::vector<std::string> deleted_agents_running(const Context& ctx) {
  const auto& s = ctx.settings;
  auto agents = objects_to_delete(ctx);
  agents.push_back(s.multus_calico());
  agents.push_back(s.multus_cilium());
  std::vector<std::string> running;
  for (const auto& [name, node] : ctx.snap.nodes) {
    for (const auto& pod : node.pods) {
      const bool of_agent =
          pod.daemon_set_owned() &&
          std::any_of(agents.begin(), agents.end(), [&](const ObjectRef& a) {
            return a.kind == kDaemonSet && a.ns == pod.ns && a.name == pod.owner_name;
          });
      if (of_agent)
        running.push_back(pod.ns + "/" + pod.name + " on " + name);
    }
  }
  return running;
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

// The nodes' migration labels and annotations, after their leftovers where
// those are removed (see the top of this file).
StepOutcome remove_node_state(const Context& ctx) {
  StepOutcome out;
  const auto step = StepId::cleanup;
  const auto& s = ctx.settings;
  const bool leftovers = s.remove_node_leftovers;
  const bool nodes_clean = ctx.nodes.unclean().empty();
  const bool cleaner_applied = ctx.snap.applied_bundles.contains(s.bundles.node_cleanup);
  if (nodes_clean) {
    if (cleaner_applied)
      out.write(step, "", DeleteBundle{s.bundles.node_cleanup});
    return out;
  }
  if (leftovers && !cleaner_applied) {
    if (auto running = deleted_agents_running(ctx); !running.empty()) {
      out.wait(step, "", Gate::pods_gone, std::move(running));
    } else {
      out.write(step, "", ApplyBundle{s.bundles.node_cleanup});
    }
    return out;
  }
  std::vector<std::string> cleaning;
  for (const auto& name : ctx.nodes.unclean()) {
    const auto& node = ctx.snap.nodes.at(name);
    if (leftovers && !runs_ready_pod(node, s.system_namespace, s.node_cleanup_daemon_set)) {
      cleaning.push_back(s.node_cleanup().describe() + " not Ready on " + name);
      continue;
    }
    clean_node(ctx, step, node, out);
  }
  if (!cleaning.empty())
    out.wait(step, "", Gate::resources_ready, std::move(cleaning));
  return out;
}

}  // namespace

void clean_node(const Context& ctx, StepId step, const NodeState& node, StepOutcome& out) {
  const auto& s = ctx.settings;
  LabelNode labels{node.name, {}, {}};
  for (const auto& key : s.labels.all()) {
    if (node.labels.contains(key))
      labels.remove.push_back(key);
  }
  AnnotateNode annotations{node.name, {}, {}};
  for (const auto& [key, value] : node.annotations) {
    if (key.starts_with(s.annotation_prefix))
      annotations.remove.push_back(key);
  }
  if (!labels.remove.empty())
    out.write(step, node.name, std::move(labels));
  if (!annotations.remove.empty())
    out.write(step, node.name, std::move(annotations));
}

bool cleanup_done(const Context& ctx) {
  if (!ctx.cleanup_started() || !objects_gone(ctx) ||
      ctx.snap.applied_bundles.contains(ctx.settings.bundles.node_cleanup))
    return false;
  return ctx.nodes.unclean().empty();
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
  refs.push_back(staying_cilium(s));
  for (const auto& ref : refs) {
    if (std::find(deleted.begin(), deleted.end(), ref) != deleted.end())
      continue;
    if (ref == staying_cilium(s) && !ctx.snap.exists(ref)) {
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

namespace {

StepOutcome run_native_cleanup(const Context& ctx) {
  StepOutcome out;
  const auto step = StepId::cleanup;
  const auto& s = ctx.settings;
  if (!ctx.cleanup_started()) {
    if (!ctx.snap.exists(s.cilium())) {
      out.halt = s.cilium().describe() + " does not exist; refusing to clean up";
      return out;
    }
    RestoreCiliumDefaults restore{s.system_namespace, s.cilium_config_map, s.native_cilium_defaults,
                                  s.cilium_operator_deployment};
    restore.restart_daemon_sets = {s.cilium_daemon_set};
    out.write(step, "", std::move(restore));
    out.write(step, "", DeleteBundle{s.bundles.cilium_node_config});
    return out;
  }
  if (objects_gone(ctx))
    return remove_node_state(ctx);
  // Safety: the source CNI may go only when no node needs it.
  for (const auto& [name, node] : ctx.snap.nodes) {
    if (!ctx.has_label(node, s.labels.migrated) && !node_clean(s, node)) {
      out.halt = "node " + name + " is not migrated; refusing to delete the source CNI";
      return out;
    }
  }
  // Every agent runs with the restored values before the source goes.
  if (std::vector<std::string> pending; !ctx.resource_ready(s.cilium(), &pending)) {
    out.wait(step, "", Gate::resources_ready, std::move(pending));
    return out;
  }
  for (const auto& ref : objects_to_delete(ctx)) {
    if (ctx.snap.exists(ref))
      out.write(step, "", DeleteObject{ref});
  }
  return out;
}

}  // namespace

StepOutcome run_cleanup(const Context& ctx) {
  StepOutcome out;
  const auto step = StepId::cleanup;
  const auto& s = ctx.settings;
  if (ctx.failed)
    return out;
  if (s.native())
    return run_native_cleanup(ctx);
  if (!ctx.cleanup_started()) {
    // Cleanup removes every migration label and annotation: a node still
    // joining would lose the state it is being brought into.
    if (const auto& joining = ctx.nodes.joining(); !joining.empty()) {
      out.wait(step, "", Gate::node_joining, {joining.begin(), joining.end()});
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
  return remove_node_state(ctx);
}

}  // namespace cnimig::migrate::detail
