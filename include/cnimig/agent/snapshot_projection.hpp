#pragma once
// From API objects to the core's snapshot types: only the fields the core
// reads are kept (memory matters at 150,000 pods). Readiness follows
// src/migrate/README.md "Readiness": the rules `kubectl rollout status` applies.

#include <string>
#include <string_view>

#include <boost/json/object.hpp>

#include "cnimig/migrate/cluster_snapshot.hpp"

namespace cnimig::agent {

// Labels, annotations under `annotation_prefix`, taints, cordon and the Ready
// condition; `pods` is left empty (pods are placed by the pod projection).
migrate::NodeState project_node(const boost::json::object& node,
                                std::string_view annotation_prefix);

migrate::PodState project_pod(const boost::json::object& pod);

// spec.nodeName, empty when the pod is not scheduled.
std::string pod_node_name(const boost::json::object& pod);

// `kind` is "DaemonSet", "Deployment" or "StatefulSet".
migrate::WorkloadState project_workload(std::string_view kind, const boost::json::object& object);

}  // namespace cnimig::agent
