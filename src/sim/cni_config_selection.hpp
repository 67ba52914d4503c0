#pragma once
// Which interfaces a pod gets when its sandbox is created: the kubelet uses the
// lexically first CNI config file in /etc/cni/net.d (ocicni sorts the directory
// listing), and each file belongs to an agent role. Pure functions.

#include <array>
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
inline constexpr RoleMask cilium_roles =
    role_bit(AgentRole::cilium) | role_bit(AgentRole::cilium_migrated);

// Networks whose dataplane the active roles provide.
NetworkMask networks_of(RoleMask roles);

// The file an agent role writes by default (its DaemonSet's; a Cilium agent's
// effective configuration may name another or none: cilium_agent_config.hpp).
std::string cni_config_file(AgentRole role, std::string_view source_config);

// The CNI config file each role present on a node writes ("": none).
using RoleFiles = std::array<std::string, agent_role_count>;
RoleFiles default_role_files(std::string_view source_config);

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
// multus fails the whole ADD when a delegate fails, so the pod does not start;
// `multus_problem` (non-empty: multus's source delegate is another CNI's
// config, multus_delegates.hpp) fails it too.
SandboxResult create_sandbox(RoleMask roles, NetworkMask networks_up,
                             std::string_view source_config, std::string_view multus_problem);
SandboxResult create_sandbox(RoleMask roles, NetworkMask networks_up,
                             std::string_view source_config);
// The same with the file each role writes: a role whose file is "" (a Cilium
// agent with custom-cni-conf) gives the kubelet nothing to pick.
SandboxResult create_sandbox(RoleMask roles, NetworkMask networks_up, const RoleFiles& files,
                             std::string_view multus_problem);

// A reaches B: A has an interface on the network of B's IP, and that network's
// agent runs on both nodes.
constexpr bool reaches(NetworkMask a_interfaces, NetworkMask a_node_up, Network b_ip,
                       NetworkMask b_node_up) {
  const auto bit = network_bit(b_ip);
  return (a_interfaces & bit) && (a_node_up & bit) && (b_node_up & bit);
}

// What two CNIs side by side do to a node's networks (src/sim/cni_hazards.hpp):
// `cross_broken`, the networks whose cross-node traffic from or to the node is
// lost (a tunnel port clash, Calico's node IP lost to cilium_host); `overlap`,
// the networks whose address block on the node lies in both CNIs' pod CIDRs.
// `host_routing` is no hazard but the node's one routing trait the rules need:
// its Cilium agent runs with enable-host-legacy-routing, so a packet for the
// other CNI's prefix goes through the host stack, which routes it over that
// CNI's overlay (Cilium's "Migrating a cluster to Cilium" relies on it).
struct NodeHazards {
  NetworkMask cross_broken = 0;
  NetworkMask overlap = 0;
  bool host_routing = false;
  bool operator==(const NodeHazards&) const = default;
};

// A reaches B through the hosts: A's only network is not the one of B's IP,
// both networks are up on both nodes and both nodes route through the host
// stack (the reply takes the same way back over A's network).
constexpr bool reaches_through_hosts(NetworkMask a_interfaces, NetworkMask a_node_up,
                                     NodeHazards a_node, Network b_ip, NetworkMask b_node_up,
                                     NodeHazards b_node) {
  constexpr NetworkMask both = network_bit(Network::source) | network_bit(Network::cilium);
  return a_interfaces != 0 && !(a_interfaces & network_bit(b_ip)) && a_node.host_routing &&
         b_node.host_routing && (a_node_up & both) == both && (b_node_up & both) == both;
}

// A reaches B with the hazards: as above (or through the hosts), and across
// nodes also
// - neither node has the network of B's IP broken across nodes (through the
//   hosts, the packet to B travels on that network's overlay too);
// - pod CIDR overlap: when A's or B's address on that network lies in the
//   overlap of the two CNIs' pod CIDRs and either node runs both networks (it
//   holds both CNIs' routes for the overlapping prefixes, so the route taken to
//   the address, or back from it, is not the one its network needs), the
//   packet is lost. A node with one CNI has one route for the prefix. Same-node
//   traffic never leaves the node's bridge or veths, so no hazard touches it.
constexpr bool reaches(NetworkMask a_interfaces, NetworkMask a_node_up, NodeHazards a_hazards,
                       Network b_ip, NetworkMask b_node_up, NodeHazards b_hazards, bool same_node) {
  if (!reaches(a_interfaces, a_node_up, b_ip, b_node_up) &&
      !reaches_through_hosts(a_interfaces, a_node_up, a_hazards, b_ip, b_node_up, b_hazards))
    return false;
  if (same_node)
    return true;
  const auto bit = network_bit(b_ip);
  if ((a_hazards.cross_broken | b_hazards.cross_broken) & bit)
    return false;
  constexpr NetworkMask both = network_bit(Network::source) | network_bit(Network::cilium);
  const bool two_cnis = (a_node_up & both) == both || (b_node_up & both) == both;
  return !(((a_hazards.overlap | b_hazards.overlap) & bit) && two_cnis);
}

}  // namespace cnimig::sim
