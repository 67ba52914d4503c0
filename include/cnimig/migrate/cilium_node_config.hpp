#pragma once
// The version at which the agent creates cilium-native's CiliumNodeConfig.
// Its CRD (ciliumnodeconfigs.cilium.io) belongs to Cilium's operator, and the
// versions it serves follow the release: cilium.io/v2alpha1 only before 1.16,
// v2 (the storage version) and v2alpha1 from 1.16, v2 only from 1.20, where
// v2alpha1 was removed. The spec (nodeSelector, defaults) is the same in both.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cnimig/common/result.hpp"

namespace cnimig::migrate {

inline constexpr std::string_view kCiliumGroup = "cilium.io";

// The CiliumNodeConfig versions Cilium `release` ("1.18.9") serves, the
// preferred first; empty when the release is not a 1.N one.
std::vector<std::string> cilium_node_config_versions(std::string_view release);

// The apiVersion ("cilium.io/v2") to create the CiliumNodeConfig at.
// `served`: the versions of group cilium.io the API server serves now (its
// discovery), nullopt when it serves no such group (no Cilium yet: then what
// the bundle's release will serve). `image`: the Cilium image the bundle
// runs; `bundle_api_version`: the CiliumNodeConfig's apiVersion in the
// bundle. Refused: a bundle version the release does not serve, or no
// version both the API and the release serve.
Result<std::string> cilium_node_config_api_version(
    const std::optional<std::vector<std::string>>& served, std::string_view image,
    std::string_view bundle_api_version);

}  // namespace cnimig::migrate
