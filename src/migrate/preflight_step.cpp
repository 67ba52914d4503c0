// Step 0, preflight: the preflight resources exist (knet-stress is installed
// from its bundle when absent, the only write allowed before the check), are
// ready, and a connectivity check passes. Validation of config, manifests,
// permissions and the firewall is the driver's, before it calls the core.

#include <algorithm>

#include "step_context.hpp"

namespace cnimig::migrate::detail {
bool preflight_resources_ready(const Context& ctx, std::vector<std::string>* pending) {
  bool ready = true;
  for (const auto& ref : flatten(ctx.settings.preflight_resources)) {
    const auto* w = ctx.snap.workload(ref);
    if (w == nullptr || !w->exists) {
      if (pending)
        pending->push_back(ref.describe() + " absent");
      ready = false;
    } else if (!w->ready) {
      if (pending)
        pending->push_back(ref.describe() + " not ready");
      ready = false;
    }
  }
  return ready;
}

// Done once the preflight passed in this run, or once the migration has
// visibly started (a resumed run need not redo it: every later write that
// starts new work waits for a gate of its own).
bool preflight_done(const Context& ctx) {
  return ctx.migration_started() ||
         (preflight_resources_ready(ctx, nullptr) && ctx.checked_this_run);
}

StepOutcome run_preflight(const Context& ctx, bool may_write) {
  StepOutcome out;
  const auto step = StepId::preflight;
  const auto knet = ctx.settings.knet_stress();
  std::vector<std::string> missing;
  bool only_knet = true;
  for (const auto& ref : flatten(ctx.settings.preflight_resources)) {
    if (ctx.snap.exists(ref))
      continue;
    missing.push_back(ref.describe());
    if (std::find(knet.begin(), knet.end(), ref) == knet.end())
      only_knet = false;
  }
  if (!missing.empty()) {
    std::string list;
    for (const auto& m : missing)
      list += (list.empty() ? "" : ", ") + m;
    if (!only_knet) {
      out.halt = "preflight resources do not exist: " + list;
    } else if (ctx.snap.applied_bundles.contains(ctx.settings.bundles.knet_stress)) {
      out.wait(step, "", Gate::resources_ready, missing);
    } else if (!may_write) {
      out.halt = "preflight resources do not exist (" + list +
                 "); select step preflight to install knet-stress";
    } else if (!ctx.failed) {
      out.write(step, "", ApplyBundle{ctx.settings.bundles.knet_stress});
    }
    return out;
  }
  std::vector<std::string> pending;
  if (!preflight_resources_ready(ctx, &pending)) {
    out.wait(step, "", Gate::resources_ready, std::move(pending));
    return out;
  }
  if (!ctx.checked_this_run && !ctx.failed)
    out.wants_check = true;
  return out;
}

}  // namespace cnimig::migrate::detail
