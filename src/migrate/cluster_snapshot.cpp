#include "cnimig/migrate/cluster_snapshot.hpp"

namespace cnimig::migrate {

bool WorkloadState::selects(const NodeState& node) const {
  for (const auto& [key, value] : node_selector) {
    const auto it = node.labels.find(key);
    if (it == node.labels.end() || it->second != value)
      return false;
  }
  return true;
}

}  // namespace cnimig::migrate
