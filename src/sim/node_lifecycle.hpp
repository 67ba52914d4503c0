#pragma once
// The taint manager of the node lifecycle controller: a pod that does not
// tolerate a NoExecute taint of its node is deleted (DaemonSet pods included,
// unless their template tolerates it; their automatic tolerations cover only
// not-ready/unreachable). And the pod garbage collector's orphan rule: a pod
// bound to a node that no longer exists is marked Failed (DisruptionTarget,
// DeletionByPodGC) and deleted without a grace period (no kubelet is left to
// run its shutdown). And node IPAM: a node
// created without spec.podCIDR is given one.

#include <set>
#include <string>

#include "controller_context.hpp"

namespace cnimig::sim {

class NodeLifecycle {
 public:
  explicit NodeLifecycle(ControllerContext& ctx) : ctx_(ctx) {}
  void observe(const Change& change);
  bool pending() const { return !dirty_.empty() || !orphaned_.empty() || !new_nodes_.empty(); }
  void reconcile();

 private:
  void collect_orphans(const std::string& node);
  void allocate_pod_cidr(const std::string& node);

  ControllerContext& ctx_;
  std::set<std::string> dirty_;     // nodes
  std::set<std::string> orphaned_;  // deleted nodes, or nodes a new pod is bound to
  std::set<std::string> new_nodes_;
};

}  // namespace cnimig::sim
