#include "replicaset_controller.hpp"

#include <algorithm>
#include <tuple>

namespace cnimig::sim {

namespace json = boost::json;
using namespace fields;

void ReplicaSetController::observe(const Change& change) {
  if (change.resource == &ctx_.replicasets)
    dirty_.insert(key(change.object ? *change.object : *change.old_object));
  else if (change.resource == &ctx_.pods)
    if (auto owner = pods_.observe(change); !owner.empty())
      dirty_.insert(owner);
}

void ReplicaSetController::reconcile() {
  auto dirty = std::move(dirty_);
  dirty_.clear();
  for (const auto& k : dirty)
    sync(k);
}

void ReplicaSetController::sync(const std::string& k) {
  auto rs = ctx_.store.get(ctx_.replicasets, k);
  if (!rs) {
    for (auto& p : pods_.get(ctx_.store, ctx_.pods, k))
      ctx_.delete_pod(*p);
    return;
  }
  // Counts are kept incrementally: the pod list is read only to scale down.
  auto [have, ready] = pods_.counts(k);
  const auto want = integer(spec(*rs), "replicas", 1);
  for (; have < want; ++have) {
    auto pod = pod_from_template(*rs, std::string(name(*rs)) + "-", true);
    (void)ctx_.create(ctx_.pods, pod);
  }
  if (have > want) {
    std::vector<ObjectPtr> live;
    for (auto& p : pods_.get(ctx_.store, ctx_.pods, k))
      if (!deleting(*p))
        live.push_back(p);
    // Delete unscheduled, then not ready, then the rest (controller.ActivePods order).
    std::stable_sort(live.begin(), live.end(), [](const ObjectPtr& a, const ObjectPtr& b) {
      auto rank = [](const json::object& p) {
        return node_name(p).empty() ? 0 : pod_ready(p) ? 2 : 1;
      };
      return rank(*a) < rank(*b);
    });
    for (std::size_t i = 0; have > want && i < live.size(); ++i, --have)
      ctx_.delete_pod(*live[i]);
  }
  std::tie(have, ready) = pods_.counts(k);
  json::object next = *rs;
  json::object st{{"replicas", have},
                  {"fullyLabeledReplicas", have},
                  {"readyReplicas", ready},
                  {"availableReplicas", ready},
                  {"observedGeneration", generation_of(*rs)}};
  next["status"] = std::move(st);
  (void)ctx_.store.update_status(ctx_.replicasets, std::move(next));
}

}  // namespace cnimig::sim
