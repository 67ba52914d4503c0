#include "node_lifecycle.hpp"

#include "scheduling_predicates.hpp"

namespace cnimig::sim {

namespace json = boost::json;
using namespace fields;

namespace {
bool has_no_execute(const json::object& node) {
  if (const auto* taints = arr(spec(node), "taints"))
    for (const auto& t : *taints)
      if (t.is_object() && str(&t.get_object(), "effect") == "NoExecute")
        return true;
  return false;
}
}  // namespace

void NodeLifecycle::observe(const Change& change) {
  if (change.resource == &ctx_.nodes && change.type == ChangeType::added &&
      str(spec(*change.object), "podCIDR").empty())
    new_nodes_.insert(std::string(name(*change.object)));
  if (change.resource == &ctx_.nodes && change.type == ChangeType::deleted) {
    const auto& any = change.object ? *change.object : *change.old_object;
    orphaned_.insert(std::string(name(any)));
  } else if (change.resource == &ctx_.nodes && has_no_execute(*change.object)) {
    dirty_.insert(std::string(name(*change.object)));
  } else if (change.resource == &ctx_.pods && change.type == ChangeType::added &&
             !node_name(*change.object).empty()) {
    dirty_.insert(std::string(node_name(*change.object)));
    orphaned_.insert(std::string(node_name(*change.object)));
  }
}

void NodeLifecycle::collect_orphans(const std::string& node) {
  if (ctx_.store.get(ctx_.nodes, "", node))
    return;
  // podgc (gcOrphaned) first marks the pod Failed with a DisruptionTarget
  // condition, then deletes it with grace period 0: the object goes at once.
  const auto now = rfc3339_now();
  for (const auto& pod : ctx_.store.pods_on_node(node)) {
    json::object next = *pod;
    auto& st = next["status"];
    if (!st.is_object())
      st = json::object{};
    auto& s = st.as_object();
    s["phase"] = "Failed";
    auto& conds = s["conditions"];
    if (!conds.is_array())
      conds = json::array{};
    conds.as_array().push_back(json::object{{"type", "DisruptionTarget"},
                                            {"status", "True"},
                                            {"reason", "DeletionByPodGC"},
                                            {"message", "PodGC: node no longer exists"},
                                            {"lastTransitionTime", now}});
    next["metadata"].as_object().erase("resourceVersion");
    (void)ctx_.store.update_status(ctx_.pods, std::move(next));
    (void)ctx_.store.remove(ctx_.pods, ns(*pod), name(*pod));
  }
}

void NodeLifecycle::allocate_pod_cidr(const std::string& node) {
  auto current = ctx_.store.get(ctx_.nodes, "", node);
  if (!current || !str(spec(*current), "podCIDR").empty())
    return;
  json::object next = *current;
  auto& s = next["spec"];
  if (!s.is_object())
    s = json::object{};
  const auto cidr = ctx_.network.pod_cidr(node);
  s.as_object()["podCIDR"] = cidr;
  s.as_object()["podCIDRs"] = json::array{json::value(cidr)};
  next["metadata"].as_object().erase("resourceVersion");
  (void)ctx_.store.update(ctx_.nodes, std::move(next));
}

void NodeLifecycle::reconcile() {
  auto new_nodes = std::move(new_nodes_);
  new_nodes_.clear();
  for (const auto& n : new_nodes)
    allocate_pod_cidr(n);
  auto orphaned = std::move(orphaned_);
  orphaned_.clear();
  for (const auto& n : orphaned)
    collect_orphans(n);
  auto dirty = std::move(dirty_);
  dirty_.clear();
  for (const auto& n : dirty) {
    auto node = ctx_.store.get(ctx_.nodes, "", n);
    if (!node || !has_no_execute(*node))
      continue;
    for (const auto& pod : ctx_.store.pods_on_node(n)) {
      const json::object empty;
      if (!deleting(*pod) &&
          !tolerates_node_taints(spec(*pod) ? *spec(*pod) : empty, *node, false, true))
        ctx_.delete_pod(*pod);
    }
  }
}

}  // namespace cnimig::sim
