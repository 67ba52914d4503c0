#pragma once
// Which interfaces a pod gets when its sandbox is created: the kubelet uses the
// lexically first CNI config file in /etc/cni/net.d (ocicni sorts the directory
// listing), and each file belongs to an agent role. Pure functions.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "cnimig/sim/cluster_options.hpp"

namespace cnimig::sim {

enum class Network : std::uint8_t { source = 0, cilium = 1 };
inline constexpr std::size_t network_count = 2;
using NetworkMask = std::uint8_t;
constexpr NetworkMask network_bit(Network n) {
  return static_cast<NetworkMask>(1u << static_cast<unsigned>(n));
}
std::string_view to_string(Network network) noexcept;
std::optional<Network> parse_network(std::string_view text);

using RoleMask = std::uint8_t;
constexpr RoleMask role_bit(AgentRole r) {
  return static_cast<RoleMask>(1u << static_cast<unsigned>(r));
}

// Networks whose dataplane the active roles provide.
NetworkMask networks_of(RoleMask roles);

// The file an agent role writes.
std::string cni_config_file(AgentRole role, std::string_view source_config);

struct PodInterfaces {
  Network primary = Network::source;  // the pod IP's network
  NetworkMask networks = 0;           // every network the pod has an interface on
  std::string config_file;            // the config the kubelet used
};

struct SandboxResult {
  std::optional<PodInterfaces> interfaces;  // empty: sandbox creation failed, retry later
  std::string message;                      // why it failed (the kubelet's event text)
};

// `roles` = agent roles whose config file is present on the node; `networks_up` =
// networks whose agent runs there. A multus config needs both delegates working:
// multus fails the whole ADD when a delegate fails, so the pod does not start.
SandboxResult create_sandbox(RoleMask roles, NetworkMask networks_up,
                             std::string_view source_config);

// A reaches B: A has an interface on the network of B's IP, and that network's
// agent runs on both nodes.
constexpr bool reaches(NetworkMask a_interfaces, NetworkMask a_node_up, Network b_ip,
                       NetworkMask b_node_up) {
  const auto bit = network_bit(b_ip);
  return (a_interfaces & bit) && (a_node_up & bit) && (b_node_up & bit);
}

}  // namespace cnimig::sim
