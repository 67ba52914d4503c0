#include "daemonset_controller.hpp"

#include <algorithm>

#include "cnimig/sim/scheduling_predicates.hpp"

#include "json_fields.hpp"

namespace cnimig::sim {

namespace json = boost::json;
using namespace fields;

namespace {
bool node_scheduling_changed(const json::object* a, const json::object* b) {
  if (!a || !b)
    return true;
  return *obj(meta(*a), "labels") != *obj(meta(*b), "labels") ||
         (spec(*a) ? json::value(*spec(*a)) : json::value()) !=
             (spec(*b) ? json::value(*spec(*b)) : json::value());
}
std::string owner_key(const json::object& pod) {
  const auto* ref = controller_ref(pod);
  if (!ref || str(ref, "kind") != "DaemonSet")
    return {};
  return std::string(ns(pod)) + "/" + std::string(str(ref, "name"));
}
}  // namespace

void DaemonSetController::observe(const Change& change) {
  const auto* type = change.resource;
  if (type == &ctx_.daemonsets) {
    dirty_.insert(key(change.object ? *change.object : *change.old_object));
  } else if (type == &ctx_.pods) {
    const auto& any = change.object ? *change.object : *change.old_object;
    const auto k = owner_key(any);
    if (k.empty())
      return;
    if (change.type == ChangeType::deleted)
      pods_by_ds_[k].erase(key(any));
    else
      pods_by_ds_[k].insert(key(any));
    dirty_.insert(k);
  } else if (type == &ctx_.nodes) {
    const json::object* before =
        change.type == ChangeType::added ? nullptr : change.old_object.get();
    const json::object* after = change.type == ChangeType::deleted ? nullptr : change.object.get();
    const bool labels_null =
        (before && !obj(meta(*before), "labels")) || (after && !obj(meta(*after), "labels"));
    if (labels_null || node_scheduling_changed(before, after))
      for (const auto& ds : ctx_.store.list(ctx_.daemonsets, ""))
        dirty_.insert(key(*ds));
  }
}

void DaemonSetController::reconcile() {
  auto dirty = std::move(dirty_);
  dirty_.clear();
  for (const auto& k : dirty)
    sync(k);
}

void DaemonSetController::sync(const std::string& k) {
  const auto slash = k.find('/');
  const auto ds_ns = std::string_view(k).substr(0, slash);
  const auto ds_name = std::string_view(k).substr(slash + 1);
  auto ds = ctx_.store.get(ctx_.daemonsets, ds_ns, ds_name);
  auto& pod_keys = pods_by_ds_[k];
  // Current pods by node.
  std::map<std::string, std::vector<ObjectPtr>, std::less<>> by_node;
  for (const auto& pk : pod_keys) {
    const auto s = pk.find('/');
    if (auto p = ctx_.store.get(ctx_.pods, std::string_view(pk).substr(0, s),
                                std::string_view(pk).substr(s + 1)))
      by_node[std::string(node_name(*p))].push_back(p);
  }
  if (!ds) {
    // Garbage collection of the dependents (ownerReferences, background propagation).
    for (auto& [node, pods] : by_node)
      for (auto& p : pods)
        ctx_.delete_pod(*p);
    if (by_node.empty())
      pods_by_ds_.erase(k);
    return;
  }
  const auto* tmpl_spec = obj(obj(spec(*ds), "template"), "spec");
  const json::object empty;
  const auto& pod_spec = tmpl_spec ? *tmpl_spec : empty;
  const auto generation = generation_of(*ds);
  const auto gen_text = std::to_string(generation);
  const auto* strategy = obj(spec(*ds), "updateStrategy");
  const bool on_delete = str(strategy, "type") == "OnDelete";

  std::int64_t desired = 0, current = 0, misscheduled = 0, ready = 0, updated = 0, available = 0;
  std::vector<ObjectPtr> outdated;
  std::int64_t unavailable_desired = 0;
  auto is_updated = [&](const json::object& p) {
    return label(p, "pod-template-generation") == gen_text;
  };
  for (const auto& node : ctx_.store.list(ctx_.nodes, "")) {
    const auto node_n = name(*node);
    const bool should_run = daemon_should_run(pod_spec, *node);
    const bool should_continue = daemon_should_continue(pod_spec, *node);
    auto it = by_node.find(node_n);
    std::vector<ObjectPtr> live;
    if (it != by_node.end())
      for (auto& p : it->second)
        if (!deleting(*p))
          live.push_back(p);
    if (!should_continue) {
      for (auto& p : live)
        ctx_.delete_pod(*p);
      if (!live.empty())
        ++misscheduled;
      continue;
    }
    if (!should_run && live.empty())
      continue;
    if (!should_run) {
      ++misscheduled;  // e.g. a NoSchedule taint added: keeps running, counted misscheduled
      continue;
    }
    ++desired;
    if (live.empty()) {
      auto pod = pod_from_template(*ds, std::string(ds_name) + "-", true);
      auto& ps = pod["spec"].as_object();
      ps["nodeName"] = node_n;
      add_daemon_tolerations(ps);
      auto& labels = pod["metadata"].as_object()["labels"];
      if (!labels.is_object())
        labels = json::object{};
      labels.as_object()["pod-template-generation"] = gen_text;
      labels.as_object()["controller-revision-hash"] = template_hash(spec(*ds)->at("template"));
      if (auto created = ctx_.create(ctx_.pods, pod))
        live.push_back(*created);
    }
    if (live.empty())
      continue;  // the write was refused (stop-at-write fault); the next change retries
    // More than one: keep the oldest.
    while (live.size() > 1) {
      ctx_.delete_pod(*live.back());
      live.pop_back();
    }
    ++current;
    const auto& p = *live.front();
    const bool r = pod_ready(p);
    if (r) {
      ++ready;
      ++available;
    } else {
      ++unavailable_desired;
    }
    if (is_updated(p))
      ++updated;
    else
      outdated.push_back(live.front());
  }
  if (!on_delete && !outdated.empty()) {
    const auto max_unavailable = std::max<std::int64_t>(
        1, int_or_percent(obj(strategy, "rollingUpdate")
                              ? obj(strategy, "rollingUpdate")->if_contains("maxUnavailable")
                              : nullptr,
                          desired, 1, false));
    // Not-ready outdated pods go first: they are unavailable already.
    std::stable_sort(outdated.begin(), outdated.end(), [](const ObjectPtr& a, const ObjectPtr& b) {
      return !pod_ready(*a) && pod_ready(*b);
    });
    // Pods being replaced (terminating) count as unavailable too.
    std::int64_t terminating = 0;
    for (auto& [node, pods] : by_node)
      for (auto& p : pods)
        if (deleting(*p) && is_updated(*p) == false)
          ++terminating;
    std::int64_t budget = max_unavailable - unavailable_desired - terminating;
    for (auto& p : outdated) {
      if (!pod_ready(*p)) {
        ctx_.delete_pod(*p);
      } else if (budget > 0) {
        ctx_.delete_pod(*p);
        --budget;
      }
    }
  }
  json::object st = status(*ds) ? *status(*ds) : json::object{};
  st["desiredNumberScheduled"] = desired;
  st["currentNumberScheduled"] = current;
  st["numberMisscheduled"] = misscheduled;
  st["numberReady"] = ready;
  st["updatedNumberScheduled"] = updated;
  st["numberAvailable"] = available;
  st["numberUnavailable"] = desired - available;
  st["observedGeneration"] = generation;
  if (available == 0)
    st.erase("numberAvailable");  // omitempty, like the real status
  json::object next = *ds;
  next["status"] = std::move(st);
  (void)ctx_.store.update_status(ctx_.daemonsets, std::move(next));
}

}  // namespace cnimig::sim
