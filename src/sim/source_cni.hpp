#pragma once
// The source CNI a fresh simulator runs (ClusterOptions::source_cni), shaped
// as each project's manifest has it:
// - canal: DaemonSet kube-system/canal (calico-node with
//   CALICO_NETWORKING_BACKEND=none beside kube-flannel), ConfigMap
//   kube-system/canal-config (net-conf.json), 10-canal.conflist;
// - calico: DaemonSet kube-system/calico-node (Calico's calico.yaml env: BGP
//   with IP-in-IP, CALICO_IPV4POOL_CIDR, IP_AUTODETECTION_METHOD), ConfigMap
//   kube-system/calico-config, 10-calico.conflist;
// - flannel: Namespace kube-flannel, ConfigMap kube-flannel-cfg (net-conf.json,
//   VXLAN), DaemonSet kube-flannel-ds tolerating NoSchedule taints only, as
//   kube-flannel.yml does, 10-flannel.conflist.

#include "controller_context.hpp"

namespace cnimig::sim {

// Creates the source CNI's namespace, ConfigMaps and DaemonSet.
void create_source_cni(ControllerContext& ctx);

}  // namespace cnimig::sim
