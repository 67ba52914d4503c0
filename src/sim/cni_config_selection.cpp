#include "cni_config_selection.hpp"

#include <array>

namespace cnimig::sim {

std::string_view to_string(AgentRole role) noexcept {
  switch (role) {
    case AgentRole::source:
      return "source";
    case AgentRole::cilium:
      return "cilium";
    case AgentRole::cilium_migrated:
      return "cilium-migrated";
    case AgentRole::multus_source_primary:
      return "multus-source-primary";
    case AgentRole::multus_cilium_primary:
      return "multus-cilium-primary";
  }
  return "unknown";
}

std::string_view to_string(Network network) noexcept {
  return network == Network::source ? "source" : "cilium";
}

std::optional<Network> parse_network(std::string_view text) {
  if (text == "source")
    return Network::source;
  if (text == "cilium")
    return Network::cilium;
  return std::nullopt;
}

NetworkMask networks_of(RoleMask roles) {
  NetworkMask m = 0;
  if (roles & role_bit(AgentRole::source))
    m |= network_bit(Network::source);
  if (roles & (role_bit(AgentRole::cilium) | role_bit(AgentRole::cilium_migrated)))
    m |= network_bit(Network::cilium);
  return m;
}

std::string cni_config_file(AgentRole role, std::string_view source_config) {
  switch (role) {
    case AgentRole::source:
      return std::string(source_config);
    case AgentRole::cilium:
      return "99-cilium.conf";
    case AgentRole::cilium_migrated:
      return "00-cilium.conf";
    case AgentRole::multus_source_primary:
    case AgentRole::multus_cilium_primary:
      return "00-multus.conflist";
  }
  return {};
}

RoleFiles default_role_files(std::string_view source_config) {
  RoleFiles files;
  for (std::size_t r = 0; r < agent_role_count; ++r)
    files[r] = cni_config_file(static_cast<AgentRole>(r), source_config);
  return files;
}

SandboxResult create_sandbox(RoleMask roles, NetworkMask networks_up,
                             std::string_view source_config) {
  return create_sandbox(roles, networks_up, default_role_files(source_config), {});
}

SandboxResult create_sandbox(RoleMask roles, NetworkMask networks_up,
                             std::string_view source_config, std::string_view multus_problem) {
  return create_sandbox(roles, networks_up, default_role_files(source_config), multus_problem);
}

SandboxResult create_sandbox(RoleMask roles, NetworkMask networks_up, const RoleFiles& files,
                             std::string_view multus_problem) {
  // Find the lexically first file present. Both multus roles write the same
  // file; if both run (a transient the migrator never creates), the Cilium-first
  // one is taken, as the later writer.
  const AgentRole* best = nullptr;
  std::string best_file;
  static constexpr std::array<AgentRole, agent_role_count> order{
      AgentRole::cilium_migrated, AgentRole::multus_cilium_primary,
      AgentRole::multus_source_primary, AgentRole::source, AgentRole::cilium};
  for (const auto& role : order) {
    const auto& file = files[static_cast<std::size_t>(role)];
    if (!(roles & role_bit(role)) || file.empty())
      continue;
    if (!best || file < best_file) {
      best = &role;
      best_file = file;
    }
  }
  SandboxResult r;
  if (!best) {
    r.message = "network plugin is not ready: cni config uninitialized";
    return r;
  }
  PodInterfaces pi;
  pi.config_file = best_file;
  switch (*best) {
    case AgentRole::source:
      pi.primary = Network::source;
      pi.networks = network_bit(Network::source);
      break;
    case AgentRole::cilium:
    case AgentRole::cilium_migrated:
      pi.primary = Network::cilium;
      pi.networks = network_bit(Network::cilium);
      break;
    case AgentRole::multus_source_primary:
      pi.primary = Network::source;
      pi.networks = network_bit(Network::source) | network_bit(Network::cilium);
      break;
    case AgentRole::multus_cilium_primary:
      pi.primary = Network::cilium;
      pi.networks = network_bit(Network::source) | network_bit(Network::cilium);
      break;
  }
  const bool multus =
      *best == AgentRole::multus_source_primary || *best == AgentRole::multus_cilium_primary;
  if (multus && !multus_problem.empty()) {
    r.message = "failed to setup network for sandbox: " + std::string(multus_problem);
    return r;
  }
  if ((pi.networks & networks_up) != pi.networks) {
    r.message = "failed to setup network for sandbox: " + best_file + ": delegate " +
                std::string(to_string((pi.networks & ~networks_up) & network_bit(Network::source)
                                          ? Network::source
                                          : Network::cilium)) +
                " is not ready";
    return r;
  }
  r.interfaces = std::move(pi);
  return r;
}

}  // namespace cnimig::sim
