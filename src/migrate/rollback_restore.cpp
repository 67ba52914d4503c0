// The last part of a whole-cluster rollback, once every node is off multus
// (src/migrate/README.md "Rollback"). Each stage is read from the cluster,
// so a restart finds where it stopped:
//   1. the source CNI's calico-cilium node selector removed (after a gate):
//      from then on it runs on every node whatever the labels say;
//   2. the multus and Cilium bundles deleted (multus selects no node by now;
//      the first Cilium's 99-cilium.conf was never chosen);
//   3. once no pod of their agents is left on any node, each node's
//      migration labels and our annotations removed.

#include <algorithm>

#include "rollback.hpp"

namespace cnimig::migrate::detail {
namespace {

std::vector<ObjectRef> agents(const MigrationSettings& s) {
  return {s.cilium(), s.cilium_migrated(), s.multus_calico(), s.multus_cilium()};
}

bool bundles_present(const Context& ctx) {
  const auto& s = ctx.settings;
  if (ctx.snap.applied_bundles.contains(s.bundles.cilium) ||
      ctx.snap.applied_bundles.contains(s.bundles.multus))
    return true;
  const auto a = agents(s);
  return std::any_of(a.begin(), a.end(), [&](const ObjectRef& r) { return ctx.snap.exists(r); });
}

// Pods of the deleted agents still on a node (terminating ones too).
std::vector<std::string> agents_running(const Context& ctx) {
  std::vector<std::string> running;
  const auto a = agents(ctx.settings);
  for (const auto& [name, node] : ctx.snap.nodes) {
    for (const auto& ref : a) {
      if (runs_pod(node, ref.ns, ref.name))
        running.push_back(ref.describe() + " on " + name);
    }
  }
  return running;
}

}  // namespace

bool restore_done(const Context& ctx) {
  return !source_cni_patched(ctx.snap, ctx.settings) && !bundles_present(ctx) &&
         ctx.nodes.unclean().empty();
}

StepOutcome run_restore(const Context& ctx) {
  StepOutcome out;
  const auto step = StepId::prepare;
  const auto& s = ctx.settings;
  if (ctx.failed)
    return out;
  if (source_cni_patched(ctx.snap, s)) {
    if (!ctx.gate_ok) {
      request_gate(ctx, step, out);
      return out;
    }
    out.write(step, "",
              PatchDaemonSetNodeSelector{
                  s.source_cni.ns, s.source_cni.name, {}, {s.labels.calico_cilium}});
    return out;
  }
  if (bundles_present(ctx)) {
    out.write(step, "", DeleteBundle{s.bundles.multus});
    out.write(step, "", DeleteBundle{s.bundles.cilium});
    return out;
  }
  if (auto running = agents_running(ctx); !running.empty()) {
    out.wait(step, "", Gate::pods_gone, std::move(running));
    return out;
  }
  for (const auto& name : ctx.nodes.unclean())
    clean_node(ctx, step, ctx.snap.nodes.at(name), out);
  return out;
}

}  // namespace cnimig::migrate::detail
