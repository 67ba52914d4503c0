#pragma once
// API defaulting: the fields a real API server fills in on every object it
// decodes, before admission and storage, so what clients read back (kubectl
// rollout status, controllers, the agent) carries them even when the manifest
// left them out. Follows the Kubernetes sources pkg/apis/apps/v1/defaults.go
// and pkg/apis/core/v1/defaults.go (plus the declarative `+default` markers
// of k8s.io/api) for the kinds the simulator runs: DaemonSet, Deployment,
// StatefulSet, ReplicaSet, Job templates, Pod, Service and Namespace.
// Idempotent: defaulting an object twice changes nothing the second time.

#include <string_view>

#include <boost/json/object.hpp>

#include "resource_type.hpp"

namespace cnimig::sim {

// Fills in the defaults of `object`, an object of `type` (other kinds are
// left as they are).
void apply_defaults(const ResourceType& type, boost::json::object& object);

// A container's imagePullPolicy when the manifest sets none: Always for the
// tag `latest` or no tag at all (the implied tag is latest), IfNotPresent for
// any other tag or a digest (SetDefaults_Container).
std::string_view default_image_pull_policy(std::string_view image);

}  // namespace cnimig::sim
