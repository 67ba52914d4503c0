#pragma once
// The taint manager of the node lifecycle controller: a pod that does not
// tolerate a NoExecute taint of its node is deleted (DaemonSet pods included,
// unless their template tolerates it; their automatic tolerations cover only
// not-ready/unreachable).

#include <set>
#include <string>

#include "controller_context.hpp"

namespace cnimig::sim {

class NodeLifecycle {
 public:
  explicit NodeLifecycle(ControllerContext& ctx) : ctx_(ctx) {}
  void observe(const Change& change);
  bool pending() const { return !dirty_.empty(); }
  void reconcile();

 private:
  ControllerContext& ctx_;
  std::set<std::string> dirty_;  // nodes
};

}  // namespace cnimig::sim
