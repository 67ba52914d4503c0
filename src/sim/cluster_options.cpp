#include "cnimig/sim/cluster_options.hpp"

namespace cnimig::sim {

std::map<std::string, AgentRole, std::less<>> default_agent_roles(const ClusterOptions& options) {
  return {
      {options.source_cni_namespace + "/" + options.source_cni_daemonset, AgentRole::source},
      {"cilium", AgentRole::cilium},
      {"cilium-migrated", AgentRole::cilium_migrated},
      {"kube-multus-calico", AgentRole::multus_source_primary},
      {"kube-multus-cilium", AgentRole::multus_cilium_primary},
  };
}

const AgentRole* find_agent_role(const std::map<std::string, AgentRole, std::less<>>& agents,
                                 std::string_view ns, std::string_view name) {
  std::string full(ns);
  full += '/';
  full += name;
  if (auto it = agents.find(full); it != agents.end())
    return &it->second;
  if (auto it = agents.find(name); it != agents.end())
    return &it->second;
  return nullptr;
}

std::map<std::string, std::string, std::less<>> cluster_faults_from(
    const std::map<std::string, std::string>& extra) {
  std::map<std::string, std::string, std::less<>> out;
  for (const auto& [k, v] : extra) {
    if (k == "node-never-ready")
      out["never-ready-node"] = v;
    else if (k == "pdb-blocking")
      out["blocking-pdb"] = v;
    else
      out[k] = v;
  }
  return out;
}

const std::string& ClusterOptions::kernel_version_of(std::string_view node) const {
  const auto it = node_kernel_versions.find(node);
  return it != node_kernel_versions.end() ? it->second : kernel_version;
}

std::chrono::nanoseconds scaled(const ClusterOptions& options, std::chrono::milliseconds delay) {
  const double ns =
      static_cast<double>(std::chrono::nanoseconds(delay).count()) * options.time_scale;
  return std::chrono::nanoseconds(static_cast<std::int64_t>(ns < 0 ? 0 : ns));
}

}  // namespace cnimig::sim
