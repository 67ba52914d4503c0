#include "cnimig/config/gate.hpp"

namespace cnimig::config {

std::string_view to_string(Gate gate) noexcept {
  switch (gate) {
    case Gate::resources_ready:
      return "resources-ready";
    case Gate::connectivity_check:
      return "connectivity-check";
    case Gate::writes_in_flight:
      return "writes-in-flight";
    case Gate::in_flight:
      return "in-flight";
    case Gate::pods_gone:
      return "pods-gone";
    case Gate::eviction_blocked:
      return "eviction-blocked";
    case Gate::cut_off:
      return "cut-off";
    case Gate::cni_ready:
      return "cni-ready";
    case Gate::cilium_migrated_ready:
      return "cilium-migrated-ready";
    case Gate::node_joining:
      return "node-joining";
    case Gate::pods_ready:
      return "pods-ready";
  }
  return "unknown";
}

std::optional<Gate> parse_gate(std::string_view name) noexcept {
  for (Gate g : kAllGates) {
    if (name == to_string(g))
      return g;
  }
  return std::nullopt;
}

}  // namespace cnimig::config
