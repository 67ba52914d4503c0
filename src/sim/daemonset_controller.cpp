#include "daemonset_controller.hpp"

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "json_fields.hpp"
#include "scheduling_predicates.hpp"

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

namespace {

using PodsByNode = std::map<std::string, std::vector<ObjectPtr>, std::less<>>;

// What one pass over the nodes found, for the status and the rolling update.
struct DaemonCounts {
  std::int64_t desired = 0;
  std::int64_t current = 0;
  std::int64_t misscheduled = 0;
  std::int64_t ready = 0;
  std::int64_t updated = 0;
  std::int64_t available = 0;
  std::int64_t unavailable_desired = 0;
  std::vector<ObjectPtr> outdated;  // live pods of an older template generation
};

PodsByNode pods_by_node(ControllerContext& ctx, const std::set<std::string>& pod_keys) {
  PodsByNode by_node;
  for (const auto& pk : pod_keys) {
    if (auto p = ctx.store.get(ctx.pods, pk))
      by_node[std::string(node_name(*p))].push_back(p);
  }
  return by_node;
}

// The DaemonSet's pod for `node`, or null when the store refused the write
// (stop-at-write fault; the next change retries).
ObjectPtr create_daemon_pod(ControllerContext& ctx, const json::object& ds,
                            std::string_view ds_name, std::string_view node,
                            const std::string& gen_text) {
  auto pod = pod_from_template(ds, std::string(ds_name) + "-", true);
  auto& ps = pod["spec"].as_object();
  ps["nodeName"] = node;
  add_daemon_tolerations(ps);
  auto& labels = pod["metadata"].as_object()["labels"];
  if (!labels.is_object())
    labels = json::object{};
  labels.as_object()["pod-template-generation"] = gen_text;
  labels.as_object()["controller-revision-hash"] = template_hash(spec(ds)->at("template"));
  if (auto created = ctx.create(ctx.pods, pod))
    return *created;
  return nullptr;
}

// One pod on each node that should run the DaemonSet: creates the missing
// ones, deletes those on nodes that no longer qualify and the extra ones.
DaemonCounts place_pods(ControllerContext& ctx, const json::object& ds, std::string_view ds_name,
                        const PodsByNode& by_node, const std::string& gen_text) {
  const auto* tmpl_spec = obj(obj(spec(ds), "template"), "spec");
  const json::object empty;
  const auto& pod_spec = tmpl_spec ? *tmpl_spec : empty;
  DaemonCounts c;
  for (const auto& node : ctx.store.list(ctx.nodes, "")) {
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
        ctx.delete_pod(*p);
      if (!live.empty())
        ++c.misscheduled;
      continue;
    }
    if (!should_run && live.empty())
      continue;
    if (!should_run) {
      ++c.misscheduled;  // e.g. a NoSchedule taint added: keeps running, counted misscheduled
      continue;
    }
    ++c.desired;
    if (live.empty()) {
      if (auto created = create_daemon_pod(ctx, ds, ds_name, node_n, gen_text))
        live.push_back(std::move(created));
    }
    if (live.empty())
      continue;  // the write was refused (stop-at-write fault); the next change retries
    // More than one: keep the oldest.
    while (live.size() > 1) {
      ctx.delete_pod(*live.back());
      live.pop_back();
    }
    ++c.current;
    const auto& p = *live.front();
    if (pod_ready(p)) {
      ++c.ready;
      ++c.available;
    } else {
      ++c.unavailable_desired;
    }
    if (label(p, "pod-template-generation") == gen_text)
      ++c.updated;
    else
      c.outdated.push_back(live.front());
  }
  return c;
}

// RollingUpdate: replaces outdated pods, at most maxUnavailable unavailable
// at a time (not-ready ones first, as they are unavailable already).
void roll_outdated(ControllerContext& ctx, const json::object& ds, DaemonCounts& c,
                   const PodsByNode& by_node, const std::string& gen_text) {
  const auto* strategy = obj(spec(ds), "updateStrategy");
  const auto max_unavailable = std::max<std::int64_t>(
      1, int_or_percent(obj(strategy, "rollingUpdate")
                            ? obj(strategy, "rollingUpdate")->if_contains("maxUnavailable")
                            : nullptr,
                        c.desired, 1, false));
  // Not-ready outdated pods go first: they are unavailable already.
  std::stable_sort(
      c.outdated.begin(), c.outdated.end(),
      [](const ObjectPtr& a, const ObjectPtr& b) { return !pod_ready(*a) && pod_ready(*b); });
  // Pods being replaced (terminating) count as unavailable too.
  std::int64_t terminating = 0;
  for (auto& [node, pods] : by_node)
    for (auto& p : pods)
      if (deleting(*p) && label(*p, "pod-template-generation") != gen_text)
        ++terminating;
  std::int64_t budget = max_unavailable - c.unavailable_desired - terminating;
  for (auto& p : c.outdated) {
    if (!pod_ready(*p)) {
      ctx.delete_pod(*p);
    } else if (budget > 0) {
      ctx.delete_pod(*p);
      --budget;
    }
  }
}

void write_status(ControllerContext& ctx, const json::object& ds, const DaemonCounts& c,
                  std::int64_t generation) {
  json::object st = status(ds) ? *status(ds) : json::object{};
  st["desiredNumberScheduled"] = c.desired;
  st["currentNumberScheduled"] = c.current;
  st["numberMisscheduled"] = c.misscheduled;
  st["numberReady"] = c.ready;
  st["updatedNumberScheduled"] = c.updated;
  st["numberAvailable"] = c.available;
  st["numberUnavailable"] = c.desired - c.available;
  st["observedGeneration"] = generation;
  if (c.available == 0)
    st.erase("numberAvailable");  // omitempty, like the real status
  json::object next = ds;
  next["status"] = std::move(st);
  (void)ctx.store.update_status(ctx.daemonsets, std::move(next));
}

}  // namespace

void DaemonSetController::sync(const std::string& k) {
  const auto [ds_ns, ds_name] = wire::split_object_key(k);
  auto ds = ctx_.store.get(ctx_.daemonsets, ds_ns, ds_name);
  const auto by_node = pods_by_node(ctx_, pods_by_ds_[k]);
  if (!ds) {
    // Garbage collection of the dependents (ownerReferences, background propagation).
    for (auto& [node, pods] : by_node)
      for (auto& p : pods)
        ctx_.delete_pod(*p);
    if (by_node.empty())
      pods_by_ds_.erase(k);
    return;
  }
  const auto generation = generation_of(*ds);
  const auto gen_text = std::to_string(generation);
  auto counts = place_pods(ctx_, *ds, ds_name, by_node, gen_text);
  const bool on_delete = str(obj(spec(*ds), "updateStrategy"), "type") == "OnDelete";
  if (!on_delete && !counts.outdated.empty())
    roll_outdated(ctx_, *ds, counts, by_node, gen_text);
  write_status(ctx_, *ds, counts, generation);
}

}  // namespace cnimig::sim
