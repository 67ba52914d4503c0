#pragma once
// The default cluster a fresh cnimig-sim serves (src/sim/README.md, issue 4).

#include <cstddef>

#include "controller_context.hpp"

namespace cnimig::sim {

// Namespaces, `nodes` Ready nodes, the source CNI DaemonSet (canal shape:
// hostNetwork, tolerates every taint), kube-proxy, CoreDNS (2 replicas, PDB
// maxUnavailable 1) and, in `apps`, Deployments web/api/worker and StatefulSet
// db with PDBs, sized so the application pods average `pods_per_node` per node.
void populate_cluster(ControllerContext& ctx, std::size_t nodes, std::size_t pods_per_node);

boost::json::object make_node(const ClusterOptions& options, std::size_t index);

// What a node's kubelet reports when it registers: capacity, the Ready
// condition, its addresses and nodeInfo.
boost::json::object node_status(std::string_view name, std::string_view ip,
                                std::string_view kernel);

}  // namespace cnimig::sim
