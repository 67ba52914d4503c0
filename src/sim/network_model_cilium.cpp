// The network model's Cilium agents: each takes its effective configuration
// when its pod starts (cilium_agent_config.hpp) and keeps it while it runs;
// the node's config files follow the agent that last turned Ready.
#include "json_fields.hpp"
#include "network_model.hpp"

namespace cnimig::sim {

namespace json = boost::json;
using namespace fields;

void NetworkModel::take_cilium_config(PodState& s, const PodState* old, const json::object& pod,
                                      const NodeState& n) const {
  if (!s.role || !(role_bit(*s.role) & cilium_roles))
    return;
  if (old && old->cilium) {
    s.cilium = old->cilium;
    return;
  }
  // The kubelet model marks a started pod Running (its containers run): the
  // agent has read its configuration by then.
  if (str(status(pod), "phase") != "Running" && !s.ready)
    return;
  s.cilium = effective_cilium_config(cilium_config_ ? &*cilium_config_ : nullptr, node_configs_,
                                     n.node.get(), spec(pod));
}

RoleFiles NetworkModel::role_files(const NodeState& n) const {
  auto files = default_role_files(options_.source_cni_config);
  for (const auto role : {AgentRole::cilium, AgentRole::cilium_migrated}) {
    const auto r = static_cast<std::size_t>(role);
    files[r] = n.cilium[r].cni_config_file(files[r]);
  }
  return files;
}

void NetworkModel::node_config_changed(const json::object* before, const json::object* after) {
  const auto& any = after ? *after : *before;
  if (ns(any) != "kube-system")
    return;
  if (after)
    node_configs_[std::string(name(any))] = *after;
  else
    node_configs_.erase(std::string(name(any)));
}

std::optional<CiliumAgentConfig> NetworkModel::cilium_agent_config(std::string_view pod_key) const {
  auto it = pods_.find(std::string(pod_key));
  if (it == pods_.end())
    return std::nullopt;
  return it->second.cilium;
}

}  // namespace cnimig::sim
