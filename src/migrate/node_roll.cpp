// Cordon, drain, delete, uncordon: the node roll shared by three steps.

#include "node_roll.hpp"

#include <algorithm>
#include <charconv>
#include <limits>
#include <optional>
#include <set>
#include <string>

namespace cnimig::migrate::detail {
namespace {

// The write of the cut-off under `before_key` is still out: the driver
// places it in the pods' order before the write counts as done.
bool cutoff_in_flight(const Context& ctx, const NodeState& node, std::string_view before_key) {
  const auto same = ctx.in_flight_by_node.find(node.name);
  if (same == ctx.in_flight_by_node.end())
    return false;
  return std::any_of(same->second.begin(), same->second.end(), [&](const Action* a) {
    const auto* annotate = std::get_if<AnnotateNode>(&a->kind);
    return annotate != nullptr && annotate->node == node.name &&
           ctx.settings.is_annotation(annotate->cutoff, before_key);
  });
}

// Annotation `name` as Unix seconds; nullopt when absent or malformed.
std::optional<std::int64_t> annotation_seconds(const MigrationSettings& s, const NodeState& node,
                                               std::string_view name) {
  const auto* value = s.find_annotation(node.annotations, name);
  if (value == nullptr)
    return std::nullopt;
  std::int64_t t = 0;
  auto [ptr, ec] = std::from_chars(value->data(), value->data() + value->size(), t);
  if (ec != std::errc{} || ptr != value->data() + value->size())
    return std::nullopt;
  return t;
}

bool evictable(const PodState& p, std::int64_t since) {
  return !p.daemon_set_owned() && !p.mirror && p.created <= since;
}

}  // namespace

std::int64_t drain_since(const MigrationSettings& s, const NodeState& node) {
  return annotation_seconds(s, node, annotation_names::kDrainSince)
      .value_or(std::numeric_limits<std::int64_t>::max());
}

std::vector<const PodState*> evictable_pods(const MigrationSettings& s, const NodeState& node) {
  const auto since = drain_since(s, node);
  std::vector<const PodState*> pods;
  for (const auto& p : node.pods) {
    if (evictable(p, since))
      pods.push_back(&p);
  }
  return pods;
}

bool has_evictable_pods(const MigrationSettings& s, const NodeState& node) {
  const auto since = drain_since(s, node);
  return std::any_of(node.pods.begin(), node.pods.end(),
                     [&](const PodState& p) { return evictable(p, since); });
}

void cordon(const Context& ctx, StepId step, const NodeState& node, StepOutcome& out,
            std::string_view cutoff_key) {
  const auto next_second = std::to_string(ctx.run.now + 1);
  AnnotateNode a{
      node.name, {{ctx.settings.annotation(annotation_names::kDrainSince), next_second}}, {}};
  if (!cutoff_key.empty()) {
    a.cutoff = ctx.settings.annotation(cutoff_key);
    a.set.emplace(a.cutoff, next_second);
  }
  out.write(step, node.name, std::move(a));
  out.write(step, node.name, SetCordon{node.name, true});
}

bool predates(const PodState& pod, const Cutoff& cut) {
  if (pod.created >= cut.seconds)
    return false;
  return cut.pod_version == 0 || pod.created_version == 0 || pod.created_version <= cut.pod_version;
}

std::vector<const PodState*> pods_to_recreate(const NodeState& node, const Cutoff& cut) {
  std::vector<const PodState*> pods;
  for (const auto& p : node.pods) {
    if (!p.host_network && !p.mirror && predates(p, cut))
      pods.push_back(&p);
  }
  return pods;
}

bool runs_ready_pod(const NodeState& node, const std::string& ns, const std::string& daemon_set) {
  return std::any_of(node.pods.begin(), node.pods.end(), [&](const PodState& p) {
    return p.ns == ns && p.daemon_set_owned() && p.owner_name == daemon_set && p.ready &&
           !p.terminating;
  });
}

bool runs_pod(const NodeState& node, const std::string& ns, const std::string& daemon_set) {
  return std::any_of(node.pods.begin(), node.pods.end(), [&](const PodState& p) {
    return p.ns == ns && p.daemon_set_owned() && p.owner_name == daemon_set;
  });
}

bool going(const Context& ctx, const PodState& pod) {
  return pod.terminating || (!pod.uid.empty() && ctx.run.removed_pods.contains(pod.uid));
}

AnnotateNode cutoff_write(const Context& ctx, const NodeState& node, std::string_view before_key) {
  auto name = ctx.settings.annotation(before_key);
  return AnnotateNode{node.name, {{name, std::to_string(ctx.run.now + 1)}}, {}, name};
}

AnnotateNode cutoff_annotation(const Context& ctx, const NodeState& node,
                               std::string_view stage_key, std::string_view before_key) {
  auto a = cutoff_write(ctx, node, before_key);
  a.set.emplace(ctx.settings.annotation(stage_key), std::string(stage::kDeleting));
  return a;
}

Cutoff cutoff(const MigrationSettings& s, const NodeState& node, std::string_view before_key) {
  Cutoff cut;
  const auto seconds = annotation_seconds(s, node, before_key);
  if (!seconds)
    return cut;
  cut.seconds = *seconds;
  // The order read after this run's write of this very value; a value
  // written since (by hand, another run) has its own.
  const auto* value = s.find_annotation(node.annotations, before_key);
  for (const auto& [key, order] : node.cutoff_orders) {
    if (s.is_annotation(key, before_key) && order.value == *value)
      cut.pod_version = order.pod_version;
  }
  return cut;
}

Cutoff cutoff(const Context& ctx, const NodeState& node, std::string_view before_key) {
  return cutoff(ctx.settings, node, before_key);
}

bool drain(const Context& ctx, StepId step, const NodeState& node, StepOutcome& out) {
  auto pods = evictable_pods(ctx.settings, node);
  if (pods.empty())
    return true;
  std::vector<std::string> gone;
  std::vector<std::string> pdb;
  for (const auto* p : pods) {
    std::string id = p->ns + "/" + p->name;
    if (going(ctx, *p)) {
      gone.push_back(id);
    } else if (const auto* b = ctx.blocked(*p)) {
      // The driver retries blocked evictions with backoff until its drain
      // timeout; issuing them again here would only add requests.
      pdb.push_back(id + " (PodDisruptionBudget " + b->pdb + ")");
    } else {
      Action a{step, node.name, EvictPod{p->ns, p->name, p->uid, p->empty_dir}};
      if (ctx.in_flight(a)) {
        gone.push_back(id);
      } else {
        out.writes.push_back(std::move(a));
      }
    }
  }
  if (!gone.empty())
    out.wait(step, node.name, Gate::pods_gone, std::move(gone));
  if (!pdb.empty())
    out.wait(step, node.name, Gate::eviction_blocked, std::move(pdb));
  return false;
}

bool delete_old_pods(const Context& ctx, StepId step, const NodeState& node,
                     std::string_view before_key, StepOutcome& out,
                     const std::function<bool(const PodState&)>& deletable) {
  return delete_pods_before(
      ctx, step, node, before_key, out, [&](const NodeState& n, const Cutoff& cut) {
        auto pods = pods_to_recreate(n, cut);
        if (deletable)
          std::erase_if(pods, [&](const PodState* p) { return !deletable(*p); });
        return pods;
      });
}

bool delete_pods_before(const Context& ctx, StepId step, const NodeState& node,
                        std::string_view before_key, StepOutcome& out, const PodSelection& select) {
  const auto cut = cutoff(ctx, node, before_key);
  if (!cut.recorded()) {
    // The cut-off went missing (edited by hand): record a new one first.
    out.write(step, node.name, cutoff_write(ctx, node, before_key));
    return false;
  }
  auto pods = select(node, cut);
  if (pods.empty())
    return true;
  if (ctx.run.now < cut.seconds && cut.pod_version == 0) {
    if (cutoff_in_flight(ctx, node, before_key))
      return false;  // its return may bring the order: no need to wait for the clock
    // A pod deleted now could be replaced within a second that is still
    // before the cut-off, and the replacement would look old: wait for the
    // server's clock (at most a second or two). With the cut-off's place in
    // the pods' order the watch tells the replacement apart at once.
    out.wait(step, node.name, Gate::cut_off, {"server time " + std::to_string(cut.seconds)});
    return false;
  }
  std::vector<std::string> gone;
  for (const auto* p : pods) {
    if (going(ctx, *p)) {
      gone.push_back(p->ns + "/" + p->name);
      continue;
    }
    Action a{step, node.name, DeletePod{p->ns, p->name, p->uid, p->empty_dir}};
    if (ctx.in_flight(a)) {
      gone.push_back(p->ns + "/" + p->name);
    } else {
      out.writes.push_back(std::move(a));
    }
  }
  if (!gone.empty())
    out.wait(step, node.name, Gate::pods_gone, std::move(gone));
  return false;
}

AnnotateNode start_annotation(const Context& ctx, const NodeState& node,
                              std::string_view stage_key) {
  AnnotateNode a{
      node.name, {{ctx.settings.annotation(stage_key), std::string(stage::kStarted)}}, {}};
  const auto was = ctx.settings.annotation(annotation_names::kWasCordoned);
  if (node.unschedulable) {
    // Recorded before we cordon: afterwards "unschedulable" no longer tells
    // whether the administrator or we did it (src/migrate/README.md). We
    // will not cordon it, so its drain begins now.
    a.set.emplace(was, "true");
    a.set.emplace(ctx.settings.annotation(annotation_names::kDrainSince),
                  std::to_string(ctx.run.now + 1));
  } else if (node.annotations.contains(was)) {
    a.remove.push_back(was);
  }
  return a;
}

std::optional<std::string_view> refusal(const MigrationSettings& s, const PodState& p) {
  if (p.unmanaged() && !s.delete_unmanaged_pods)
    return "no controller";
  // DaemonSet pods are not drained (kubectl drain --ignore-daemonsets), so
  // kubectl's emptyDir rule does not cover them.
  if (p.empty_dir && !s.delete_empty_dir_data && !p.daemon_set_owned() && !p.mirror)
    return "emptyDir";
  return std::nullopt;
}

std::vector<std::string> refused_pods(const MigrationSettings& s, const NodeState& node) {
  std::vector<std::string> refused;
  for (const auto& p : node.pods) {
    if (auto why = refusal(s, p))
      refused.push_back(p.ns + "/" + p.name + " (" + std::string(*why) + ")");
  }
  return refused;
}

namespace {

// kubectl drain refuses a node with pods that would be lost for good (no
// controller, without --force) or lose emptyDir data (without
// --delete-emptydir-data). The migration refuses the same before it cordons
// anything: once the nodes it holds are given back, it halts naming them.
// Only the candidates (selected) the index says hold such pods are listed,
// in name order.
bool refuse_unsafe_pods(const Context& ctx, const std::set<std::string>& candidates,
                        const InFlight& in_flight, StepOutcome& out) {
  std::string list;
  for (const auto& name : ctx.nodes.refusing()) {
    if (!candidates.contains(name) || !ctx.selection.includes_node(name))
      continue;
    for (const auto& pod : refused_pods(ctx.settings, ctx.snap.nodes.at(name)))
      list += (list.empty() ? "" : ", ") + name + ": " + pod;
  }
  if (list.empty())
    return false;
  // Writes of this decision finish the last nodes in flight: halt next time.
  if (in_flight.nodes == 0 && out.writes.empty()) {
    out.halt = "refusing to drain: pods that would be lost: " + list +
               " (set drain.deleteUnmanagedPods: true to delete pods without a controller, "
               "drain.deleteEmptyDirData: true to delete pods with emptyDir volumes)";
  }
  return true;
}

}  // namespace

void start_nodes(const Context& ctx, StepId step, NodePhase pending_phase,
                 std::string_view stage_key, InFlight in_flight, StepOutcome& out,
                 const std::function<void(const NodeState&, StepOutcome&)>& then) {
  start_nodes(ctx, step, ctx.nodes.in_phase(pending_phase), stage_key, in_flight, out, then);
}

void start_nodes(const Context& ctx, StepId step, const std::set<std::string>& pending,
                 std::string_view stage_key, InFlight in_flight, StepOutcome& out,
                 const std::function<void(const NodeState&, StepOutcome&)>& then) {
  if (ctx.failed)
    return;  // a failed gate stops new nodes
  // The candidates: nodes in `pending` the selection includes, by name.
  if (!any_selected(ctx.selection, pending))
    return;
  if (refuse_unsafe_pods(ctx, pending, in_flight, out))
    return;
  if (in_flight.nodes >= ctx.budget.max_parallel_nodes)
    return;
  if (!ctx.watched_ready) {
    request_gate(ctx, step, out);
    return;
  }
  // A node whose start is still being written shows its pending phase until
  // the write returns: it counts against the budget already. (The
  // whole-cluster gate used to hide this: no node started while any write
  // ran.)
  std::set<std::string> starting;
  for (const auto& a : ctx.run.in_flight) {
    if (a.step != step || !is_write(a) || !ctx.snap.nodes.contains(a.node))
      continue;
    if (pending.contains(a.node) && starting.insert(a.node).second) {
      ++in_flight.nodes;
      if (!ctx.snap.nodes.at(a.node).unschedulable)
        ++in_flight.unavailable;
    }
  }
  if (in_flight.nodes >= ctx.budget.max_parallel_nodes)
    return;
  // Each node starts behind its own gate: a check after its last write
  // (another node's writes since do not hold it, check_covers()).
  const auto start = [&](const NodeState& node) {
    if (starting.contains(node.name))
      return false;
    if (!ctx.gate_ok_for(node.name, step)) {
      request_gate(ctx, step, node.name, out);
      return false;
    }
    out.write(step, node.name, start_annotation(ctx, node, stage_key));
    if (then)
      then(node, out);
    ++in_flight.nodes;
    return true;
  };
  std::optional<std::string> budget_spent_at;
  for_each_selected(ctx.selection, pending, [&](const std::string& name) {
    if (in_flight.nodes >= ctx.budget.max_parallel_nodes)
      return false;
    const auto& node = ctx.snap.nodes.at(name);
    // An administrator-cordoned node is unavailable already: rolling it does
    // not take another node out of service.
    const bool adds_unavailable = !node.unschedulable;
    if (adds_unavailable && in_flight.unavailable + 1 > ctx.budget.max_unavailable) {
      budget_spent_at = name;
      return false;
    }
    if (start(node) && adds_unavailable)
      ++in_flight.unavailable;
    return true;
  });
  if (!budget_spent_at)
    return;
  // The unavailability budget is spent: of the candidates after this one,
  // only those cordoned already may start. Walking the cordoned nodes costs
  // what is cordoned, not the cluster.
  const auto& cordoned = ctx.nodes.unschedulable();
  for (auto it = cordoned.upper_bound(*budget_spent_at); it != cordoned.end(); ++it) {
    if (in_flight.nodes >= ctx.budget.max_parallel_nodes)
      break;
    if (pending.contains(*it) && ctx.selection.includes_node(*it))
      start(ctx.snap.nodes.at(*it));
  }
}

}  // namespace cnimig::migrate::detail

