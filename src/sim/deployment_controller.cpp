#include "deployment_controller.hpp"

namespace cnimig::sim {

namespace json = boost::json;
using namespace fields;

void DeploymentController::observe(const Change& change) {
  if (change.resource == &ctx_.deployments)
    dirty_.insert(key(change.object ? *change.object : *change.old_object));
  else if (change.resource == &ctx_.replicasets)
    if (auto owner = replicasets_.observe(change); !owner.empty())
      dirty_.insert(owner);
}

void DeploymentController::reconcile() {
  auto dirty = std::move(dirty_);
  dirty_.clear();
  for (const auto& k : dirty)
    sync(k);
}

void DeploymentController::sync(const std::string& k) {
  const auto slash = k.find('/');
  const auto d_ns = std::string_view(k).substr(0, slash);
  auto d = ctx_.store.get(ctx_.deployments, d_ns, std::string_view(k).substr(slash + 1));
  auto sets = replicasets_.get(ctx_.store, ctx_.replicasets, k);
  if (!d) {
    for (auto& rs : sets)
      (void)ctx_.store.remove(ctx_.replicasets, ns(*rs), name(*rs));
    return;
  }
  const auto* tmpl = obj(spec(*d), "template");
  const auto hash = template_hash(tmpl ? json::value(*tmpl) : json::value());
  const auto rs_name = std::string(name(*d)) + "-" + hash;
  const auto replicas = integer(spec(*d), "replicas", 1);
  ObjectPtr current;
  for (auto& rs : sets)
    if (name(*rs) == rs_name)
      current = rs;
  if (!current) {
    json::object rs_tmpl = tmpl ? *tmpl : json::object{};
    auto& tm = rs_tmpl["metadata"];
    if (!tm.is_object())
      tm = json::object{};
    auto& labels = tm.as_object()["labels"];
    if (!labels.is_object())
      labels = json::object{};
    labels.as_object()["pod-template-hash"] = hash;
    json::object selector = obj(spec(*d), "selector") ? *obj(spec(*d), "selector") : json::object{};
    auto& ml = selector["matchLabels"];
    if (!ml.is_object())
      ml = json::object{};
    ml.as_object()["pod-template-hash"] = hash;
    json::object rs{
        {"apiVersion", "apps/v1"},
        {"kind", "ReplicaSet"},
        {"metadata", json::object{{"name", rs_name},
                                  {"namespace", d_ns},
                                  {"labels", labels},
                                  {"annotations", json::object{{"deployment.kubernetes.io/revision",
                                                                std::to_string(sets.size() + 1)}}},
                                  {"ownerReferences", json::array{owner_reference(*d)}}}},
        {"spec",
         json::object{{"replicas", replicas}, {"selector", selector}, {"template", rs_tmpl}}}};
    if (auto created = ctx_.store.create(ctx_.replicasets, std::move(rs)))
      current = *created;
    else
      return;
  } else if (integer(spec(*current), "replicas", 1) != replicas) {
    json::object next = *current;
    next["spec"].as_object()["replicas"] = replicas;
    if (auto r = ctx_.store.update(ctx_.replicasets, std::move(next)))
      current = *r;
  }
  const auto* cst = status(*current);
  const auto cur_ready = integer(cst, "readyReplicas");
  const auto cur_replicas = integer(cst, "replicas");
  std::int64_t total = cur_replicas, ready = cur_ready, old_replicas = 0;
  for (auto& rs : sets) {
    if (name(*rs) == rs_name)
      continue;
    // Old ReplicaSets go to zero once the new one is available (a simple rollout).
    if (cur_ready >= replicas && integer(spec(*rs), "replicas", 1) != 0) {
      json::object next = *rs;
      next["spec"].as_object()["replicas"] = 0;
      (void)ctx_.store.update(ctx_.replicasets, std::move(next));
    }
    total += integer(status(*rs), "replicas");
    ready += integer(status(*rs), "readyReplicas");
    old_replicas += integer(status(*rs), "replicas");
  }
  const auto* strategy = obj(spec(*d), "strategy");
  const auto max_unavailable = int_or_percent(
      obj(strategy, "rollingUpdate") ? obj(strategy, "rollingUpdate")->if_contains("maxUnavailable")
                                     : nullptr,
      replicas, replicas / 4, false);
  const bool available = ready >= replicas - max_unavailable;
  const bool complete = cur_replicas == replicas && cur_ready == replicas && old_replicas == 0;
  json::object st{{"observedGeneration", generation_of(*d)},
                  {"replicas", total},
                  {"updatedReplicas", cur_replicas},
                  {"readyReplicas", ready},
                  {"availableReplicas", ready},
                  {"unavailableReplicas", std::max<std::int64_t>(0, total - ready)}};
  const auto now = rfc3339_now();
  auto keep_time = [&](std::string_view type, std::string_view status_v, std::string_view reason) {
    if (const auto* old = arr(status(*d), "conditions"))
      for (const auto& c : *old)
        if (c.is_object() && str(&c.get_object(), "type") == type &&
            str(&c.get_object(), "status") == status_v && str(&c.get_object(), "reason") == reason)
          return c.get_object();
    return json::object{{"type", type},  {"status", status_v},    {"reason", reason},
                        {"message", ""}, {"lastUpdateTime", now}, {"lastTransitionTime", now}};
  };
  st["conditions"] = json::array{
      keep_time("Available", available ? "True" : "False",
                available ? "MinimumReplicasAvailable" : "MinimumReplicasUnavailable"),
      keep_time("Progressing", "True", complete ? "NewReplicaSetAvailable" : "ReplicaSetUpdated")};
  json::object next = *d;
  next["status"] = std::move(st);
  (void)ctx_.store.update_status(ctx_.deployments, std::move(next));
}

}  // namespace cnimig::sim
