#pragma once
// What every in-simulator controller shares: the store, the options, the
// oracle, and the write helpers that keep Kubernetes' object shapes.

#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "cnimig/sim/cluster_options.hpp"

#include "json_fields.hpp"
#include "network_model.hpp"
#include "object_store.hpp"
#include "resource_type.hpp"

namespace cnimig::sim {

struct ControllerContext {
  ObjectStore& store;
  const ClusterOptions& options;
  NetworkModel& network;

  const ResourceType& pods = resource_type("", "pods");
  const ResourceType& nodes = resource_type("", "nodes");
  const ResourceType& namespaces = resource_type("", "namespaces");
  const ResourceType& daemonsets = resource_type("apps", "daemonsets");
  const ResourceType& deployments = resource_type("apps", "deployments");
  const ResourceType& replicasets = resource_type("apps", "replicasets");
  const ResourceType& statefulsets = resource_type("apps", "statefulsets");
  const ResourceType& pdbs = resource_type("policy", "poddisruptionbudgets");

  // Graceful deletion as the API server does it: set deletionTimestamp and the
  // grace period; the kubelet model removes the pod after its termination
  // delay. A pod never bound to a node is removed at once.
  void delete_pod(const boost::json::object& pod);
  // create(); a generateName collision (409 AlreadyExists, which the real API
  // server also answers) is retried with a fresh suffix, as controllers do.
  Result<ObjectPtr> create(const ResourceType& type, const boost::json::object& obj);
};

// An ownerReference to `owner` (controller: true, blockOwnerDeletion: true).
boost::json::object owner_reference(const boost::json::object& owner);
// A short stable hash of a JSON value in Kubernetes' "safe" alphabet
// (pod-template-hash, controller-revision-hash).
std::string template_hash(const boost::json::value& value);
// metadata.generation as a number (1 when absent).
std::int64_t generation_of(const boost::json::object& obj);
// Resolves an IntOrString (e.g. maxUnavailable "25%") against a total.
std::int64_t int_or_percent(const boost::json::value* v, std::int64_t total, std::int64_t dflt,
                            bool round_up);

}  // namespace cnimig::sim

namespace cnimig::sim {
// A pod from a workload's spec.template: labels and annotations copied, owner
// reference set, `name` used as is or as generateName when `generate`.
boost::json::object pod_from_template(const boost::json::object& owner, std::string_view name,
                                      bool generate);
}  // namespace cnimig::sim
