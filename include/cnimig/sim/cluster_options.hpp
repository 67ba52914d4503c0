#pragma once
// How the simulated cluster behaves: delays (scaled by --time-scale), the
// source CNI's identity, which DaemonSets are CNI agents, and cluster faults.

#include <chrono>
#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace cnimig::sim {

// What a CNI agent DaemonSet does on the nodes it runs on (src/sim/README.md).
enum class AgentRole : std::uint8_t {
  source = 0,                 // the source CNI (canal/calico/flannel): its network + 10-*.conflist
  cilium = 1,                 // `cilium`: Cilium network + 99-cilium.conf (present, unused)
  cilium_migrated = 2,        // `cilium-migrated`: Cilium network + 00-cilium.conf
  multus_source_primary = 3,  // `kube-multus-calico`: 00-multus.conflist, source first
  multus_cilium_primary = 4,  // `kube-multus-cilium`: 00-multus.conflist, Cilium first
};
inline constexpr std::size_t agent_role_count = 5;
std::string_view to_string(AgentRole role) noexcept;

struct ClusterOptions {
  // Multiplies every delay below (0.1 runs ten times faster).
  double time_scale = 1.0;
  std::chrono::milliseconds pod_start_delay{1000};    // scheduled -> sandbox + Running
  std::chrono::milliseconds pod_ready_delay{2000};    // Running -> Ready
  std::chrono::milliseconds termination_delay{1000};  // deletionTimestamp -> gone
  std::chrono::milliseconds agent_ready_delay{3000};  // CNI agent Running -> Ready

  // The source CNI (config, not code: src/migrate/README.md).
  std::string source_cni_namespace = "kube-system";
  std::string source_cni_daemonset = "canal";
  std::string source_cni_config = "10-canal.conflist";
  // Which source CNI the bootstrap installs (src/sim/source_cni.hpp): "canal",
  // "calico" or "flannel"; set_source_cni() sets it with the three names above.
  std::string source_cni = "canal";
  // The source's pod CIDR (net-conf.json Network, CALICO_IPV4POOL_CIDR): node
  // i's spec.podCIDR is its i-th /24.
  std::string source_pod_cidr = "10.64.0.0/10";
  // calico-node's IP_AUTODETECTION_METHOD at bootstrap (Calico only). The
  // default pins it as config/calico.yaml asks; "" leaves it unset, which is
  // Calico's first-found: a hazardous cluster for tests.
  std::string calico_autodetection = "kubernetes-internal-ip";
  // calico-node's overlay (Calico only): 0 keeps calico.yaml's IP-in-IP;
  // a port runs the default pool on VXLAN there (CALICO_IPV4POOL_VXLAN
  // Always, CALICO_IPV4POOL_IPIP Never, FELIX_VXLANPORT the port).
  unsigned calico_vxlan_port = 0;
  // status.nodeInfo.kernelVersion: every node's, or one node's by name.
  std::string kernel_version = "6.1.0-28-amd64";
  std::map<std::string, std::string, std::less<>> node_kernel_versions;
  const std::string& kernel_version_of(std::string_view node) const;

  // DaemonSet "namespace/name" or bare "name" -> role. Empty: default_agent_roles().
  std::map<std::string, AgentRole, std::less<>> agents;

  // Cluster faults: "never-ready-node" -> node name, "blocking-pdb" -> "ns/name".
  std::map<std::string, std::string, std::less<>> faults;

  std::string node_name_prefix = "node-";
  // Only the kubelet model runs (`cnimig-sim --attach`): a real control
  // plane's scheduler and controllers do the rest, and nodes are registered
  // by the attached simulator, not by the kubelet model.
  bool kubelet_only = false;
};

// source DS name, cilium, cilium-migrated, kube-multus-calico, kube-multus-cilium.
std::map<std::string, AgentRole, std::less<>> default_agent_roles(const ClusterOptions& options);

// The role of a DaemonSet, consulting "ns/name" first, then "name".
const AgentRole* find_agent_role(const std::map<std::string, AgentRole, std::less<>>& agents,
                                 std::string_view ns, std::string_view name);

// FaultSpec::extra as ClusterOptions::faults, accepting both word orders
// (node-never-ready = never-ready-node, pdb-blocking = blocking-pdb).
std::map<std::string, std::string, std::less<>> cluster_faults_from(
    const std::map<std::string, std::string>& extra);

// Sets source_cni and the source's DaemonSet, namespace and CNI config file as
// config/config.yaml (canal), config/calico.yaml and config/flannel.yaml name
// them; false for another name.
bool set_source_cni(ClusterOptions& options, std::string_view name);

// Node `index`'s spec.podCIDR: the index-th /24 of source_pod_cidr.
std::string node_pod_cidr(const ClusterOptions& options, std::size_t index);

std::chrono::nanoseconds scaled(const ClusterOptions& options, std::chrono::milliseconds delay);

}  // namespace cnimig::sim
