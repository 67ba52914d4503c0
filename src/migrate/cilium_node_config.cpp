#include "cnimig/migrate/cilium_node_config.hpp"

#include <algorithm>

#include "cnimig/migrate/cilium_requirements.hpp"

namespace cnimig::migrate {
namespace {

std::string list(const std::vector<std::string>& versions) {
  std::string out;
  for (const auto& v : versions)
    out += (out.empty() ? "" : ", ") + v;
  return out.empty() ? "none" : out;
}

bool contains(const std::vector<std::string>& versions, std::string_view v) {
  return std::find(versions.begin(), versions.end(), v) != versions.end();
}

}  // namespace

std::vector<std::string> cilium_node_config_versions(std::string_view release) {
  const auto minor = cilium_minor(release);
  if (!minor)
    return {};
  if (*minor < 16)
    return {"v2alpha1"};
  if (*minor < 20)
    return {"v2", "v2alpha1"};
  return {"v2"};
}

Result<std::string> cilium_node_config_api_version(
    const std::optional<std::vector<std::string>>& served, std::string_view image,
    std::string_view bundle_api_version) {
  const std::string prefix = std::string(kCiliumGroup) + "/";
  if (!bundle_api_version.starts_with(prefix)) {
    return make_error(Errc::config, "the CiliumNodeConfig's apiVersion " +
                                        std::string(bundle_api_version) + " is not in group " +
                                        std::string(kCiliumGroup));
  }
  const auto wanted = bundle_api_version.substr(prefix.size());
  const auto release = cilium_release(image);
  // A release the agent cannot name: trust the bundle and the API.
  const auto from_release = release ? cilium_node_config_versions(*release)
                                    : std::vector<std::string>{std::string(wanted)};
  const std::string cilium = release ? "Cilium " + *release : "the bundle's Cilium";
  if (!contains(from_release, wanted)) {
    return make_error(Errc::config, "the CiliumNodeConfig is " + std::string(bundle_api_version) +
                                        ", which " + cilium + " does not serve (it serves " +
                                        list(from_release) + ")");
  }
  std::vector<std::string> candidates;
  for (const auto& v : from_release) {
    if (!served || contains(*served, v))
      candidates.push_back(v);
  }
  if (candidates.empty()) {
    return make_error(Errc::config, "the API server serves " + std::string(kCiliumGroup) +
                                        " versions " + list(*served) + " but " + cilium +
                                        " serves CiliumNodeConfig at " + list(from_release));
  }
  // The bundle's own version when it is served, else the release's preferred.
  return prefix + (contains(candidates, wanted) ? std::string(wanted) : candidates.front());
}

}  // namespace cnimig::migrate
