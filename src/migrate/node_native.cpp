// cilium-native's per-node step (strategy cilium-native, StepId::migrate):
// Cilium's documented per-node migration with the reboot replaced by pod
// re-creation. Per node: gate; native=started; cordon (drain-since) and
// drain; record the agent cut-off and label cilium-default (the
// CiliumNodeConfig now selects the node); delete the node's Cilium agent pod
// that predates the cut-off and wait until its replacement is Ready (Cilium
// reads cilium-config and the CiliumNodeConfigs only when its agent starts,
// so only the new agent writes 05-cilium.conflist); native=deleting with the
// pods' cut-off; delete the non-hostNetwork pods that predate it; wait until
// the node's pods are Ready on addresses from Cilium's pool; gate; uncordon;
// label migrated; gate; annotations removed.
//
// One cut-off annotation serves both deletions in turn: while the stage is
// `started` it is the agent's (written with the label), `deleting` replaces
// it with the pods' in the same patch that records the stage.

#include <boost/asio/ip/address_v4.hpp>
#include <boost/asio/ip/network_v4.hpp>

#include "node_step.hpp"

namespace cnimig::migrate::detail {
namespace {

using boost::asio::ip::network_v4;

bool node_done(const MigrationSettings& s, const NodeState& node) {
  return has_label(s, node, s.labels.migrated) &&
         s.find_annotation(node.annotations, annotation_names::kNative) == nullptr;
}

// The node's Cilium agent pods created before the cut-off (hostNetwork, so
// pods_to_recreate leaves them out).
std::vector<const PodState*> old_agents(const MigrationSettings& s, const NodeState& node,
                                        const Cutoff& cut) {
  std::vector<const PodState*> pods;
  for (const auto& p : node.pods) {
    if (p.ns == s.system_namespace && p.daemon_set_owned() && p.owner_name == s.cilium_daemon_set &&
        predates(p, cut))
      pods.push_back(&p);
  }
  return pods;
}

NodePhase started_phase(const NodeState& node, const MigrationSettings& s) {
  if (!node.unschedulable)
    return NodePhase::native_started;
  if (has_evictable_pods(s, node))
    return NodePhase::native_draining;
  const auto cut = cutoff(s, node, annotation_names::kNativePodsBefore);
  // The label and the agent's cut-off go in one patch; either missing (a
  // crash between two patches, a hand edit) writes both again.
  if (!has_label(s, node, s.labels.cilium_default) || !cut.recorded())
    return NodePhase::native_drained;
  if (!old_agents(s, node, cut).empty())
    return NodePhase::native_agent_restarting;
  if (!runs_ready_pod(node, s.system_namespace, s.cilium_daemon_set))
    return NodePhase::native_agent_wait;
  return NodePhase::native_agent_ready;
}

// What keeps the node's pods from counting as moved: those not Ready yet (or
// without an address) and those Ready on an address outside Cilium's pool.
struct PodAddresses {
  std::vector<std::string> pending;
  std::vector<std::string> outside;
};

PodAddresses pod_addresses(const MigrationSettings& s, const NodeState& node) {
  PodAddresses out;
  boost::system::error_code ec;
  const auto pool = boost::asio::ip::make_network_v4(s.cilium_pod_cidr, ec);
  for (const auto& p : node.pods) {
    if (p.host_network || p.mirror || p.terminating)
      continue;
    const auto id = p.ns + "/" + p.name;
    if (!p.ready || p.ip.empty()) {
      out.pending.push_back(id);
      continue;
    }
    boost::system::error_code bad;
    const auto ip = boost::asio::ip::make_address_v4(p.ip, bad);
    if (ec || bad || !network_v4(ip, 32).is_subnet_of(pool))
      out.outside.push_back(id + " (" + p.ip + ")");
  }
  return out;
}

// Pods Ready on Cilium addresses, then one gate, then uncordon and label
// migrated in this order.
NodeHold check_pods(const Context& ctx, const NodeStep& step, const NodeState& node,
                    StepOutcome& out) {
  const auto& s = ctx.settings;
  auto pods = pod_addresses(s, node);
  if (!pods.outside.empty()) {
    std::string list;
    for (const auto& p : pods.outside)
      list += (list.empty() ? "" : ", ") + p;
    out.halt = "node " + node.name + ": re-created pods are not on Cilium's pool " +
               s.cilium_pod_cidr + ": " + list +
               " (the node's Cilium agent did not install its CNI config: check the "
               "CiliumNodeConfig " +
               s.cilium_node_config + " and the agent's logs)";
    return NodeHold::unavailable;
  }
  if (!pods.pending.empty()) {
    out.wait(step.step, node.name, Gate::pods_ready, std::move(pods.pending));
    return NodeHold::unavailable;
  }
  if (!ctx.gate_ok_for(node.name, step.step)) {
    request_gate(ctx, step.step, node.name, out);
    return NodeHold::unavailable;
  }
  if (!ctx.was_cordoned(node))
    out.write(step.step, node.name, SetCordon{node.name, false});
  out.write(step.step, node.name, LabelNode{node.name, {{s.labels.migrated, s.labels.value}}, {}});
  return NodeHold::unavailable;
}

NodeHold advance(const Context& ctx, const NodeStep& step, const NodeState& node, NodePhase phase,
                 StepOutcome& out) {
  const auto& s = ctx.settings;
  const auto& name = node.name;
  switch (phase) {
    case NodePhase::native_labelled:
      return finish_after_gate(ctx, step, node, std::nullopt, out);
    case NodePhase::native_uncordoned:
      if (!ctx.failed)
        out.write(step.step, name, LabelNode{name, {{s.labels.migrated, s.labels.value}}, {}});
      return NodeHold::in_flight;
    default:
      break;
  }
  if (ctx.failed)
    return NodeHold::unavailable;  // every other phase is a safe place to stop
  switch (phase) {
    case NodePhase::native_started:
      cordon_and_drain(ctx, step, node, out);
      break;
    case NodePhase::native_draining:
      drain(ctx, step.step, node, out);
      break;
    case NodePhase::native_drained:
      // The cut-off first: an agent created before it has not seen the label.
      out.write(step.step, name, cutoff_write(ctx, node, step.before_key));
      out.write(step.step, name, LabelNode{name, {{s.labels.cilium_default, s.labels.value}}, {}});
      break;
    case NodePhase::native_agent_restarting:
      delete_pods_before(
          ctx, step.step, node, step.before_key, out,
          [&](const NodeState& n, const Cutoff& cut) { return old_agents(s, n, cut); });
      break;
    case NodePhase::native_agent_wait:
      out.wait(step.step, name, Gate::cni_ready, {s.cilium().describe() + " on " + name});
      break;
    case NodePhase::native_agent_ready:
      out.write(step.step, name, cutoff_annotation(ctx, node, step.stage_key, step.before_key));
      break;
    case NodePhase::native_deleting_pods:
      // Behind 05-cilium.conflist: else the pods would keep the source CNI.
      if (delete_pods_behind_agent(ctx, step, node, s.cilium(), Gate::cni_ready, out)) {
        out.write(
            step.step, name,
            AnnotateNode{
                name, {{s.annotation(step.stage_key), std::string(stage::kPodsDeleted)}}, {}});
      }
      break;
    case NodePhase::native_pods_deleted:
      return check_pods(ctx, step, node, out);
    default:
      return NodeHold::in_flight;
  }
  return NodeHold::unavailable;
}

const NodeStep kNative{StepId::migrate,
                       annotation_names::kNative,
                       annotation_names::kNativePodsBefore,
                       NodePhase::native_pending,
                       node_done,
                       cordon_and_drain,
                       advance};

}  // namespace

const NodeStep& native_step() {
  return kNative;
}

NodePhase native_phase(const NodeState& node, const ClusterSnapshot& snap,
                       const MigrationSettings& s) {
  if (const auto* stage = s.find_annotation(node.annotations, annotation_names::kNative)) {
    if (*stage == stage::kDeleting)
      return NodePhase::native_deleting_pods;
    if (*stage == stage::kPodsDeleted) {
      if (has_label(s, node, s.labels.migrated))
        return NodePhase::native_labelled;
      // An administrator's cordon stays: such a node goes from here to
      // labelled directly.
      if (node.unschedulable)
        return NodePhase::native_pods_deleted;
      return NodePhase::native_uncordoned;
    }
    // "started" (or a value we do not know: start over, every action is
    // idempotent)
    return started_phase(node, s);
  }
  if (has_label(s, node, s.labels.migrated))
    return NodePhase::migrated;
  // The finish deletes the source CNI before it removes the nodes' labels.
  if (node_clean(s, node) && cleanup_started(snap, s))
    return NodePhase::cleaned;
  return NodePhase::native_pending;
}

}  // namespace cnimig::migrate::detail
