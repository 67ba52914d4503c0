// next_actions: find the first step that is not done, let its file say what
// to do, then turn "nothing to write" into a connectivity check, a wait, a
// Halt or Done.

#include "cnimig/migrate/planner.hpp"

#include <algorithm>
#include <set>

#include "node_roll.hpp"
#include "node_step.hpp"
#include "rollback.hpp"

namespace cnimig::migrate {
namespace {

using detail::Context;
using detail::StepOutcome;

bool done(StepId step, const Context& ctx) {
  // A step the strategy does not have is done (cilium-native's roll and
  // priority: the plan shows them skipped).
  if (!config::has_step(ctx.settings.strategy, step))
    return true;
  switch (step) {
    case StepId::preflight:
      return detail::preflight_done(ctx);
    case StepId::prepare:
      return detail::prepare_done(ctx);
    case StepId::roll:
      return detail::node_step_done(ctx, detail::roll_step());
    case StepId::priority:
      return detail::node_step_done(ctx, detail::priority_step());
    case StepId::migrate:
      return detail::node_step_done(ctx, *detail::node_steps(ctx.settings).back());
    case StepId::cleanup:
      return detail::cleanup_done(ctx);
  }
  return false;
}

StepOutcome run(StepId step, const Context& ctx) {
  switch (step) {
    case StepId::preflight:
      return detail::run_preflight(ctx, ctx.selection.includes(step));
    case StepId::prepare:
      return detail::run_prepare(ctx);
    case StepId::roll:
      if (ctx.settings.skip_roll_for_tests)
        return detail::skip_roll_for_tests(ctx);
      return detail::run_node_step(ctx, detail::roll_step());
    case StepId::priority:
      return detail::run_node_step(ctx, detail::priority_step());
    case StepId::migrate:
      return detail::run_node_step(ctx, *detail::node_steps(ctx.settings).back());
    case StepId::cleanup:
      return detail::run_cleanup(ctx);
  }
  return {};
}

void halt(Decision& d, StepId step, std::string reason) {
  d.next = Halt{step, std::move(reason)};
}

// The writes being built (a Decision starts as an empty Actions).
std::vector<Action>& writes(Decision& d) {
  return std::get<Actions>(d.next).writes;
}

// The check a node's gate asks for: full unless sampling is configured;
// sampled, it names the nodes that asked and every node written since a
// passing check proved it (unproved_nodes()): a node's writes are proved by
// a check that probed it, and a changed node's pods also prove the
// exchanges of every peer with it, in both directions.
RunConnectivityCheck sampled_check(const Context& ctx, StepId step, const StepOutcome& out) {
  RunConnectivityCheck check;
  if (!ctx.settings.check_sample_nodes || out.check_nodes.empty())
    return check;
  std::set<std::string> nodes(out.check_nodes.begin(), out.check_nodes.end());
  // Every node the step has left waits at this gate: the check that ends
  // the step is full.
  const auto& rest = ctx.nodes.not_done(step);
  if (std::all_of(rest.begin(), rest.end(), [&](const auto& n) { return nodes.contains(n); }))
    return check;
  for (auto& node : unproved_nodes(ctx.run))
    nodes.insert(std::move(node));
  check.nodes.assign(nodes.begin(), nodes.end());
  check.sample = *ctx.settings.check_sample_nodes;
  return check;
}

// A node's gate: one check serves every node whose writes were done when it
// started, so it may run beside other nodes' writes (they are unsettled for
// it, check_starting()). A cluster-wide write in flight would leave it
// serving no one.
void add_node_check(Decision& d, const Context& ctx, StepId step, const StepOutcome& out) {
  const bool cluster_write = std::any_of(writes(d).begin(), writes(d).end(), [](const Action& a) {
    return a.node.empty() && is_write(a);
  });
  if (ctx.check_in_flight) {
    d.waits.push_back(Action{step, "", WaitFor{Gate::connectivity_check, {}}});
  } else if (ctx.cluster_writes_in_flight || cluster_write) {
    d.waits.push_back(Action{step, "", WaitFor{Gate::writes_in_flight, {}}});
  } else {
    writes(d).push_back(Action{step, "", sampled_check(ctx, step, out)});
  }
}

}  // namespace

namespace detail {

void finish(Decision& d, const Context& ctx, StepId step, StepOutcome out, bool last_selected) {
  if (out.halt) {
    halt(d, step, *out.halt);
    return;
  }
  for (auto& w : out.writes) {
    if (!ctx.in_flight(w))
      writes(d).push_back(std::move(w));
  }
  d.waits = std::move(out.waits);
  if (out.wants_node_check && !out.wants_check && !ctx.failed)
    add_node_check(d, ctx, step, out);
  if (!d.actions().empty())
    return;
  if (ctx.failed) {
    if (!ctx.run.in_flight.empty()) {
      d.waits.push_back(
          Action{step, "", WaitFor{Gate::in_flight, {"actions in flight before halting"}}});
      return;
    }
    halt(d, step, "gate failed: " + ctx.failure_reason);
    return;
  }
  if (out.wants_check) {
    // A whole-cluster gate's check counts only if no write happens while or
    // after it runs.
    if (ctx.writes_in_flight) {
      d.waits.push_back(Action{step, "", WaitFor{Gate::writes_in_flight, {}}});
    } else if (ctx.check_in_flight) {
      d.waits.push_back(Action{step, "", WaitFor{Gate::connectivity_check, {}}});
    } else {
      writes(d).push_back(Action{step, "", RunConnectivityCheck{}});
    }
    return;
  }
  if (!d.waits.empty())
    return;
  if (!ctx.run.in_flight.empty()) {
    d.waits.push_back(Action{step, "", WaitFor{Gate::in_flight, {}}});
    return;
  }
  if (out.scope_complete) {
    if (last_selected) {
      d.next = Done{step};
    } else {
      halt(d, step,
           std::string("step ") + std::string(to_string(step)) +
               " is done on the selected nodes only; the next step needs it on every node");
    }
    return;
  }
  halt(d, step,
       std::string("no progress possible in step ") + std::string(to_string(step)) +
           " (check --max-unavailable and --nodes)");
}

}  // namespace detail

using detail::finish;

bool step_done(StepId step, const ClusterSnapshot& snapshot, const RunRecord& record,
               const MigrationSettings& settings) {
  Budget budget;
  Selection selection;
  NodeIndex nodes;
  nodes.refresh(snapshot, settings);
  Context ctx(snapshot, record, settings, budget, selection, nodes);
  return done(step, ctx);
}

bool step_done(StepId step, const ClusterSnapshot& snapshot, const MigrationSettings& settings) {
  return step_done(step, snapshot, RunRecord{}, settings);
}

namespace {

// The last step this run may work on: the selection's, or migrate when
// cleanup.hold keeps a run out of a cleanup that has not begun.
StepId last_step(const Context& ctx) {
  const StepId last = ctx.selection.steps.last;
  if (last == StepId::cleanup && ctx.settings.hold_before_cleanup && !ctx.cleanup_started())
    return StepId::migrate;
  return last;
}

// A node a rollback holds: the migration waits for the rollback to end it.
std::optional<std::string> rolling_back(const Context& ctx) {
  for (auto p = static_cast<int>(NodePhase::rollback_migrate_started);
       p <= static_cast<int>(NodePhase::rollback_roll_awaiting_gate); ++p) {
    if (const auto& nodes = ctx.nodes.in_phase(static_cast<NodePhase>(p)); !nodes.empty())
      return *nodes.begin();
  }
  return std::nullopt;
}

void decide(Decision& d, const Context& ctx) {
  const auto& selection = ctx.selection;
  if (auto node = rolling_back(ctx)) {
    halt(d, StepId::preflight,
         "node " + *node + " is being rolled back: finish the rollback (--rollback) first");
    return;
  }
  const StepId last = last_step(ctx);
  std::optional<StepId> first_open;
  for (StepId step : kAllSteps) {
    const auto i = static_cast<std::size_t>(step);
    if (done(step, ctx)) {
      d.steps[i] = StepState::done;
    } else {
      if (!first_open)
        first_open = step;
      d.steps[i] = selection.includes(step) ? StepState::pending : StepState::not_selected;
    }
  }
  if (!first_open) {
    // Done only once what cleanup set in motion has settled.
    finish(d, ctx, StepId::cleanup, detail::run_final_gate(ctx), true);
    return;
  }
  // Nodes that joined during the migration are brought into its state
  // whatever step runs (node_join.cpp).
  StepOutcome joins;
  detail::run_joins(ctx, *first_open, joins);
  const StepId step = *first_open;
  const auto index = static_cast<int>(step);

  if (index > static_cast<int>(last)) {
    // Every selected step is done. prepare ends with a gate that nothing
    // after it in this run would check.
    if (joins.busy()) {
      finish(d, ctx, last, std::move(joins), true);
      return;
    }
    if (last == StepId::prepare && !ctx.gate_ok) {
      StepOutcome out;
      detail::request_gate(ctx, StepId::prepare, out);
      finish(d, ctx, StepId::prepare, std::move(out), true);
      if (!std::holds_alternative<Actions>(d.next) || !d.actions().empty() || !d.waits.empty())
        return;
    }
    d.next = Done{last};
    return;
  }
  if (index < static_cast<int>(selection.steps.first) && step != StepId::preflight) {
    halt(d, selection.steps.first,
         "refusing to run step " + std::string(to_string(selection.steps.first)) + ": step " +
             std::string(to_string(step)) + " is not done");
    return;
  }
  // preflight outside the selection still runs its read-only part (wait for
  // knet-stress, run a check): later steps need the check before writing.
  d.current_step = step;
  d.steps[static_cast<std::size_t>(index)] = StepState::running;
  auto out = run(step, ctx);
  if (!out.halt) {
    for (auto& w : joins.writes)
      out.writes.push_back(std::move(w));
    for (auto& w : joins.waits)
      out.waits.push_back(std::move(w));
    out.wants_check = out.wants_check || joins.wants_check;
    out.wants_node_check = out.wants_node_check || joins.wants_node_check;
    out.check_nodes.insert(out.check_nodes.end(), joins.check_nodes.begin(),
                           joins.check_nodes.end());
    if (joins.busy())
      out.scope_complete = false;
  }
  finish(d, ctx, step, std::move(out), step == last);
}

}  // namespace

Decision next_actions(const ClusterSnapshot& snapshot, const RunRecord& record,
                      const MigrationSettings& settings, const Budget& budget,
                      const Selection& selection) {
  NodeIndex nodes;
  Decision d = next_actions(nodes, snapshot, record, settings, budget, selection);
  // Moved, not copied: a map of every node.
  d.node_phases = std::move(nodes).release_phases();
  return d;
}

Decision next_actions(NodeIndex& nodes, const ClusterSnapshot& snapshot, const RunRecord& record,
                      const MigrationSettings& settings, const Budget& budget,
                      const Selection& selection) {
  nodes.refresh(snapshot, settings);
  Context ctx(snapshot, record, settings, budget, selection, nodes);
  Decision d;
  if (selection.rollback && settings.native()) {
    d.next = Halt{StepId::preflight,
                  "--rollback is not available for strategy cilium-native (its per-node step "
                  "keeps the source CNI running until cleanup)"};
    return d;
  }
  if (selection.rollback) {
    detail::decide_rollback(d, ctx);
    return d;
  }
  decide(d, ctx);
  if (auto* done = std::get_if<Done>(&d.next); done && last_step(ctx) != selection.steps.last)
    done->held = true;
  return d;
}

}  // namespace cnimig::migrate
