// The facts every step reads, derived once per call.

#include "step_context.hpp"

#include <algorithm>

#include "node_roll.hpp"

namespace cnimig::migrate::detail {

bool has_label(const MigrationSettings& s, const NodeState& node, const std::string& key) {
  auto it = node.labels.find(key);
  return it != node.labels.end() && it->second == s.labels.value;
}

bool cleanup_started(const ClusterSnapshot& snap, const MigrationSettings& s) {
  if (s.native()) {
    // What the snapshot alone shows of the finish: the source CNI deleted
    // after Cilium was installed. Context::cleanup_started() also sees its
    // first writes.
    return snap.applied_bundles.contains(s.bundles.cilium_native) && !snap.exists(s.source_cni);
  }
  const auto* w = snap.workload(s.cilium_migrated());
  return w != nullptr && w->exists && !w->node_selector.contains(s.labels.cilium);
}

bool source_cni_patched(const ClusterSnapshot& snap, const MigrationSettings& s) {
  const auto* w = snap.workload(s.source_cni);
  if (w == nullptr || !w->exists)
    return false;
  auto it = w->node_selector.find(s.labels.calico_cilium);
  return it != w->node_selector.end() && it->second == s.labels.value;
}

// Later steps replace calico-cilium by cilium and the priority labels by
// migrated: those nodes stay prepared.
bool node_prepared(const MigrationSettings& s, const NodeState& node) {
  const auto& l = s.labels;
  return (has_label(s, node, l.calico_cilium) || has_label(s, node, l.cilium)) &&
         (has_label(s, node, l.cni_priority_calico) || has_label(s, node, l.cni_priority_cilium) ||
          has_label(s, node, l.migrated));
}

bool node_clean(const MigrationSettings& s, const NodeState& node) {
  for (const auto& key : s.labels.all()) {
    if (node.labels.contains(key))
      return false;
  }
  for (const auto& [key, value] : node.annotations) {
    if (key.starts_with(s.annotation_prefix))
      return false;
  }
  return true;
}

Context::Context(const ClusterSnapshot& snapshot, const RunRecord& record,
                 const MigrationSettings& s, const Budget& b, const Selection& sel,
                 const NodeIndex& index)
    : snap(snapshot), run(record), settings(s), budget(b), selection(sel), nodes(index) {
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
    if (is_write(a)) {
      writes_in_flight = true;
      cluster_writes_in_flight = cluster_writes_in_flight || a.node.empty();
    }
    if (std::holds_alternative<RunConnectivityCheck>(a.kind))
      check_in_flight = true;
    in_flight_by_node[a.node].push_back(&a);
  }
  watched_ready = true;
  for (const auto& ref : flatten(settings.watched_resources)) {
    if (!resource_ready(ref, &not_ready))
      watched_ready = false;
  }
  for (const auto& b : run.blocked_evictions)
    blocked_by_pod.try_emplace({b.ns, b.name}, &b);
  checked_this_run = run.last_check && run.last_check->passed;
  check_current = check_covers(run, "");
  gate_ok = !failed && watched_ready && check_current;
}

bool Context::in_flight(const Action& action) const {
  const auto same = in_flight_by_node.find(action.node);
  if (same == in_flight_by_node.end())
    return false;
  return std::any_of(same->second.begin(), same->second.end(),
                     [&](const Action* a) { return *a == action; });
}

const BlockedEviction* Context::blocked(const PodState& pod) const {
  const auto found = blocked_by_pod.find({pod.ns, pod.name});
  return found == blocked_by_pod.end() ? nullptr : found->second;
}

bool Context::gate_ok_for(const std::string& node, StepId step) const {
  if (failed || !watched_ready || !check_covers(run, node))
    return false;
  // A sampled check does not end a step: the gate of its last node (every
  // other node done with it) wants a full one.
  if (run.last_check->full)
    return true;
  const auto& rest = nodes.not_done(step);
  return !std::all_of(rest.begin(), rest.end(), [&](const auto& n) { return n == node; });
}

bool Context::joining(const std::string& node) const {
  return nodes.facts(node).joining;
}

bool Context::has_label(const NodeState& node, const std::string& key) const {
  return detail::has_label(settings, node, key);
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
  if (detail::cleanup_started(snap, settings))
    return true;
  if (!settings.native())
    return false;
  // The finish's first writes delete the CiliumNodeConfig once every node is
  // migrated; prepare applies it after the rest of Cilium, when none is.
  const auto& b = settings.bundles;
  return snap.applied_bundles.contains(b.cilium_native) &&
         !snap.applied_bundles.contains(b.cilium_node_config) && !snap.nodes.empty() &&
         nodes.not_done(StepId::migrate).empty();
}

bool Context::migration_started() const {
  if (cleanup_started())
    return true;
  if (snap.applied_bundles.contains(settings.bundles.cilium_native) ||
      snap.applied_bundles.contains(settings.bundles.cilium_node_config)) {
    return true;
  }
  if (snap.applied_bundles.contains(settings.bundles.cilium) ||
      snap.applied_bundles.contains(settings.bundles.multus)) {
    return true;
  }
  if (const auto* src = snap.workload(settings.source_cni);
      src != nullptr && src->node_selector.contains(settings.labels.calico_cilium)) {
    return true;
  }
  // A node with a migration label or one of our annotations.
  return !nodes.unclean().empty();
}

bool Context::expected(const ObjectRef& ref) const {
  const auto& s = settings;
  const auto applied = [&](const std::string& id) { return snap.applied_bundles.contains(id); };
  if (s.native()) {
    // One Cilium DaemonSet and its operator, once their bundle is applied;
    // the multus strategy's objects never.
    if (ref == s.cilium() || ref == s.cilium_operator())
      return applied(s.bundles.cilium_native);
    if (ref == s.cilium_migrated() || ref == s.multus_calico() || ref == s.multus_cilium())
      return false;
    return true;
  }
  if (ref == s.cilium() || ref == s.cilium_migrated())
    return applied(s.bundles.cilium);
  if (ref == s.multus_calico() || ref == s.multus_cilium())
    return applied(s.bundles.multus);
  return true;
}

bool Context::resource_ready(const ObjectRef& ref, std::vector<std::string>* pending) const {
  const auto* w = snap.workload(ref);
  if (w == nullptr || !w->exists) {
    // Objects the migration creates are expected only once their bundle is
    // applied (config.yaml: "only expected once their step has run").
    if (!expected(ref))
      return true;
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

namespace {

// Waits for readiness if that is what the gate lacks; true if it is not.
bool request_readiness(const Context& ctx, StepId step, StepOutcome& out) {
  if (ctx.failed)
    return false;
  if (!ctx.watched_ready) {
    bool already = std::any_of(out.waits.begin(), out.waits.end(), [](const Action& a) {
      return std::get<WaitFor>(a.kind).gate == Gate::resources_ready;
    });
    if (!already)
      out.wait(step, "", Gate::resources_ready, ctx.not_ready);
    return false;
  }
  return true;
}

}  // namespace

void request_gate(const Context& ctx, StepId step, StepOutcome& out) {
  if (request_readiness(ctx, step, out) && !ctx.check_current)
    out.wants_check = true;
}

void request_gate(const Context& ctx, StepId step, const std::string& node, StepOutcome& out) {
  if (!request_readiness(ctx, step, out) || ctx.gate_ok_for(node, step))
    return;
  // A check starting while the node's own write runs would not vouch for it.
  if (writing_to(ctx.run, node))
    return;
  out.wants_node_check = true;
  out.check_nodes.push_back(node);
}

}  // namespace cnimig::migrate::detail
