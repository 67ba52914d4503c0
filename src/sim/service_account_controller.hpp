#pragma once
// The ServiceAccount side of kube-controller-manager as pods depend on it:
// every namespace gets a ServiceAccount `default` (the serviceaccounts
// controller), and once a ServiceAccount appears, the workloads of its
// namespace are handed to their controllers again, whose pods the
// ServiceAccount admission refused until then (the real controllers retry
// with backoff).

#include <functional>
#include <set>
#include <string>

#include "controller_context.hpp"

namespace cnimig::sim {

class ServiceAccountController {
 public:
  // `requeue` is told of each workload to reconcile again (as a change).
  ServiceAccountController(ControllerContext& ctx, std::function<void(const Change&)> requeue)
      : ctx_(ctx), requeue_(std::move(requeue)) {}
  void observe(const Change& change);
  bool pending() const { return !namespaces_.empty(); }
  void reconcile();

 private:
  ControllerContext& ctx_;
  std::function<void(const Change&)> requeue_;
  std::set<std::string> namespaces_;  // without their `default` yet
};

}  // namespace cnimig::sim
