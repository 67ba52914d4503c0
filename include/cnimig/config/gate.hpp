#pragma once
// What a run can wait for (src/migrate/README.md "Gates, budget and
// failures"). The core names a gate in every wait; the driver gives each
// wait its gate's timeout, and `timeouts.gates` in the configuration may set
// one gate's timeout by its name. The names live here, beside Step, so the
// core, the driver and the config loader spell them one way: a misspelt gate
// in the configuration is an error, not a silent default.

#include <array>
#include <optional>
#include <string_view>

namespace cnimig::config {

enum class Gate {
  resources_ready,        // every watched resource exists and is ready
  connectivity_check,     // a connectivity check is running
  writes_in_flight,       // a check must wait until no write runs
  in_flight,              // actions still running (before a halt or Done)
  pods_gone,              // evicted or deleted pods have left the node
  eviction_blocked,       // a PodDisruptionBudget refuses an eviction
  cut_off,                // the API server's clock has not reached a cut-off
  cni_ready,              // priority: the CNI agents run Ready on the node
  cilium_migrated_ready,  // migrate: cilium-migrated runs Ready on the node
  node_joining,           // cleanup: a node that joined is still being brought in
  pods_ready,             // cilium-native: a node's re-created pods Ready on Cilium addresses
};

inline constexpr std::array<Gate, 11> kAllGates = {
    Gate::resources_ready, Gate::connectivity_check, Gate::writes_in_flight,
    Gate::in_flight,       Gate::pods_gone,          Gate::eviction_blocked,
    Gate::cut_off,         Gate::cni_ready,          Gate::cilium_migrated_ready,
    Gate::node_joining,    Gate::pods_ready};

// "resources-ready", "pods-gone", ...: the names of events and of
// `timeouts.gates` keys.
std::string_view to_string(Gate gate) noexcept;
std::optional<Gate> parse_gate(std::string_view name) noexcept;

}  // namespace cnimig::config
