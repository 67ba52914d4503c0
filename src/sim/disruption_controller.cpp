#include "disruption_controller.hpp"

#include <map>

#include "cnimig/sim/label_selector.hpp"
#include "cnimig/sim/workload_status.hpp"

namespace cnimig::sim {

namespace json = boost::json;
using namespace fields;

void DisruptionController::observe(const Change& change) {
  const auto& any = change.object ? *change.object : *change.old_object;
  if (change.resource == &ctx_.pdbs) {
    with_pdbs_.insert(std::string(ns(any)));
    dirty_.insert(std::string(ns(any)));
  } else if (change.resource == &ctx_.pods) {
    std::string n(ns(any));
    if (with_pdbs_.count(n))
      dirty_.insert(std::move(n));
  }
}

void DisruptionController::reconcile() {
  auto dirty = std::move(dirty_);
  dirty_.clear();
  for (const auto& n : dirty)
    sync_namespace(n);
}

void DisruptionController::sync_namespace(const std::string& namespace_name) {
  const auto pdbs = ctx_.store.list(ctx_.pdbs, namespace_name);
  if (pdbs.empty()) {
    with_pdbs_.erase(namespace_name);
    return;
  }
  const auto pods = ctx_.store.list(ctx_.pods, namespace_name);
  const auto blocking = ctx_.options.faults.find("blocking-pdb");
  for (const auto& pdb : pdbs) {
    const json::object empty;
    const auto* sel_json = obj(spec(*pdb), "selector");
    auto selector = LabelSelector::from_json(sel_json ? *sel_json : empty);
    if (!selector)
      continue;
    PdbCounts counts;
    std::map<std::string, std::int64_t> scale_by_owner;  // controller uid -> replicas
    for (const auto& p : pods) {
      if (!selector->matches(obj(meta(*p), "labels")))
        continue;
      if (pod_ready(*p) && !deleting(*p))
        ++counts.current_healthy;
      const auto* ref = controller_ref(*p);
      const auto kind = str(ref, "kind");
      if (kind == "ReplicaSet" || kind == "StatefulSet") {
        const auto owner_uid = std::string(str(ref, "uid"));
        if (!scale_by_owner.count(owner_uid)) {
          const auto& type = kind == "ReplicaSet" ? ctx_.replicasets : ctx_.statefulsets;
          auto owner = ctx_.store.get(type, namespace_name, str(ref, "name"));
          scale_by_owner[owner_uid] = owner ? integer(spec(*owner), "replicas", 1) : 0;
        }
      } else if (!deleting(*p)) {
        ++counts.expected_pods;  // no scale subresource: count the pods themselves
      }
    }
    for (const auto& [o, replicas] : scale_by_owner)
      counts.expected_pods += replicas;
    const bool blocked = blocking != ctx_.options.faults.end() && blocking->second == key(*pdb);
    json::object next = *pdb;
    auto st = pdb_status(*pdb, counts, blocked);
    // The API layer's evictions record disruptedPods; keep them.
    if (const auto* old = status(*pdb); old && old->contains("disruptedPods"))
      st["disruptedPods"] = old->at("disruptedPods");
    next["status"] = std::move(st);
    (void)ctx_.store.update_status(ctx_.pdbs, std::move(next));
  }
}

}  // namespace cnimig::sim
