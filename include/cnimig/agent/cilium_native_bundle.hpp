#pragma once
// paths.cilium-native (strategy cilium-native) as the core sees it: two
// bundles. `cilium-native` holds Cilium (its ConfigMap, RBAC, the agent
// DaemonSet and the operator); `cilium-node-config` holds the
// CiliumNodeConfig alone, applied only once the operator has registered its
// CRD, at the apiVersion preflight discovered (migrate/cilium_node_config.hpp).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cnimig/agent/manifest_bundle.hpp"
#include "cnimig/common/result.hpp"
#include "cnimig/config/config.hpp"

namespace cnimig::agent {

// The two bundles. Refused: no CiliumNodeConfig, more than one, or one whose
// nodeSelector is not exactly {labels.cilium-default: labels.value} (the
// label the agent writes on each node it moves).
Result<std::vector<ManifestBundle>> split_cilium_native(ManifestBundle bundle,
                                                        const config::LabelKeys& labels,
                                                        const std::string& source);

// The CiliumNodeConfig of bundle `cilium-node-config`, or null.
const ManifestObject* cilium_node_config(const ManifestBundle& bundle);

// Rewrites the CiliumNodeConfig to `api_version` ("cilium.io/v2alpha1"): its
// body and the REST path it is applied at.
void set_cilium_node_config_version(ManifestBundle& bundle, const std::string& api_version);

// cilium-config's cluster-pool-ipv4-cidr in the bundle (its first CIDR), or
// empty.
std::string cilium_pool_cidr(const ManifestBundle& bundle);

}  // namespace cnimig::agent

namespace cnimig::agent {

// The versions of `group` in an APIGroupList (GET /apis, always served, unlike
// /apis/<group> before the group exists): ("v2", "v2alpha1") in its order,
// nullopt when the list has no such group.
std::optional<std::vector<std::string>> api_group_versions(const boost::json::object& group_list,
                                                           std::string_view group);

}  // namespace cnimig::agent
