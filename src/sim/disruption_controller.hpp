#pragma once
// Disruption controller: keeps every PodDisruptionBudget's status
// (expectedPods, currentHealthy, desiredHealthy, disruptionsAllowed,
// observedGeneration, DisruptionAllowed condition) current; the API layer's
// eviction answers 429 from it. The blocking-pdb fault pins one at 0.
// Membership is maintained per pod change (selectors parsed once), so a pass
// costs O(changed PDBs x their owners), not O(pods in the namespace).

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "cnimig/wire/label_selector.hpp"

#include "controller_context.hpp"
#include "makespan_bound.hpp"

namespace cnimig::sim {

class DisruptionController {
 public:
  explicit DisruptionController(ControllerContext& ctx) : ctx_(ctx) {}
  void observe(const Change& change);
  bool pending() const { return !dirty_.empty(); }
  void reconcile();
  // Each budget's limit as its last synced status gives it (the makespan
  // bound's budget term).
  std::vector<BudgetLimit> limits() const;
  // Recompute one PDB's status ("ns/name") on the next pass (the blocking-pdb
  // fault changed).
  void resync(const std::string& key) { dirty_.insert(key); }

 private:
  struct Member {
    bool healthy;
    std::string owner_kind;  // ReplicaSet / StatefulSet, or "" (counted itself)
    std::string owner_name;
  };
  struct Budget {
    wire::LabelSelector selector;
    std::map<std::string, Member> members;  // pod name
    std::int64_t healthy = 0;
    // What expectedPods counts, kept per change so a sync costs O(owners),
    // not O(members) (the `worker` budget holds a fifth of the cluster's pods
    // and is synced on every change of one of them).
    std::map<std::pair<std::string, std::string>, std::int64_t> owners;  // (kind, name) -> members
    std::int64_t unowned = 0;  // members counted themselves
  };
  void track(Budget& budget, const std::string& pod_name, const boost::json::object* pod);
  void sync(const std::string& key);
  ControllerContext& ctx_;
  std::set<std::string> dirty_;                                   // PDB ns/name
  std::map<std::string, std::map<std::string, Budget>> budgets_;  // ns -> name -> budget
};

}  // namespace cnimig::sim
