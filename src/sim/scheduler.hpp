#pragma once
// kube-scheduler, reduced to what the migration exercises: binds each pending
// pod to the least loaded node that passes the filters (cordon, taints,
// nodeSelector, required node affinity); pods that fit nowhere get
// PodScheduled=False/Unschedulable and are retried when a node changes.

#include <map>
#include <set>
#include <string>
#include <unordered_map>

#include "controller_context.hpp"

namespace cnimig::sim {

class Scheduler {
 public:
  explicit Scheduler(ControllerContext& ctx) : ctx_(ctx) {}
  void observe(const Change& change);
  bool pending() const { return !pending_.empty(); }
  void reconcile();

 private:
  void set_load(const std::string& node, std::int64_t delta);
  ControllerContext& ctx_;
  std::set<std::string> pending_;
  std::set<std::string> unschedulable_;
  std::unordered_map<std::string, std::int64_t> load_;
  std::set<std::pair<std::int64_t, std::string>> by_load_;
};

}  // namespace cnimig::sim
