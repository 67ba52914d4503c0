// Each node's derived facts, re-derived only for the nodes touched since the
// last refresh (node_index.hpp).

#include "cnimig/migrate/node_index.hpp"

#include <algorithm>

#include "node_step.hpp"

namespace cnimig::migrate {
namespace {

bool refuses(const MigrationSettings& s, const NodeState& node) {
  return std::any_of(node.pods.begin(), node.pods.end(),
                     [&](const PodState& p) { return detail::refusal(s, p).has_value(); });
}

NodeIndex::Facts derive(const NodeState& node, const ClusterSnapshot& snap,
                        const MigrationSettings& s) {
  NodeIndex::Facts f;
  f.phase = node_phase(node, snap, s);
  f.joining = detail::is_join_phase(f.phase);
  // cilium-native prepares no node: its per-node step takes each from the start.
  f.prepared = s.native() || detail::node_prepared(s, node);
  f.clean = detail::node_clean(s, node);
  f.unschedulable = node.unschedulable;
  f.refuses = refuses(s, node);
  // A step the strategy does not have is done on every node.
  f.done.fill(true);
  for (const auto* step : detail::node_steps(s)) {
    const auto i = static_cast<std::size_t>(step->step);
    f.done[i] = step->node_done(s, node);
    f.in_step[i] = s.find_annotation(node.annotations, step->stage_key) != nullptr;
  }
  return f;
}

void set_member(std::set<std::string>& set, const std::string& name, bool member) {
  if (member) {
    set.insert(name);
  } else {
    set.erase(name);
  }
}

}  // namespace

void NodeIndex::touch(const TouchedNodes& touched) {
  if (touched.all) {
    touch_all();
    return;
  }
  for (const auto& name : touched.nodes)
    touched_.touch(name);
}

const std::set<std::string>& NodeIndex::in_phase(NodePhase phase) const {
  static const std::set<std::string> none;
  auto it = by_phase_.find(phase);
  return it == by_phase_.end() ? none : it->second;
}

void NodeIndex::refresh(const ClusterSnapshot& snap, const MigrationSettings& s) {
  const Global global{detail::cleanup_started(snap, s), detail::source_cni_patched(snap, s)};
  if (settings_ != &s || global_ != global) {
    settings_ = &s;
    global_ = global;
    touch_all();
  }
  if (touched_.all) {
    clear();
    for (const auto& [name, node] : snap.nodes)
      place(name, derive(node, snap, s));
  } else {
    for (const auto& name : touched_.nodes) {
      auto it = snap.nodes.find(name);
      if (it == snap.nodes.end()) {
        forget(name);  // the node went
      } else {
        place(name, derive(it->second, snap, s));
      }
    }
  }
  touched_ = TouchedNodes{};
}

void NodeIndex::place(const std::string& name, const Facts& f) {
  auto [it, added] = facts_.try_emplace(name, f);
  if (!added) {
    if (it->second == f)
      return;
    if (it->second.phase != f.phase) {
      phase_changes_.insert(name);
      auto& old = by_phase_[it->second.phase];
      old.erase(name);
      if (old.empty())
        by_phase_.erase(it->second.phase);
    }
    it->second = f;
  } else {
    phase_changes_.insert(name);
  }
  phases_[name] = f.phase;
  by_phase_[f.phase].insert(name);
  set_member(joining_, name, f.joining);
  set_member(unprepared_, name, !f.joining && !f.prepared);
  for (StepId step : {StepId::roll, StepId::priority, StepId::migrate}) {
    const auto i = static_cast<std::size_t>(step);
    set_member(not_done_[i], name, !f.joining && !f.done[i]);
    set_member(in_step_[i], name, f.in_step[i]);
  }
  set_member(unclean_, name, !f.clean);
  set_member(unschedulable_, name, f.unschedulable);
  set_member(refusing_, name, f.refuses);
}

void NodeIndex::forget(const std::string& name) {
  auto it = facts_.find(name);
  if (it == facts_.end())
    return;
  auto& old = by_phase_[it->second.phase];
  old.erase(name);
  if (old.empty())
    by_phase_.erase(it->second.phase);
  facts_.erase(it);
  phases_.erase(name);
  for (auto* set : {&joining_, &unprepared_, &unclean_, &unschedulable_, &refusing_})
    set->erase(name);
  for (auto& set : not_done_)
    set.erase(name);
  for (auto& set : in_step_)
    set.erase(name);
}

void NodeIndex::clear() {
  facts_.clear();
  phases_.clear();
  by_phase_.clear();
  for (auto* set : {&joining_, &unprepared_, &unclean_, &unschedulable_, &refusing_})
    set->clear();
  for (auto& set : not_done_)
    set.clear();
  for (auto& set : in_step_)
    set.clear();
}

bool operator==(const NodeIndex& a, const NodeIndex& b) {
  return a.facts_ == b.facts_ && a.phases_ == b.phases_ && a.by_phase_ == b.by_phase_ &&
         a.joining_ == b.joining_ && a.unprepared_ == b.unprepared_ && a.not_done_ == b.not_done_ &&
         a.in_step_ == b.in_step_ && a.unclean_ == b.unclean_ &&
         a.unschedulable_ == b.unschedulable_ && a.refusing_ == b.refusing_;
}

}  // namespace cnimig::migrate
