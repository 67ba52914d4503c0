#pragma once
// StatefulSet controller: pods name-0..n-1 (OrderedReady: the next ordinal only
// after the previous is Ready; Parallel: all at once), a deleted pod re-created
// under the same name, RollingUpdate from the highest ordinal one pod at a time,
// status replicas/readyReplicas/currentReplicas/updatedReplicas/revisions.

#include <set>
#include <string>

#include "controller_context.hpp"
#include "owned_index.hpp"

namespace cnimig::sim {

class StatefulSetController {
 public:
  explicit StatefulSetController(ControllerContext& ctx) : ctx_(ctx) {}
  void observe(const Change& change);
  bool pending() const { return !dirty_.empty(); }
  void reconcile();

 private:
  void sync(const std::string& key);
  ControllerContext& ctx_;
  std::set<std::string> dirty_;
  OwnedIndex pods_{"StatefulSet"};
};

}  // namespace cnimig::sim
