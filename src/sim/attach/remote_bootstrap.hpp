#pragma once
// The plain simulator's starting cluster (cluster_bootstrap.cpp: namespaces,
// ServiceAccounts, the source CNI, kube-proxy, CoreDNS, the applications and
// their PodDisruptionBudgets) created on a real API server through the
// client: the same objects, made in a scratch store and sent in dependency
// order. Nodes are registered separately (NodeRegistration); pods come from
// the real controllers.

#include <cstddef>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include "cnimig/kube/client.hpp"
#include "cnimig/sim/cluster_options.hpp"

#include "../resource_type.hpp"

namespace cnimig::sim {

struct BootstrapObject {
  const ResourceType* type;
  boost::json::object object;  // as a client sends it: no uid, resourceVersion or status
};

// What to create, in order (namespaces first, then ServiceAccounts and
// ConfigMaps, then the workloads).
std::vector<BootstrapObject> bootstrap_objects(const ClusterOptions& options, std::size_t nodes,
                                               std::size_t pods_per_node);

// Creates them; an object that already exists (the namespaces the API server
// makes, a ServiceAccount `default`) is left as it is. Returns how many were created.
boost::asio::awaitable<Result<std::size_t>> create_bootstrap_objects(
    kube::Client& client, const std::vector<BootstrapObject>& objects);

}  // namespace cnimig::sim
