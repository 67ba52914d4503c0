// next_actions for a rollback (src/migrate/README.md "Rollback"): refuse
// past the point of no return, take over the nodes a migration left in
// flight, advance the nodes in a reverse step, start new ones in the reverse
// of the forward order within the budget and behind a gate, then (whole
// cluster only) restore what prepare changed.

#include <algorithm>

#include "rollback.hpp"

namespace cnimig::migrate::detail {
namespace {

bool has_any(const MigrationSettings& s, const NodeState& node,
             std::initializer_list<std::string_view> annotations) {
  for (auto name : annotations) {
    if (s.find_annotation(node.annotations, name) != nullptr)
      return true;
  }
  return false;
}

bool on_cilium(const MigrationSettings& s, const NodeState& node) {
  const auto& l = s.labels;
  return node.labels.contains(l.cilium) || node.labels.contains(l.migrated) ||
         has_any(s, node, {annotation_names::kMigrate, annotation_names::kRollbackMigrate});
}

bool cilium_first(const MigrationSettings& s, const NodeState& node) {
  return on_cilium(s, node) || node.labels.contains(s.labels.cni_priority_cilium) ||
         has_any(s, node, {annotation_names::kPriority, annotation_names::kRollbackPriority});
}

// A node a migration left in a forward step: the reverse step it moves into
// (its annotations handed over in one write: it is in flight already, and
// its cordon and was-cordoned stay as they are). In a rollback of some
// nodes, a node in the roll step is given back instead (the roll changed
// nothing such a rollback reverses).
void take_over(const Context& ctx, const NodeState& node, StepOutcome& out) {
  const auto& s = ctx.settings;
  struct Handover {
    std::string_view from, from_before;
    const NodeStep* to;
  };
  const Handover handovers[] = {
      {annotation_names::kMigrate, annotation_names::kMigratePodsBefore, &unmigrate_step()},
      {annotation_names::kPriority, annotation_names::kPriorityPodsBefore, &unprioritise_step()},
      {annotation_names::kRoll, annotation_names::kRollPodsBefore, &unroll_step()}};
  for (const auto& h : handovers) {
    if (s.find_annotation(node.annotations, h.from) == nullptr)
      continue;
    AnnotateNode a{node.name, {}, {s.annotation(h.from), s.annotation(h.from_before)}};
    if (h.to == &unroll_step() && !ctx.selection.nodes.empty()) {
      a.remove.push_back(s.annotation(annotation_names::kDrainSince));
      out.write(h.to->step, node.name, std::move(a));
      if (node.unschedulable && !ctx.was_cordoned(node))
        out.write(h.to->step, node.name, SetCordon{node.name, false});
      return;
    }
    a.set.emplace(s.annotation(h.to->stage_key), std::string(stage::kStarted));
    out.write(h.to->step, node.name, std::move(a));
    return;
  }
}

// The nodes a reverse step may start: selected, at its waiting phase (the
// forward steps' done phases), and allowed by the cluster-wide order.
const NodeStep* next_reverse_step(const Context& ctx, std::set<std::string>& candidates) {
  const auto pick = [&](const std::set<std::string>& nodes) {
    for_each_selected(ctx.selection, nodes, [&](const std::string& n) {
      candidates.insert(n);
      return true;
    });
    return !candidates.empty();
  };
  if (pick(ctx.nodes.in_phase(NodePhase::migrated)))
    return &unmigrate_step();
  if (any_on_cilium(ctx))
    return nullptr;
  if (pick(ctx.nodes.in_phase(NodePhase::prioritised)))
    return &unprioritise_step();
  // Off multus only in a rollback of the whole cluster: what is left of the
  // migration on a node then is what the restore removes.
  if (!ctx.selection.nodes.empty() || any_cilium_first(ctx))
    return nullptr;
  pick(ctx.nodes.in_phase(NodePhase::rolled));
  pick(ctx.nodes.in_phase(NodePhase::prepared));
  return candidates.empty() ? nullptr : &unroll_step();
}

// A selected node a migration left in one of its steps: to be taken over.
bool in_forward_step(const Context& ctx, const NodeState& node) {
  return ctx.selection.includes_node(node.name) &&
         has_any(
             ctx.settings, node,
             {annotation_names::kMigrate, annotation_names::kPriority, annotation_names::kRoll});
}

StepOutcome rollback_nodes(const Context& ctx, StepId& current) {
  StepOutcome out;
  InFlight in_flight;
  for (const auto& [name, node] : ctx.snap.nodes) {
    if (in_forward_step(ctx, node)) {
      if (!ctx.failed)
        take_over(ctx, node, out);
      ++in_flight.nodes;
      continue;
    }
    const auto* step = reverse_step_of(ctx.settings, node);
    if (step == nullptr)
      continue;
    current = step->step;
    advance_node(ctx, *step, node, in_flight, out);
  }
  std::set<std::string> candidates;
  if (const auto* step = next_reverse_step(ctx, candidates)) {
    if (in_flight.nodes == 0)
      current = step->step;
    start_nodes(ctx, step->step, candidates, step->stage_key, in_flight, out,
                [&](const NodeState& node, StepOutcome& o) { step->start(ctx, *step, node, o); });
  }
  return out;
}

// Nothing selected is left to reverse (the restore aside).
bool nodes_done(const Context& ctx, const StepOutcome& out) {
  if (out.busy())
    return false;
  for (const auto& [name, node] : ctx.snap.nodes) {
    if (reverse_step_of(ctx.settings, node) != nullptr || in_forward_step(ctx, node))
      return false;
  }
  std::set<std::string> candidates;
  return next_reverse_step(ctx, candidates) == nullptr;
}

std::optional<std::string> refusal(const Context& ctx) {
  const auto& s = ctx.settings;
  if (ctx.cleanup_started()) {
    return "cleanup has started (" + s.cilium_migrated().describe() +
           " selects every node, the source CNI is being deleted): past the point of no "
           "return, a rollback is no longer possible";
  }
  for (const auto& [name, node] : ctx.snap.nodes) {
    if (s.find_annotation(node.annotations, annotation_names::kJoin) != nullptr) {
      return "node " + name +
             " is joining the migration: run the migration until its join ends, then roll back";
    }
  }
  return std::nullopt;
}

}  // namespace

bool any_on_cilium(const Context& ctx) {
  return std::any_of(ctx.snap.nodes.begin(), ctx.snap.nodes.end(),
                     [&](const auto& n) { return on_cilium(ctx.settings, n.second); });
}

bool any_cilium_first(const Context& ctx) {
  return std::any_of(ctx.snap.nodes.begin(), ctx.snap.nodes.end(),
                     [&](const auto& n) { return cilium_first(ctx.settings, n.second); });
}

void decide_rollback(Decision& d, const Context& ctx) {
  d.steps.fill(StepState::not_selected);
  if (auto why = refusal(ctx)) {
    d.next = Halt{StepId::cleanup, std::move(*why)};
    return;
  }
  StepId current = StepId::prepare;
  StepOutcome out;
  // Nothing the migration did is left to undo (a rerun, or no migration):
  // done, without the check a first write needs.
  if (ctx.run.write_generation == 0 && nodes_done(ctx, out) &&
      (!ctx.selection.nodes.empty() || restore_done(ctx))) {
    d.next = Done{StepId::prepare};
    return;
  }
  // No write before a connectivity check has passed in this run.
  if (!ctx.checked_this_run && !ctx.failed) {
    std::vector<std::string> pending;
    if (preflight_resources_ready(ctx, &pending)) {
      out.wants_check = true;
    } else {
      out.wait(StepId::preflight, "", Gate::resources_ready, std::move(pending));
    }
    finish(d, ctx, StepId::preflight, std::move(out), true);
    return;
  }
  out = rollback_nodes(ctx, current);
  if (nodes_done(ctx, out) && ctx.selection.nodes.empty() && !restore_done(ctx)) {
    current = StepId::prepare;
    out = run_restore(ctx);
  }
  if (nodes_done(ctx, out) &&
      (!ctx.selection.nodes.empty() || restore_done(ctx))) {
    // Done once a check has passed since this run's last write.
    if (ctx.run.write_generation > 0 && !ctx.check_current)
      out.wants_check = true;
    else
      out.scope_complete = true;
  }
  d.current_step = current;
  finish(d, ctx, current, std::move(out), true);
}

}  // namespace cnimig::migrate::detail

namespace cnimig::migrate {

bool past_point_of_no_return(const ClusterSnapshot& snapshot, const MigrationSettings& settings) {
  return detail::cleanup_started(snapshot, settings);
}

}  // namespace cnimig::migrate
