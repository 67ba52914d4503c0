// The network model's answer to `knet-stress status`. A connectivity check
// execs every knet-stress pod, and each asks about every other: judged pod by
// pod that is quadratic in the cluster (a 5,000-node check took minutes). A
// peer's reachability depends only on its node (networks up, hazards, same
// node as the caller or not) and its IP's network, so the Ready knet-stress
// pods are indexed by namespace and node and each peer node is judged once;
// only the unreachable pods are visited one by one, to list them.
#include <algorithm>

#include "cnimig/wire/object_key.hpp"

#include "json_fields.hpp"
#include "network_model.hpp"

namespace cnimig::sim {

namespace json = boost::json;
using namespace fields;

bool NetworkModel::knet_peer(const PodState& p) {
  return p.ready && p.knet_owner.starts_with("knet-stress");
}

void NetworkModel::index_knet_peer(const std::string& key, const PodState& p) {
  if (!knet_peer(p))
    return;
  const auto kind = p.host_network                             ? KnetKind::host
                    : !p.interfaces                            ? KnetKind::none
                    : p.interfaces->primary == Network::source ? KnetKind::source
                                                               : KnetKind::cilium;
  auto& ns = knet_[p.ns];
  auto [slot, added] = ns.slot.try_emplace(p.node, ns.nodes.size());
  if (added) {
    const auto* n = p.node.empty() ? nullptr : find_node(p.node);
    ns.nodes.push_back(
        KnetNode{p.node, n ? std::optional<std::size_t>(n->index) : std::nullopt, {}, {}});
  }
  auto& there = ns.nodes[slot->second];
  ++there.count[static_cast<std::size_t>(kind)];
  there.pods.push_back(KnetPeer{
      key, std::string(wire::split_object_key(key).name) + " (" + p.ip + " on " + p.node + ")",
      kind});
  ++ns.pods;
}

void NetworkModel::unindex_knet_peer(const std::string& key, const PodState& p) {
  if (!knet_peer(p))
    return;
  auto ns = knet_.find(p.ns);
  if (ns == knet_.end())
    return;
  auto slot = ns->second.slot.find(p.node);
  if (slot == ns->second.slot.end())
    return;
  auto& nodes = ns->second.nodes;
  auto& there = nodes[slot->second];
  auto& pods = there.pods;
  auto peer =
      std::find_if(pods.begin(), pods.end(), [&](const KnetPeer& x) { return x.key == key; });
  if (peer == pods.end())
    return;
  --there.count[static_cast<std::size_t>(peer->kind)];
  *peer = std::move(pods.back());
  pods.pop_back();
  if (pods.empty()) {
    const auto at = slot->second;
    ns->second.slot.erase(slot);
    if (at + 1 != nodes.size()) {
      nodes[at] = std::move(nodes.back());
      ns->second.slot[nodes[at].name] = at;
    }
    nodes.pop_back();
  }
  if (--ns->second.pods == 0)
    knet_.erase(ns);
}

std::size_t NetworkModel::knet_stress_pods(std::string_view ns) const {
  auto it = knet_.find(std::string(ns));
  return it == knet_.end() ? 0 : it->second.pods;
}

ExecResult NetworkModel::knet_stress_status(const json::object& pod) const {
  ExecResult r;
  const auto self = key(pod);
  auto it = pods_.find(self);
  if (it == pods_.end() || !it->second.interfaces) {
    r.exit_code = 1;
    r.stderr_text = "knet-stress: not running (no network)\n";
    return r;
  }
  const auto& a = it->second;
  // As pod_reaches judges it.
  const NetworkMask a_ifaces = a.host_network
                                   ? network_bit(Network::source) | network_bit(Network::cilium)
                                   : a.interfaces->networks;
  const auto a_up = networks_up(a.node);
  const auto a_hazards = hazards(a.node);
  std::vector<std::string> unreachable;
  std::size_t peers = 0;
  if (auto ns = knet_.find(a.ns); ns != knet_.end()) {
    peers = ns->second.pods - (knet_peer(a) ? 1 : 0);
    for (const auto& there : ns->second.nodes) {
      // The tracker holds what networks_up() and hazards() answer (refresh_node
      // keeps it so). A pod without a node: whatever find_node("") says.
      std::optional<std::size_t> index = there.index;
      if (!index)
        if (const auto* n = find_node(there.name))
          index = n->index;
      const NetworkMask up = index ? tracker_.node_networks(*index) : 0;
      const auto h = index ? tracker_.node_hazards(*index) : NodeHazards{};
      const bool same_node = there.name == a.node;
      // By KnetKind: hostNetwork pods use the node network, always reachable
      // in the model; a pod without interfaces never is.
      const std::array<bool, 4> reached{
          true, false, reaches(a_ifaces, a_up, a_hazards, Network::source, up, h, same_node),
          reaches(a_ifaces, a_up, a_hazards, Network::cilium, up, h, same_node)};
      bool any = false;
      for (std::size_t k = 0; k < reached.size(); ++k)
        any = any || (!reached[k] && there.count[k] > 0);
      if (!any)
        continue;
      for (const auto& p : there.pods)
        if (!reached[static_cast<std::size_t>(p.kind)] && p.key != self)
          unreachable.push_back(p.text);
    }
  }
  return knet_stress_answer(std::move(unreachable), peers);
}

ExecResult knet_stress_answer(std::vector<std::string> unreachable, std::size_t peers) {
  ExecResult r;
  std::sort(unreachable.begin(), unreachable.end());
  if (unreachable.empty()) {
    r.stdout_text = "OK: reached " + std::to_string(peers) + " peers\n";
    return r;
  }
  r.exit_code = 1;
  r.stdout_text = "FAIL: " + std::to_string(unreachable.size()) + " of " + std::to_string(peers) +
                  " peers unreachable\n";
  for (const auto& u : unreachable)
    r.stderr_text += "unreachable: " + u + "\n";
  return r;
}

}  // namespace cnimig::sim
