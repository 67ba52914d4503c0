#pragma once
// The hazards of running the source CNI and Cilium side by side, as the
// cluster's objects set them up (src/sim/README.md, "CNI stack hazards"). The
// components read their settings where the real ones do: Cilium from the
// cilium-config ConfigMap, flannel and Canal from net-conf.json in their
// ConfigMap, calico-node from its container's env. Nothing here comes from a
// simulator flag.
//
// - cni-exclusive: a Ready Cilium agent renames the node's other CNI configs to
//   *.cilium_bak (NetworkModel: the files leave the kubelet's choice).
// - tunnel clash: both overlays on one UDP port break cross-node traffic on
//   both networks from and to a node that runs both agents.
// - pod CIDR overlap: see reaches() in cni_config_selection.hpp.
// - multus delegating the source network to another CNI's config: every
//   pod ADD through 00-multus.conflist fails (multus_delegates.hpp).
// - Calico's first-found autodetection: once Cilium runs on the node (its
//   cilium_host interface), calico-node picks that address, turns NotReady
//   and Calico's cross-node routes to the node break.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/ip/network_v4.hpp>
#include <boost/json/object.hpp>

#include "cni_config_selection.hpp"

namespace cnimig::sim {

using Cidr = boost::asio::ip::network_v4;

std::optional<Cidr> parse_cidr(std::string_view text);
bool cidrs_overlap(const Cidr& a, const Cidr& b);
// The index-th block of `prefix` bits inside `pool` (wrapping past the last).
Cidr block_of(const Cidr& pool, unsigned prefix, std::size_t index);
// The host-th address of `block` ("10.217.3.7"), wrapping inside the block.
std::string address_in(const Cidr& block, std::uint32_t host);

// Cilium's settings in cilium-config (kube-system).
struct CiliumSettings {
  // cni-exclusive: Helm's cni.exclusive and Cilium's CNI installer default to
  // true, so an absent key counts as exclusive.
  bool cni_exclusive = true;
  bool tunnel = true;  // routing-mode: tunnel (Cilium's default) rather than native
  std::string tunnel_protocol = "vxlan";  // Cilium's default tunnel protocol
  // tunnel-port; 0: the protocol's default (VXLAN 8472, Geneve 6081: Cilium's
  // "tunnel-port" documentation).
  unsigned tunnel_port = 0;
  std::vector<Cidr> pools;  // cluster-pool-ipv4-cidr, space-separated
  unsigned mask_size = 24;  // cluster-pool-ipv4-mask-size
  unsigned udp_port() const;
};
CiliumSettings cilium_settings(const boost::json::object& config_map);

// flannel's net-conf.json (kube-flannel-cfg; Canal's canal-config).
struct NetConf {
  std::optional<Cidr> network;  // Network
  // The overlay's UDP port: Backend.Type vxlan (flannel's default backend)
  // uses Backend.Port, else the Linux kernel's VXLAN port 8472 (flannel's
  // Documentation/backends.md); udp 8285; host-gw and others none.
  unsigned udp_port = 0;
};
NetConf parse_net_conf(std::string_view text);

// calico-node in a pod spec (a DaemonSet's template or a pod).
struct CalicoNode {
  bool present = false;
  // Calico routes (CALICO_NETWORKING_BACKEND other than "none"; Canal sets
  // none: flannel routes there).
  bool routes = false;
  // IP_AUTODETECTION_METHOD unset or first-found (Calico's default).
  bool first_found = false;
  std::optional<Cidr> pool;  // CALICO_IPV4POOL_CIDR
  // CALICO_IPV4POOL_VXLAN Always or CrossSubnet: VXLAN on FELIX_VXLANPORT, by
  // default 4789 (Calico's FelixConfiguration vxlanPort).
  unsigned udp_port = 0;
};
CalicoNode calico_node_of(const boost::json::object* pod_spec);

// What the cluster's objects say about the two CNIs, fed by the network model.
class CniStack {
 public:
  // `source_cni`: ClusterOptions::source_cni, what multus's source delegate
  // must be (multus_delegates.hpp).
  explicit CniStack(std::string source_cni = "canal") : source_cni_(std::move(source_cni)) {}

  // Returns whether anything the hazards depend on changed.
  bool configmap_changed(const boost::json::object* before, const boost::json::object* after);
  bool source_daemonset_changed(const boost::json::object* after);

  bool cilium_configured() const { return cilium_.has_value(); }
  bool cni_exclusive() const { return cilium_ && cilium_->cni_exclusive; }
  // Why multus's source delegate cannot set up pods here (the sandbox
  // error), or "" (also while no multus-daemon-config exists).
  const std::string& multus_delegate_problem() const { return multus_problem_; }
  // The UDP port both overlays use, or 0.
  unsigned clash_port() const;
  std::vector<Cidr> source_pools() const;
  const std::vector<Cidr>& cilium_pools() const;
  // The node's Cilium block: the index-th block of cilium-config's pool.
  std::optional<Cidr> cilium_block(std::size_t node_index) const;
  // Whether `block` (a node's block on `network`) lies in both CNIs' pod CIDRs.
  bool in_overlap(const Cidr& block) const;
  // The interfaces the source's dataplane creates on a node (tunl0,
  // vxlan.calico, flannel.1, cni0).
  std::vector<std::string> source_interfaces() const;

  boost::json::object report() const;

 private:
  std::string source_cni_;
  std::string multus_problem_;
  std::uint64_t multus_mismatch_writes_ = 0;  // writes that left a wrong delegate
  std::optional<CiliumSettings> cilium_;
  std::optional<NetConf> flannel_;  // kube-flannel-cfg (either namespace)
  std::optional<NetConf> canal_;    // canal-config
  CalicoNode calico_;               // in the source DaemonSet's template
  bool flannel_container_ = false;  // kube-flannel in the source DaemonSet's template
};

// The node's hazards from its active roles and the stack. `first_found_calico`:
// a calico-node that routes with first-found autodetection runs on the node.
NodeHazards node_hazards(const CniStack& stack, RoleMask active, bool first_found_calico,
                         const std::optional<Cidr>& source_block,
                         const std::optional<Cidr>& cilium_block);

}  // namespace cnimig::sim
