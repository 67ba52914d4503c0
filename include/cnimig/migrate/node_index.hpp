#pragma once
// What the core derives from each node (its phase and the per-node
// predicates the steps scan for), kept between calls so that a call costs
// what changed since the last one rather than the whole cluster. The caller
// says which nodes changed (the agent's cache from its watch events, plan
// mode from the effects model); the index re-derives those, and every node
// when a fact all phases read changed. It remembers nothing the snapshot
// does not show: a fresh index on the same snapshot derives the same facts
// (the property test/migrate/node_index_test.cpp checks after every round).

#include <array>
#include <map>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include "cnimig/migrate/cluster_snapshot.hpp"
#include "cnimig/migrate/migration_settings.hpp"
#include "cnimig/migrate/node_phase.hpp"
#include "cnimig/migrate/step_id.hpp"

namespace cnimig::migrate {

// The nodes whose labels, annotations, taints, cordon or pods may have
// changed (or that appeared or went) since they were last taken.
struct TouchedNodes {
  bool all = false;
  std::set<std::string> nodes;

  static TouchedNodes everything() { return TouchedNodes{true, {}}; }
  void touch(const std::string& node) {
    if (!all)
      nodes.insert(node);
  }
  bool empty() const noexcept { return !all && nodes.empty(); }
};

class NodeIndex {
 public:
  // One node's derived facts.
  struct Facts {
    NodePhase phase = NodePhase::unprepared;
    bool joining = false;   // a join phase: the steps leave it alone
    bool prepared = false;  // carries what prepare labels (or what replaced it)
    bool clean = true;      // no migration label, none of our annotations
    bool unschedulable = false;
    bool refuses = false;  // holds pods a drain may not lose (refused_pods)
    // Per step (roll, priority, migrate; indexed by StepId): done with the
    // node, and the step's progress annotation present.
    std::array<bool, kAllSteps.size()> done{};
    std::array<bool, kAllSteps.size()> in_step{};
    friend bool operator==(const Facts&, const Facts&) = default;
  };

  void touch(const std::string& node) { touched_.touch(node); }
  void touch(const TouchedNodes& touched);
  void touch_all() { touched_ = TouchedNodes::everything(); }

  // Re-derives the touched nodes from `snapshot`: every node on the first
  // call, after touch_all(), with another settings object, or once a fact
  // every phase reads has changed (cleanup started; the source CNI's node
  // selector). `settings` must not change in place between calls.
  void refresh(const ClusterSnapshot& snapshot, const MigrationSettings& settings);

  const std::map<std::string, NodePhase>& phases() const noexcept { return phases_; }
  // The nodes whose phase was derived anew (added, or changed) since the
  // last call, in name order: what a reader that mirrors the phases (the
  // driver's node.phase events) must look at, rather than every node.
  std::set<std::string> take_phase_changes() { return std::exchange(phase_changes_, {}); }
  // Node names by phase (phases without nodes absent).
  const std::map<NodePhase, std::set<std::string>>& by_phase() const noexcept { return by_phase_; }
  // The phases, moved out (the index is spent).
  std::map<std::string, NodePhase> release_phases() && { return std::move(phases_); }
  NodePhase phase(const std::string& node) const { return phases_.at(node); }
  const Facts& facts(const std::string& node) const { return facts_.at(node); }

  // Node names, in name order.
  const std::set<std::string>& in_phase(NodePhase phase) const;
  const std::set<std::string>& joining() const noexcept { return joining_; }
  // Neither joining nor prepared.
  const std::set<std::string>& unprepared() const noexcept { return unprepared_; }
  // Neither joining nor done with per-node step `step`.
  const std::set<std::string>& not_done(StepId step) const {
    return not_done_[static_cast<std::size_t>(step)];
  }
  // The step's progress annotation is present.
  const std::set<std::string>& in_step(StepId step) const {
    return in_step_[static_cast<std::size_t>(step)];
  }
  const std::set<std::string>& unclean() const noexcept { return unclean_; }
  const std::set<std::string>& unschedulable() const noexcept { return unschedulable_; }
  const std::set<std::string>& refusing() const noexcept { return refusing_; }

  // Same facts and sets (what was derived, not what is pending).
  friend bool operator==(const NodeIndex& a, const NodeIndex& b);

 private:
  // The facts every node's phase reads besides the node itself.
  struct Global {
    bool cleanup_started = false;
    bool source_selects_prepared = false;
    friend bool operator==(const Global&, const Global&) = default;
  };

  void place(const std::string& name, const Facts& facts);
  void forget(const std::string& name);
  void clear();

  TouchedNodes touched_ = TouchedNodes::everything();
  const MigrationSettings* settings_ = nullptr;
  std::optional<Global> global_;
  std::map<std::string, Facts> facts_;
  std::map<std::string, NodePhase> phases_;
  std::map<NodePhase, std::set<std::string>> by_phase_;
  std::set<std::string> joining_;
  std::set<std::string> unprepared_;
  std::array<std::set<std::string>, kAllSteps.size()> not_done_;
  std::array<std::set<std::string>, kAllSteps.size()> in_step_;
  std::set<std::string> unclean_;
  std::set<std::string> unschedulable_;
  std::set<std::string> refusing_;
  std::set<std::string> phase_changes_;  // pending for take_phase_changes(), not a derived fact
};

}  // namespace cnimig::migrate