namespace cnimig::migrate::detail {

void advance_roll(const Context& ctx, StepId step, const NodeState& node, RollStage stage,
                  std::string_view stage_key, std::string_view before_key, StepOutcome& out) {
  if (stage == RollStage::pods_deleted) {
    // After a failure: give the node back (its phase is then
    // `awaiting_gate`: the cut-off is recorded and no pod predates it).
    // Otherwise the step's gate and completion come first (roll_stage).
    out.write(step, node.name, SetCordon{node.name, false});
    return;
  }
  if (ctx.failed)
    return;
  switch (stage) {
    case RollStage::cordon:
      // Chained in one decision (the driver keeps per-node order): every
      // prefix of the chain is itself a phase the core resumes from. The
      // shared roll's cordon comes once the node's CNI is the one its pods
      // must get, so the cut-off goes with it.
      cordon(ctx, step, node, out, before_key);
      drain(ctx, step, node, out);
      break;
    case RollStage::draining:
      drain(ctx, step, node, out);
      break;
    case RollStage::drained:
      // Only a node whose cordon carried no cut-off (an administrator's, or
      // one recorded by an earlier version) gets here. The cut-off is written
      // before any deletion, so a restart deletes exactly the pods that
      // predate it.
      out.write(step, node.name, cutoff_annotation(ctx, node, stage_key, before_key));
      break;
    case RollStage::deleting:
      // Once none is left the phase says so (roll_like_phase): no write
      // records it.
      delete_old_pods(ctx, step, node, before_key, out);
      break;
    case RollStage::pods_deleted:
      break;
  }
}

}  // namespace cnimig::migrate::detail
