#include "scheduler.hpp"

#include "scheduling_predicates.hpp"

namespace cnimig::sim {

namespace json = boost::json;
using namespace fields;

void Scheduler::set_load(const std::string& node, std::int64_t delta) {
  auto [it, inserted] = load_.try_emplace(node, 0);
  if (!inserted)
    by_load_.erase({it->second, node});
  it->second += delta;
  by_load_.insert({it->second, node});
}

void Scheduler::observe(const Change& change) {
  if (change.resource == &ctx_.nodes) {
    const auto n = std::string(name(change.object ? *change.object : *change.old_object));
    if (change.type == ChangeType::deleted) {
      if (auto it = load_.find(n); it != load_.end()) {
        by_load_.erase({it->second, n});
        load_.erase(it);
      }
    } else {
      set_load(n, 0);
    }
    // A node changed (uncordoned, untainted, relabelled): retry what did not fit.
    pending_.insert(unschedulable_.begin(), unschedulable_.end());
    unschedulable_.clear();
    return;
  }
  if (change.resource != &ctx_.pods)
    return;
  auto counts = [](const json::object* p) { return p && !node_name(*p).empty(); };
  const json::object* before = change.type == ChangeType::added ? nullptr : change.old_object.get();
  const json::object* after = change.type == ChangeType::deleted ? nullptr : change.object.get();
  if (counts(before) != counts(after) ||
      (counts(before) && node_name(*before) != node_name(*after))) {
    if (counts(before))
      set_load(std::string(node_name(*before)), -1);
    if (counts(after))
      set_load(std::string(node_name(*after)), +1);
  }
  const auto k = key(after ? *after : *before);
  if (after && node_name(*after).empty() && !deleting(*after) &&
      str(spec(*after), "schedulerName") != "none") {
    if (!unschedulable_.count(k))
      pending_.insert(k);
  } else {
    pending_.erase(k);
    unschedulable_.erase(k);
  }
}

void Scheduler::reconcile() {
  auto pending = std::move(pending_);
  pending_.clear();
  for (const auto& k : pending) {
    auto pod = ctx_.store.get(ctx_.pods, k);
    if (!pod || !node_name(*pod).empty() || deleting(*pod))
      continue;
    const json::object empty;
    const auto& pod_spec = spec(*pod) ? *spec(*pod) : empty;
    std::string chosen;
    for (const auto& [load, node_n] : by_load_) {
      auto node = ctx_.store.get(ctx_.nodes, "", node_n);
      if (node && pod_fits_node(pod_spec, *node)) {
        chosen = node_n;
        break;
      }
    }
    if (chosen.empty()) {
      unschedulable_.insert(k);
      json::object next = *pod;
      auto& st = next["status"];
      if (!st.is_object())
        st = json::object{};
      st.as_object()["phase"] = "Pending";
      st.as_object()["conditions"] = json::array{json::object{
          {"type", "PodScheduled"},
          {"status", "False"},
          {"reason", "Unschedulable"},
          {"message",
           "0/" + std::to_string(load_.size()) +
               " nodes are available: nodes are unschedulable, tainted or do not match the "
               "pod's node selector."},
          {"lastProbeTime", nullptr},
          {"lastTransitionTime", rfc3339_now()}}};
      (void)ctx_.store.update_status(ctx_.pods, std::move(next));
      continue;
    }
    // The binding subresource sets spec.nodeName and PodScheduled=True.
    json::object next = *pod;
    next["spec"].as_object()["nodeName"] = chosen;
    next["metadata"].as_object().erase("resourceVersion");
    auto bound = ctx_.store.update(ctx_.pods, std::move(next));
    if (!bound)
      continue;
    json::object with_status = **bound;
    auto& st = with_status["status"];
    if (!st.is_object())
      st = json::object{};
    st.as_object()["phase"] = "Pending";
    st.as_object()["conditions"] = json::array{json::object{{"type", "PodScheduled"},
                                                            {"status", "True"},
                                                            {"lastProbeTime", nullptr},
                                                            {"lastTransitionTime", rfc3339_now()}}};
    (void)ctx_.store.update_status(ctx_.pods, std::move(with_status));
  }
}

}  // namespace cnimig::sim
