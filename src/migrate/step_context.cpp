// The facts every step reads, derived once per call.

#include "step_context.hpp"

#include <algorithm>

#include "node_roll.hpp"

namespace cnimig::migrate::detail {

Context::Context(const ClusterSnapshot& snapshot, const RunRecord& record,
                 const MigrationSettings& s, const Budget& b, const Selection& sel)
    : snap(snapshot), run(record), settings(s), budget(b), selection(sel) {
  for (const auto& f : run.failures) {
    failed = true;
    if (!failure_reason.empty())
      failure_reason += "; ";
    failure_reason += f.node.empty() ? f.reason : f.node + ": " + f.reason;
  }
  if (run.last_check && !run.last_check->passed) {
    failed = true;
    if (!failure_reason.empty())
      failure_reason += "; ";
    failure_reason += "connectivity check failed";
    if (!run.last_check->detail.empty())
      failure_reason += ": " + run.last_check->detail;
  }
  for (const auto& a : run.in_flight) {
    if (is_write(a))
      writes_in_flight = true;
    if (std::holds_alternative<RunConnectivityCheck>(a.kind))
      check_in_flight = true;
  }
  watched_ready = true;
  for (const auto& ref : flatten(settings.watched_resources)) {
    if (!resource_ready(ref, &not_ready))
      watched_ready = false;
  }
  checked_this_run = run.last_check && run.last_check->passed;
  check_current =
      checked_this_run && run.last_check->generation == run.write_generation && !writes_in_flight;
  gate_ok = !failed && watched_ready && check_current;
  for (const auto& [name, node] : snap.nodes)
    phases.emplace(name, node_phase(node, snap, settings));
}

bool Context::joining(const std::string& node) const {
  return is_join_phase(phase(node));
}

bool Context::has_label(const NodeState& node, const std::string& key) const {
  auto it = node.labels.find(key);
  return it != node.labels.end() && it->second == settings.labels.value;
}

std::optional<std::string> Context::annotation(const NodeState& node, std::string_view name) const {
  if (const auto* value = settings.find_annotation(node.annotations, name))
    return *value;
  return std::nullopt;
}

bool Context::was_cordoned(const NodeState& node) const {
  return annotation(node, annotation_names::kWasCordoned) == "true";
}

bool Context::cleanup_started() const {
  const auto* w = snap.workload(settings.cilium_migrated());
  return w != nullptr && w->exists && !w->node_selector.contains(settings.labels.cilium);
}

bool Context::migration_started() const {
  if (cleanup_started())
    return true;
  if (snap.applied_bundles.contains(settings.bundles.cilium) ||
      snap.applied_bundles.contains(settings.bundles.multus)) {
    return true;
  }
  if (const auto* src = snap.workload(settings.source_cni);
      src != nullptr && src->node_selector.contains(settings.labels.calico_cilium)) {
    return true;
  }
  const auto keys = settings.labels.all();
  for (const auto& [name, node] : snap.nodes) {
    for (const auto& key : keys) {
      if (node.labels.contains(key))
        return true;
    }
    for (const auto& [key, value] : node.annotations) {
      if (key.starts_with(settings.annotation_prefix))
        return true;
    }
  }
  return false;
}

bool Context::resource_ready(const ObjectRef& ref, std::vector<std::string>* pending) const {
  const auto* w = snap.workload(ref);
  if (w == nullptr || !w->exists) {
    // Objects the migration creates are expected only once their bundle is
    // applied (config.yaml: "only expected once their step has run").
    if ((ref == settings.cilium() || ref == settings.cilium_migrated()) &&
        !snap.applied_bundles.contains(settings.bundles.cilium)) {
      return true;
    }
    if ((ref == settings.multus_calico() || ref == settings.multus_cilium()) &&
        !snap.applied_bundles.contains(settings.bundles.multus)) {
      return true;
    }
    if (pending != nullptr)
      pending->push_back(ref.describe() + " absent");
    return false;
  }
  if (!w->ready) {
    if (pending != nullptr) {
      pending->push_back(ref.describe() + " not ready" +
                         (w->detail.empty() ? "" : " (" + w->detail + ")"));
    }
    return false;
  }
  return true;
}

void request_gate(const Context& ctx, StepId step, StepOutcome& out) {
  if (ctx.failed)
    return;
  if (!ctx.watched_ready) {
    bool already = std::any_of(out.waits.begin(), out.waits.end(), [](const Action& a) {
      return std::get<WaitFor>(a.kind).gate == Gate::resources_ready;
    });
    if (!already)
      out.wait(step, "", Gate::resources_ready, ctx.not_ready);
    return;
  }
  if (!ctx.check_current)
    out.wants_check = true;
}

}  // namespace cnimig::migrate::detail
