#include "cnimig/config/config.hpp"

namespace cnimig::config {

std::optional<Timeouts::ms> Timeouts::for_gate(Gate g) const {
  if (auto it = gates.find(g); it != gates.end())
    return it->second;
  switch (g) {
    case Gate::pods_gone:
      return pod_deletion;
    case Gate::cilium_migrated_ready:
    case Gate::cni_ready:
    case Gate::pods_ready:
      return rollout;
    case Gate::eviction_blocked:
      return drain;
    case Gate::writes_in_flight:
    case Gate::connectivity_check:
      return std::nullopt;
    case Gate::resources_ready:
    case Gate::in_flight:
    case Gate::cut_off:
    case Gate::node_joining:
      return gate;
  }
  return gate;
}

}  // namespace cnimig::config
