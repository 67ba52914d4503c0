#pragma once
// What the operator asked for: `--steps` (an inclusive range) and `--nodes`
// (a subset of nodes for the per-node steps roll, priority and migrate).

#include <set>
#include <string>
#include <string_view>

#include "cnimig/common/result.hpp"
#include "cnimig/migrate/step_id.hpp"

namespace cnimig::migrate {

struct Selection {
  StepId first = StepId::preflight;
  StepId last = StepId::cleanup;
  // Empty means every node. prepare and cleanup always act on every node: a
  // node left without the calico-cilium label would lose the source CNI as soon
  // as its DaemonSet is patched.
  std::set<std::string> nodes;

  bool includes(StepId step) const noexcept {
    return static_cast<int>(step) >= static_cast<int>(first) &&
           static_cast<int>(step) <= static_cast<int>(last);
  }
  bool includes_node(const std::string& node) const {
    return nodes.empty() || nodes.contains(node);
  }
};

// "0-5", "2", "migrate", "roll-priority", "2-cleanup".
Result<Selection> parse_step_range(std::string_view text);

}  // namespace cnimig::migrate
