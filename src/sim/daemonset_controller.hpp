#pragma once
// DaemonSet controller: one pod per node that should run it (nodeSelector,
// affinity, taints with the automatic daemon tolerations), pods removed from
// nodes that no longer qualify (NoExecute untolerated or selector mismatch),
// deleted pods re-created, RollingUpdate (maxUnavailable) or OnDelete on
// template changes, and the status fields `kubectl rollout status` reads.

#include <map>
#include <set>
#include <string>

#include "controller_context.hpp"

namespace cnimig::sim {

class DaemonSetController {
 public:
  explicit DaemonSetController(ControllerContext& ctx) : ctx_(ctx) {}
  void observe(const Change& change);
  bool pending() const { return !dirty_.empty(); }
  void reconcile();

 private:
  void sync(const std::string& key);
  ControllerContext& ctx_;
  std::set<std::string> dirty_;
  std::map<std::string, std::set<std::string>> pods_by_ds_;
};

}  // namespace cnimig::sim
