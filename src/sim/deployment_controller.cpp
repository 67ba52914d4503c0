#include "deployment_controller.hpp"

#include <algorithm>
#include <vector>

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

namespace {

// The ReplicaSet for the Deployment's current pod template, labelled and
// selected by its pod-template-hash.
json::object new_replicaset(const json::object& d, std::string_view d_ns,
                            const std::string& rs_name, const std::string& hash,
                            std::int64_t replicas, std::size_t revision) {
  const auto* tmpl = obj(spec(d), "template");
  json::object rs_tmpl = tmpl ? *tmpl : json::object{};
  auto& tm = rs_tmpl["metadata"];
  if (!tm.is_object())
    tm = json::object{};
  auto& labels = tm.as_object()["labels"];
  if (!labels.is_object())
    labels = json::object{};
  labels.as_object()["pod-template-hash"] = hash;
  json::object selector = obj(spec(d), "selector") ? *obj(spec(d), "selector") : json::object{};
  auto& ml = selector["matchLabels"];
  if (!ml.is_object())
    ml = json::object{};
  ml.as_object()["pod-template-hash"] = hash;
  return json::object{
      {"apiVersion", "apps/v1"},
      {"kind", "ReplicaSet"},
      {"metadata", json::object{{"name", rs_name},
                                {"namespace", d_ns},
                                {"labels", labels},
                                {"annotations", json::object{{"deployment.kubernetes.io/revision",
                                                              std::to_string(revision)}}},
                                {"ownerReferences", json::array{owner_reference(d)}}}},
      {"spec",
       json::object{{"replicas", replicas}, {"selector", selector}, {"template", rs_tmpl}}}};
}

// Replica counts over every ReplicaSet of the Deployment.
struct ReplicaTotals {
  std::int64_t total = 0;
  std::int64_t ready = 0;
  std::int64_t old_replicas = 0;
};

// The Deployment's status: replica counts and the Available and Progressing
// conditions, each keeping its times while its status and reason hold.
json::object rollout_status(const json::object& d, std::int64_t replicas, std::int64_t cur_replicas,
                            std::int64_t cur_ready, const ReplicaTotals& t) {
  const auto* strategy = obj(spec(d), "strategy");
  const auto max_unavailable = int_or_percent(
      obj(strategy, "rollingUpdate") ? obj(strategy, "rollingUpdate")->if_contains("maxUnavailable")
                                     : nullptr,
      replicas, replicas / 4, false);
  const bool available = t.ready >= replicas - max_unavailable;
  const bool complete = cur_replicas == replicas && cur_ready == replicas && t.old_replicas == 0;
  json::object st{{"observedGeneration", generation_of(d)},
                  {"replicas", t.total},
                  {"updatedReplicas", cur_replicas},
                  {"readyReplicas", t.ready},
                  {"availableReplicas", t.ready},
                  {"unavailableReplicas", std::max<std::int64_t>(0, t.total - t.ready)}};
  const auto now = rfc3339_now();
  auto keep_time = [&](std::string_view type, std::string_view status_v, std::string_view reason) {
    if (const auto* old = arr(status(d), "conditions"))
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
  return st;
}

}  // namespace

void DeploymentController::sync(const std::string& k) {
  auto d = ctx_.store.get(ctx_.deployments, k);
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
  auto current = current_replicaset(*d, sets, rs_name, hash, replicas);
  if (!current)
    return;
  const auto* cst = status(*current);
  const auto cur_ready = integer(cst, "readyReplicas");
  const auto cur_replicas = integer(cst, "replicas");
  ReplicaTotals totals{cur_replicas, cur_ready, 0};
  for (auto& rs : sets) {
    if (name(*rs) == rs_name)
      continue;
    // Old ReplicaSets go to zero once the new one is available (a simple rollout).
    if (cur_ready >= replicas && integer(spec(*rs), "replicas", 1) != 0) {
      json::object next = *rs;
      next["spec"].as_object()["replicas"] = 0;
      (void)ctx_.store.update(ctx_.replicasets, std::move(next));
    }
    totals.total += integer(status(*rs), "replicas");
    totals.ready += integer(status(*rs), "readyReplicas");
    totals.old_replicas += integer(status(*rs), "replicas");
  }
  json::object next = *d;
  next["status"] = rollout_status(*d, replicas, cur_replicas, cur_ready, totals);
  (void)ctx_.store.update_status(ctx_.deployments, std::move(next));
}

// The ReplicaSet of the current template, created or scaled to `replicas`;
// null when the store refused to create it.
ObjectPtr DeploymentController::current_replicaset(const json::object& d,
                                                   const std::vector<ObjectPtr>& sets,
                                                   const std::string& rs_name,
                                                   const std::string& hash, std::int64_t replicas) {
  ObjectPtr current;
  for (auto& rs : sets)
    if (name(*rs) == rs_name)
      current = rs;
  if (!current) {
    auto rs = new_replicaset(d, ns(d), rs_name, hash, replicas, sets.size() + 1);
    if (auto created = ctx_.store.create(ctx_.replicasets, std::move(rs)))
      return *created;
    return nullptr;
  }
  if (integer(spec(*current), "replicas", 1) != replicas) {
    json::object next = *current;
    next["spec"].as_object()["replicas"] = replicas;
    if (auto r = ctx_.store.update(ctx_.replicasets, std::move(next)))
      current = *r;
  }
  return current;
}

}  // namespace cnimig::sim
