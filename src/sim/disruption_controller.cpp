#include "disruption_controller.hpp"

#include <algorithm>
#include <chrono>

#include "cnimig/common/rfc3339.hpp"
#include "cnimig/wire/object_key.hpp"

#include "workload_status.hpp"

namespace cnimig::sim {

namespace json = boost::json;
using namespace fields;

namespace {

// Kubernetes' disruption controller (buildDisruptedPodMap) keeps a pod in
// status.disruptedPods only while the pod exists, is not being deleted and
// was evicted less than DeletionTimeout (2 minutes) ago. Kept whole, the map
// grew with every eviction, and so did every write of the budget and every
// copy of it in the watch history: a 500-node migration took the simulator
// past 20 GB.
json::object still_disrupted(const ObjectStore& store, const ResourceType& pods,
                             const std::string& ns, const json::value& recorded) {
  json::object out;
  if (!recorded.is_object())
    return out;
  const auto now = std::chrono::system_clock::now();
  for (const auto& [pod_name, at] : recorded.get_object()) {
    const auto pod = store.get(pods, ns, pod_name);
    if (!pod || deleting(*pod))
      continue;
    const auto evicted = at.is_string() ? parse_rfc3339(at.get_string()) : std::nullopt;
    if (evicted && now - *evicted > std::chrono::minutes(2))
      continue;
    out.emplace(pod_name, at);
  }
  return out;
}

}  // namespace

void DisruptionController::track(Budget& b, const std::string& pod_name, const json::object* pod) {
  if (auto it = b.members.find(pod_name); it != b.members.end()) {
    b.healthy -= it->second.healthy;
    if (it->second.owner_kind.empty()) {
      --b.unowned;
    } else {
      const std::pair owner{it->second.owner_kind, it->second.owner_name};
      if (--b.owners[owner] == 0)
        b.owners.erase(owner);
    }
    b.members.erase(it);
  }
  if (!pod || !b.selector.matches(obj(meta(*pod), "labels")))
    return;
  Member m{pod_ready(*pod) && !deleting(*pod), {}, {}};
  const auto* ref = controller_ref(*pod);
  const auto kind = str(ref, "kind");
  if (kind == "ReplicaSet" || kind == "StatefulSet") {
    m.owner_kind = std::string(kind);
    m.owner_name = std::string(str(ref, "name"));
  } else if (deleting(*pod)) {
    return;  // no scale to consult: a terminating pod is no longer expected
  }
  b.healthy += m.healthy;
  if (m.owner_kind.empty())
    ++b.unowned;
  else
    ++b.owners[{m.owner_kind, m.owner_name}];
  b.members.emplace(pod_name, std::move(m));
}

void DisruptionController::observe(const Change& change) {
  const auto& any = change.object ? *change.object : *change.old_object;
  const std::string n(ns(any));
  if (change.resource == &ctx_.pdbs) {
    const std::string pdb_name(name(any));
    if (change.type == ChangeType::deleted) {
      budgets_[n].erase(pdb_name);
      return;
    }
    const bool selector_changed =
        !change.old_object ||
        json::value(obj(spec(*change.old_object), "selector")
                        ? *obj(spec(*change.old_object), "selector")
                        : json::object{}) !=
            json::value(obj(spec(any), "selector") ? *obj(spec(any), "selector") : json::object{});
    if (selector_changed) {
      const json::object empty;
      auto sel = wire::LabelSelector::from_json(
          obj(spec(any), "selector") ? *obj(spec(any), "selector") : empty);
      if (!sel)
        return;
      Budget b{std::move(*sel), {}, 0, {}, 0};
      for (const auto& p : ctx_.store.list(ctx_.pods, n))
        track(b, std::string(name(*p)), p.get());
      budgets_[n][pdb_name] = std::move(b);
    }
    // Our own status writes change nothing we compute from.
    if (change.type != ChangeType::modified ||
        generation_of(*change.old_object) != generation_of(any) || selector_changed)
      dirty_.insert(n + "/" + pdb_name);
    return;
  }
  if (change.resource != &ctx_.pods && change.resource != &ctx_.replicasets &&
      change.resource != &ctx_.statefulsets)
    return;
  auto it = budgets_.find(n);
  if (it == budgets_.end())
    return;
  if (change.resource != &ctx_.pods) {
    // A scale change moves expectedPods.
    const std::pair owner{
        std::string(change.resource == &ctx_.replicasets ? "ReplicaSet" : "StatefulSet"),
        std::string(name(any))};
    for (auto& [pdb_name, b] : it->second)
      if (b.owners.count(owner))
        dirty_.insert(n + "/" + pdb_name);
    return;
  }
  const std::string pod_name(name(any));
  const json::object* after = change.type == ChangeType::deleted ? nullptr : change.object.get();
  for (auto& [pdb_name, b] : it->second) {
    const auto before_healthy = b.healthy;
    const auto before_size = b.members.size();
    const bool was_member = b.members.count(pod_name) > 0;
    track(b, pod_name, after);
    if (b.healthy != before_healthy || b.members.size() != before_size || was_member)
      dirty_.insert(n + "/" + pdb_name);
  }
}

void DisruptionController::reconcile() {
  auto dirty = std::move(dirty_);
  dirty_.clear();
  for (const auto& k : dirty)
    sync(k);
}

void DisruptionController::sync(const std::string& k) {
  const auto parts = wire::split_object_key(k);
  const std::string n(parts.namespace_), pdb_name(parts.name);
  auto pdb = ctx_.store.get(ctx_.pdbs, n, pdb_name);
  auto bit = budgets_.find(n);
  if (!pdb || bit == budgets_.end() || !bit->second.count(pdb_name))
    return;
  const auto& b = bit->second.at(pdb_name);
  PdbCounts counts;
  counts.current_healthy = b.healthy;
  counts.expected_pods = b.unowned;
  for (const auto& members_of : b.owners) {
    const auto& [kind, owner] = members_of.first;
    auto o = ctx_.store.get(kind == "ReplicaSet" ? ctx_.replicasets : ctx_.statefulsets, n, owner);
    counts.expected_pods += o ? integer(spec(*o), "replicas", 1) : 0;
  }
  const auto blocking = ctx_.options.faults.find("blocking-pdb");
  const bool blocked = blocking != ctx_.options.faults.end() && blocking->second == k;
  json::object next = *pdb;
  auto st = pdb_status(*pdb, counts, blocked);
  // The API layer's evictions record disruptedPods; keep those still pending.
  if (const auto* old = status(*pdb); old && old->contains("disruptedPods")) {
    if (auto kept = still_disrupted(ctx_.store, ctx_.pods, n, old->at("disruptedPods"));
        !kept.empty())
      st["disruptedPods"] = std::move(kept);
  }
  next["status"] = std::move(st);
  (void)ctx_.store.update_status(ctx_.pdbs, std::move(next));
}

std::vector<BudgetLimit> DisruptionController::limits() const {
  std::vector<BudgetLimit> out;
  for (const auto& [n, of_namespace] : budgets_) {
    for (const auto& [pdb_name, b] : of_namespace) {
      auto pdb = ctx_.store.get(ctx_.pdbs, n, pdb_name);
      const auto* st = pdb ? status(*pdb) : nullptr;
      if (st == nullptr)
        continue;  // not synced yet
      BudgetLimit limit;
      limit.name = n + "/" + pdb_name;
      limit.pods = integer(st, "expectedPods", 0);
      limit.allowed = limit.pods - integer(st, "desiredHealthy", 0);
      limit.stateful = std::any_of(b.owners.begin(), b.owners.end(),
                                   [](const auto& o) { return o.first.first == "StatefulSet"; });
      out.push_back(std::move(limit));
    }
  }
  return out;
}

}  // namespace cnimig::sim
