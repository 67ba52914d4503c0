#include "replicaset_controller.hpp"

#include <algorithm>

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
  const auto slash = k.find('/');
  auto rs = ctx_.store.get(ctx_.replicasets, std::string_view(k).substr(0, slash),
                           std::string_view(k).substr(slash + 1));
  auto pods = pods_.get(ctx_.store, ctx_.pods, k);
  if (!rs) {
    for (auto& p : pods)
      ctx_.delete_pod(*p);
    return;
  }
  std::vector<ObjectPtr> live;
  for (auto& p : pods)
    if (!deleting(*p))
      live.push_back(p);
  const auto want = integer(spec(*rs), "replicas", 1);
  auto have = static_cast<std::int64_t>(live.size());
  for (; have < want; ++have) {
    auto pod = pod_from_template(*rs, std::string(name(*rs)) + "-", true);
    if (auto created = ctx_.store.create(ctx_.pods, std::move(pod)))
      live.push_back(*created);
  }
  if (have > want) {
    // Delete unscheduled, then not ready, then newest (controller.ActivePods order).
    std::stable_sort(live.begin(), live.end(), [](const ObjectPtr& a, const ObjectPtr& b) {
      auto rank = [](const json::object& p) {
        return node_name(p).empty() ? 0 : pod_ready(p) ? 2 : 1;
      };
      return rank(*a) < rank(*b);
    });
    while (have > want) {
      ctx_.delete_pod(*live.front());
      live.erase(live.begin());
      --have;
    }
  }
  std::int64_t ready = 0;
  for (auto& p : live)
    if (pod_ready(*p))
      ++ready;
  json::object next = *rs;
  json::object st{{"replicas", static_cast<std::int64_t>(live.size())},
                  {"fullyLabeledReplicas", static_cast<std::int64_t>(live.size())},
                  {"readyReplicas", ready},
                  {"availableReplicas", ready},
                  {"observedGeneration", generation_of(*rs)}};
  next["status"] = std::move(st);
  (void)ctx_.store.update_status(ctx_.replicasets, std::move(next));
}

}  // namespace cnimig::sim
