#pragma once
// Which CNI multus hands the source network to. multus's thick daemon reads
// its conflist (00-multus.conflist, from ConfigMap kube-system/
// multus-daemon-config) and calls each delegate's plugins; a delegate for a
// CNI that does not run on the node (Canal's config on a Calico or Flannel
// cluster) fails every pod's ADD there. Pure functions.

#include <string>
#include <string_view>

#include <boost/json/object.hpp>
#include <boost/json/value.hpp>

namespace cnimig::sim {

// The CNI a delegate conflist belongs to, by its first plugin as each CNI's
// manifest writes it: "canal" (calico with host-local IPAM), "calico"
// (calico-ipam), "flannel", "cilium" (cilium-cni), else the plugin's type.
std::string delegate_cni(const boost::json::value& delegate);

// "" when every multus conflist in the ConfigMap's data delegates the source
// network to `source_cni` ("canal", "calico", "flannel"); else the
// sandbox error the kubelet reports.
std::string multus_delegate_problem(std::string_view source_cni,
                                    const boost::json::object& config_map);

}  // namespace cnimig::sim
