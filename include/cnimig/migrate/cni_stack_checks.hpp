#pragma once
// Preflight checks of the CNI stack of today: what makes Cilium beside the
// source CNI break the migration, judged before the first write. Pure
// functions over facts the driver reads from the cluster and the manifests
// (src/migrate/README.md, "Preflight"); each returns the problems it finds,
// worded to name the object, the value and the fix.

#include <optional>
#include <string>
#include <vector>

#include "cnimig/migrate/cilium_requirements.hpp"

namespace cnimig::migrate {

// A CIDR and where it was read ("Calico IPPool default-ipv4-ippool spec.cidr").
struct OwnedCidr {
  std::string owner;
  std::string cidr;
};

// An overlay: protocol ("vxlan", "geneve", "ipip") and UDP port (0 for IP-in-IP).
struct Overlay {
  std::string owner;
  std::string protocol;
  unsigned port = 0;
  // Calico's VXLAN: its port is Felix's vxlanPort (CniStackFacts::
  // calico_vxlan_port), not `port`.
  bool calico_vxlan = false;
};

// A port and where it was set ("DaemonSet kube-system/calico-node FELIX_VXLANPORT").
struct PortSetting {
  std::string owner;
  unsigned port = 0;
};

struct NodeKernel {
  std::string node;
  std::string kernel_version;  // status.nodeInfo.kernelVersion
};

struct CniStackFacts {
  // Cilium, from its manifest bundle (cilium-config).
  std::vector<OwnedCidr> cilium_cidrs;  // cluster-pool-ipv4-cidr
  std::optional<Overlay> cilium_overlay;
  bool cilium_cni_exclusive = false;
  bool multus = true;  // the migration runs multus beside Cilium
  // The source CNI and the cluster.
  std::vector<OwnedCidr> source_cidrs;   // IPPools, flannel's net-conf, nodes' spec.podCIDR
  std::vector<OwnedCidr> service_cidrs;  // where it can be learnt
  std::vector<Overlay> source_overlays;
  // Felix's vxlanPort, where it is set: calico-node's FELIX_VXLANPORT wins
  // over FelixConfiguration `default`'s spec.vxlanPort (Felix reads its
  // environment first); with neither, Calico's VXLAN uses 4789.
  std::optional<PortSetting> felix_vxlan_port_env;
  std::optional<PortSetting> felix_vxlan_port_config;
  // calico-node's IP_AUTODETECTION_METHOD; empty when unset (first-found).
  // Not set at all when the source runs no calico-node (Flannel).
  std::optional<std::string> calico_autodetection;
  std::string calico_daemon_set;         // "kube-system/calico-node", for the message
  std::optional<unsigned> server_minor;  // the API server's Kubernetes 1.<minor>
  std::string server_version;            // as /version reported it
  std::vector<NodeKernel> kernels;
};

struct PreflightProblem {
  std::string check;  // pod-cidr, tunnel, cni-exclusive, calico-autodetection, kubernetes, kernel
  std::string message;
  // A refusal (preflight.failed, exit 2). Only a Kubernetes newer than the
  // pinned Cilium's tested range is a warning: Cilium leaves newer releases
  // to Kubernetes' compatibility, but gives older ones no support.
  bool fatal = true;
};

std::vector<PreflightProblem> check_pod_cidrs(const CniStackFacts& facts);
std::vector<PreflightProblem> check_tunnels(const CniStackFacts& facts);
// The UDP port Calico's VXLAN uses and where it comes from.
PortSetting calico_vxlan_port(const CniStackFacts& facts);
std::vector<PreflightProblem> check_cni_exclusive(const CniStackFacts& facts);
std::vector<PreflightProblem> check_calico_autodetection(const CniStackFacts& facts);
std::vector<PreflightProblem> check_kubernetes_version(const CniStackFacts& facts,
                                                       const CiliumRequirements& cilium);
std::vector<PreflightProblem> check_kernel_versions(const CniStackFacts& facts,
                                                    const CiliumRequirements& cilium);

// Every check above, in that order.
std::vector<PreflightProblem> check_cni_stack(const CniStackFacts& facts,
                                              const CiliumRequirements& cilium);

// "5.15.0-91-generic" -> {5, 15}; nullopt when it does not start with N.M.
std::optional<std::pair<unsigned, unsigned>> kernel_release(const std::string& version);

}  // namespace cnimig::migrate
