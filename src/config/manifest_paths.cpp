#include "cnimig/config/config.hpp"

namespace cnimig::config {

std::vector<std::pair<std::string, std::filesystem::path>> ManifestPaths::bundles() const {
  std::vector<std::pair<std::string, std::filesystem::path>> out;
  for (const auto& [id, path] :
       {std::pair{"cilium", &cilium}, std::pair{"multus", &multus},
        std::pair{"cilium-native", &cilium_native}, std::pair{"knet-stress", &knet_stress},
        std::pair{"node-cleanup", &node_cleanup}}) {
    if (!path->empty())
      out.emplace_back(id, *path);
  }
  return out;
}

}  // namespace cnimig::config
