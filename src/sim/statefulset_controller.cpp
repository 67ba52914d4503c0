#include "statefulset_controller.hpp"

#include <map>

namespace cnimig::sim {

namespace json = boost::json;
using namespace fields;

void StatefulSetController::observe(const Change& change) {
  if (change.resource == &ctx_.statefulsets)
    dirty_.insert(key(change.object ? *change.object : *change.old_object));
  else if (change.resource == &ctx_.pods)
    if (auto owner = pods_.observe(change); !owner.empty())
      dirty_.insert(owner);
}

void StatefulSetController::reconcile() {
  auto dirty = std::move(dirty_);
  dirty_.clear();
  for (const auto& k : dirty)
    sync(k);
}

namespace {

using PodsByOrdinal = std::map<std::int64_t, ObjectPtr>;

// The pod `base-i` of the StatefulSet, at the template's revision.
json::object ordinal_pod(const json::object& sts, const std::string& base, std::int64_t i,
                         const std::string& revision) {
  auto pod = pod_from_template(sts, base + "-" + std::to_string(i), false);
  auto& meta = pod["metadata"].as_object();
  auto& labels = meta["labels"];
  if (!labels.is_object())
    labels = json::object{};
  labels.as_object()["controller-revision-hash"] = revision;
  labels.as_object()["statefulset.kubernetes.io/pod-name"] = base + "-" + std::to_string(i);
  labels.as_object()["apps.kubernetes.io/pod-index"] = std::to_string(i);
  pod["spec"].as_object()["hostname"] = base + "-" + std::to_string(i);
  return pod;
}

// Creates the missing ordinals below `replicas`: all at once (Parallel) or
// each once every lower one is Ready (OrderedReady). True when every pod
// below `replicas` exists, is not terminating and is Ready.
bool create_missing(ControllerContext& ctx, const json::object& sts, PodsByOrdinal& by_ordinal,
                    std::int64_t replicas, const std::string& revision) {
  const std::string base(name(sts));
  const bool parallel = str(spec(sts), "podManagementPolicy") == "Parallel";
  bool all_ready = true;
  for (std::int64_t i = 0; i < replicas; ++i) {
    auto it = by_ordinal.find(i);
    if (it == by_ordinal.end()) {
      if (!parallel && !all_ready)
        break;
      if (auto created = ctx.create(ctx.pods, ordinal_pod(sts, base, i, revision)))
        by_ordinal[i] = *created;
      all_ready = false;
      continue;
    }
    if (deleting(*it->second) || !pod_ready(*it->second))
      all_ready = false;
  }
  return all_ready;
}

// RollingUpdate from the highest outdated ordinal, one pod at a time once all
// are Ready; then the status.
void roll_and_write_status(ControllerContext& ctx, const json::object& sts,
                           const PodsByOrdinal& by_ordinal, std::int64_t replicas,
                           const std::string& revision, bool all_ready) {
  std::int64_t ready = 0, updated = 0, current = 0, live = 0;
  ObjectPtr to_update;
  for (auto& [i, p] : by_ordinal) {
    if (i >= replicas || deleting(*p))
      continue;
    ++live;
    if (pod_ready(*p))
      ++ready;
    if (label(*p, "controller-revision-hash") == revision)
      ++updated;
    else
      to_update = p;  // the highest outdated ordinal
  }
  const auto* strategy = obj(spec(sts), "updateStrategy");
  if (to_update && str(strategy, "type") != "OnDelete" && all_ready)
    ctx.delete_pod(*to_update);
  current = updated;
  json::object st{{"observedGeneration", generation_of(sts)},
                  {"replicas", live},
                  {"readyReplicas", ready},
                  {"availableReplicas", ready},
                  {"currentReplicas", current},
                  {"updatedReplicas", updated},
                  {"currentRevision",
                   updated == live ? revision : std::string(str(status(sts), "currentRevision"))},
                  {"updateRevision", revision},
                  {"collisionCount", 0}};
  if (str(status(sts), "currentRevision").empty())
    st["currentRevision"] = revision;
  json::object next = sts;
  next["status"] = std::move(st);
  (void)ctx.store.update_status(ctx.statefulsets, std::move(next));
}

}  // namespace

void StatefulSetController::sync(const std::string& k) {
  auto sts = ctx_.store.get(ctx_.statefulsets, k);
  auto pods = pods_.get(ctx_.store, ctx_.pods, k);
  if (!sts) {
    for (auto& p : pods)
      ctx_.delete_pod(*p);
    return;
  }
  const std::string base(name(*sts));
  const auto replicas = integer(spec(*sts), "replicas", 1);
  const auto* tmpl = obj(spec(*sts), "template");
  const auto revision = base + "-" + template_hash(tmpl ? json::value(*tmpl) : json::value());
  PodsByOrdinal by_ordinal;
  for (auto& p : pods) {
    const auto n = name(*p);
    if (n.size() > base.size() + 1 && n.substr(0, base.size() + 1) == base + "-")
      by_ordinal[std::atoll(std::string(n.substr(base.size() + 1)).c_str())] = p;
  }
  // Scale down from the highest ordinal.
  for (auto it = by_ordinal.rbegin(); it != by_ordinal.rend(); ++it)
    if (it->first >= replicas && !deleting(*it->second))
      ctx_.delete_pod(*it->second);
  const bool all_ready = create_missing(ctx_, *sts, by_ordinal, replicas, revision);
  roll_and_write_status(ctx_, *sts, by_ordinal, replicas, revision, all_ready);
}

}  // namespace cnimig::sim
