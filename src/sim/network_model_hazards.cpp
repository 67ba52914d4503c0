// The network model's hooks for the CNI stack hazards (cni_hazards.hpp) and
// the source CNI's leftovers (node_leftovers.hpp).
#include "cni_hazards.hpp"
#include "json_fields.hpp"
#include "network_model.hpp"
#include "node_leftovers.hpp"
#include "source_cni.hpp"

namespace cnimig::sim {

namespace json = boost::json;
using namespace fields;

void NetworkModel::configmap_changed(const json::object* before, const json::object* after,
                                     Clock::time_point now) {
  // Data only: a status-less object, so any write may change it.
  const bool had_delegate_problem = !stack_->multus_delegate_problem().empty();
  // Cilium agents read it when they start (cilium_agent_config.hpp).
  const auto& any = after ? *after : *before;
  if (ns(any) == "kube-system" && name(any) == "cilium-config") {
    if (after)
      cilium_config_ = *after;
    else
      cilium_config_.reset();
  }
  if (!stack_->configmap_changed(before, after))
    return;
  // A mended multus delegate: the kubelets retry the sandboxes it failed.
  const bool delegate_mended = had_delegate_problem && stack_->multus_delegate_problem().empty();
  for (auto& [node_name, n] : nodes_) {
    if (!n.node)
      continue;
    refresh_node(n, now);
    if (delegate_mended && network_changed_)
      network_changed_(node_name);
  }
}

// A Ready Cilium agent whose effective cni-exclusive is on (taken at its
// start) renames every other config on its node to *.cilium_bak (and keeps
// doing so while it runs); an agent that starts Ready writes its own config
// again (add_pod_hazards).
RoleMask NetworkModel::renamed_configs(const NodeState& n, RoleMask active) const {
  RoleMask renamed = n.renamed & active & ~cilium_roles;
  for (const auto role : {AgentRole::cilium, AgentRole::cilium_migrated}) {
    const auto r = static_cast<std::size_t>(role);
    if (n.ready[r] > 0 && n.cilium[r].exclusive())
      renamed |= active & ~cilium_roles;
  }
  return renamed;
}

NodeHazards NetworkModel::hazards_of(const NodeState& n) const {
  std::optional<Cidr> source_block;
  if (n.node)
    source_block = parse_cidr(str(spec(*n.node), "podCIDR"));
  if (!source_block)
    source_block = parse_cidr(node_pod_cidr(options_, n.index));
  auto h = node_hazards(*stack_, n.active, n.first_found_calico > 0, source_block,
                        stack_->cilium_block(n.index));
  // Host routing carries traffic between the CNIs where pods have one
  // network each (the migration without multus). Where multus runs, the model
  // keeps judging pods by their interfaces: the multus strategy relies on the
  // second interface, and its oracle stays as strict as before (skipping its
  // roll step must still show).
  constexpr RoleMask multus_roles =
      role_bit(AgentRole::multus_source_primary) | role_bit(AgentRole::multus_cilium_primary);
  if (n.active & multus_roles)
    return h;
  for (const auto role : {AgentRole::cilium, AgentRole::cilium_migrated})
    if ((n.active & role_bit(role)) && n.cilium[static_cast<std::size_t>(role)].host_legacy_routing)
      h.host_routing = true;
  return h;
}

void NetworkModel::withdraw_pod_hazards(const PodState& old, NodeState& n) {
  if (old.node.empty())
    return;
  if (old.role == AgentRole::source)
    leftovers_->source_pod(old.node, -1, false);
  if (old.first_found_calico && n.first_found_calico > 0)
    --n.first_found_calico;
  if (old.cleanup && old.ready)
    leftovers_->cleanup_pod(old.node, -1);
}

void NetworkModel::add_pod_hazards(PodState& s, const json::object& pod, NodeState& n,
                                   bool was_ready) {
  if (const auto* ref = controller_ref(pod); ref && str(ref, "kind") == "DaemonSet")
    s.cleanup = s.ns == cleanup_daemonset_namespace && str(ref, "name") == cleanup_daemonset_name;
  if (s.role == AgentRole::source) {
    const auto calico = calico_node_of(spec(pod));
    s.first_found_calico = calico.present && calico.routes && calico.first_found;
    leftovers_->source_pod(s.node, +1, s.ready);
  }
  if (s.first_found_calico)
    ++n.first_found_calico;
  if (s.cleanup && s.ready)
    leftovers_->cleanup_pod(s.node, +1);
  // An agent that turns Ready writes its CNI config again; a Cilium agent's
  // settings (its file, cni-exclusive, host routing) are now the node's.
  if (s.role && s.ready && !was_ready) {
    n.renamed &= static_cast<RoleMask>(~role_bit(*s.role));
    if (s.cilium)
      n.cilium[static_cast<std::size_t>(*s.role)] = *s.cilium;
  }
}

std::optional<std::string> NetworkModel::address_on(const NodeState& n, Network net,
                                                    std::uint32_t host) const {
  std::optional<Cidr> block;
  if (net == Network::cilium)
    block = stack_->cilium_block(n.index);
  else if (n.node)
    block = parse_cidr(str(spec(*n.node), "podCIDR"));
  if (!block)
    return std::nullopt;
  return address_in(*block, host);
}

NodeHazards NetworkModel::hazards(std::string_view node) const {
  const auto* n = find_node(node);
  return n ? tracker_.node_hazards(n->index) : NodeHazards{};
}

std::vector<std::string> NetworkModel::leftovers(std::string_view node) const {
  return leftovers_->leftovers(std::string(node), options_.source_cni_config,
                               stack_->source_interfaces());
}

bool NetworkModel::agent_ready_blocked(const json::object& pod) const {
  auto it = pods_.find(key(pod));
  if (it == pods_.end() || !it->second.first_found_calico)
    return false;
  const auto* n = find_node(it->second.node);
  return n && (n->active & cilium_roles);
}

std::size_t NetworkModel::first_found_calico_pods(std::string_view node) const {
  const auto* n = find_node(node);
  return n ? n->first_found_calico : 0;
}

void NetworkModel::add_hazard_report(json::object& r) const {
  std::size_t leftovers = 0, renamed = 0, broken = 0, overlap = 0, calico_lost = 0;
  std::size_t cilium_config = 0, host_routing = 0;
  for (const auto& [name, n] : nodes_) {
    if (!n.node)
      continue;
    if (leftovers_->has_leftovers(name))
      ++leftovers;
    if (n.renamed)
      ++renamed;
    const auto h = tracker_.node_hazards(n.index);
    if (h.cross_broken)
      ++broken;
    if (h.overlap)
      ++overlap;
    if (h.host_routing)
      ++host_routing;
    // The node's Cilium agent writes a CNI config (not with custom-cni-conf).
    const auto files = role_files(n);
    for (const auto role : {AgentRole::cilium, AgentRole::cilium_migrated})
      if ((n.active & role_bit(role)) && !files[static_cast<std::size_t>(role)].empty()) {
        ++cilium_config;
        break;
      }
    if (n.first_found_calico > 0 && (n.active & cilium_roles))
      ++calico_lost;
  }
  r["nodes_with_leftovers"] = leftovers;
  auto stack = stack_->report();
  stack["nodes_configs_renamed"] = renamed;
  stack["nodes_cross_node_broken"] = broken;
  stack["nodes_in_pod_cidr_overlap"] = overlap;
  stack["nodes_calico_node_ip_lost"] = calico_lost;
  stack["nodes_cilium_cni_config"] = cilium_config;
  stack["nodes_host_legacy_routing"] = host_routing;
  r["cni_stack"] = std::move(stack);
}

}  // namespace cnimig::sim
