// The plan summary: folds the plan's actions into per-step counts and names,
// per-node journeys, the irreversible writes, a duration bound and the
// warnings; then renders them as text.

#include "cnimig/agent/plan_summary.hpp"

#include <algorithm>
#include <type_traits>
#include <variant>

namespace cnimig::agent {
namespace {

using migrate::StepId;
using std::chrono::milliseconds;

bool node_step(StepId step) {
  return step == StepId::roll || step == StepId::priority || step == StepId::migrate;
}

// What a node's action means to a person; empty for bookkeeping.
std::string verb_of(const migrate::Action& a) {
  return std::visit(
      [](const auto& k) -> std::string {
        using T = std::decay_t<decltype(k)>;
        if constexpr (std::is_same_v<T, migrate::LabelNode>)
          return "label";
        else if constexpr (std::is_same_v<T, migrate::SetCordon>)
          return k.unschedulable ? "cordon" : "uncordon";
        else if constexpr (std::is_same_v<T, migrate::AddTaint>)
          return "taint";
        else if constexpr (std::is_same_v<T, migrate::RemoveTaint>)
          return "untaint";
        else if constexpr (std::is_same_v<T, migrate::EvictPod>)
          return "evict";
        else if constexpr (std::is_same_v<T, migrate::DeletePod>)
          return "delete pods";
        else
          return "";
      },
      a.kind);
}

// The longest a node round (or a cluster-wide step) may wait before the
// driver turns the wait into a failure, from the waits each step makes (see
// src/migrate/README.md "Gates, budget and failures"): a gate is bounded by
// timeouts.gate plus a connectivity check retried up to timeouts.connectivity.
milliseconds step_bound(StepId step, const config::Timeouts& t) {
  const auto gate = t.gate + t.connectivity;
  switch (step) {
    case StepId::preflight:
    case StepId::prepare:
    case StepId::cleanup:
      return gate;
    case StepId::roll:
      return t.drain + t.pod_deletion + gate;
    case StepId::priority:
      return t.rollout + t.drain + t.pod_deletion + gate;
    case StepId::migrate:
      return t.drain + t.rollout + t.pod_deletion + 2 * gate;
  }
  return gate;
}

struct Folder {
  const PlanSummaryInput& in;
  PlanSummary out;
  std::map<StepId, std::set<std::string>> step_nodes;
  // node -> step -> verbs in first-seen order
  std::map<std::string, std::map<StepId, std::vector<std::string>>> journeys;
  std::set<std::string> unmanaged_seen;

  StepSummary& step(StepId id) {
    auto it = std::find_if(out.steps.begin(), out.steps.end(),
                           [&](const StepSummary& s) { return s.step == id; });
    if (it != out.steps.end())
      return *it;
    out.steps.push_back(StepSummary{});
    out.steps.back().step = id;
    return out.steps.back();
  }

  void bundle(std::vector<std::string>& into, std::string_view verb, const std::string& id) {
    std::string text = std::string(verb) + "bundle " + id;
    if (auto it = in.bundle_objects.find(id); it != in.bundle_objects.end()) {
      std::string list;
      for (const auto& o : it->second)
        list += (list.empty() ? "" : ", ") + o;
      if (!list.empty())
        text += " (" + list + ")";
    }
    into.push_back(std::move(text));
  }

  void pod(StepSummary& s, const migrate::Action& a, const std::string& ns, const std::string& name,
           const std::string& uid, bool evict) {
    ++(evict ? s.evicted : s.pods_deleted)[ns];
    ++(evict ? out.pods_evicted : out.pods_deleted);
    auto it = in.facts.unmanaged_pods.find(uid);
    if (it != in.facts.unmanaged_pods.end() && unmanaged_seen.insert(uid).second) {
      out.warnings.push_back("pod " + ns + "/" + name + " on node " + a.node +
                             " has no controller: " + std::string(migrate::to_string(a.step)) +
                             (evict ? " evicts" : " deletes") + " it and nothing re-creates it");
    }
  }

  void irreversible(const StepSummary& s, const std::string& what) {
    if (s.step == StepId::cleanup)
      out.irreversible.push_back("cleanup deletes " + what);
  }

  void add(const migrate::Action& a) {
    if (!migrate::is_write(a) && !std::holds_alternative<migrate::RunConnectivityCheck>(a.kind))
      return;
    auto& s = step(a.step);
    if (!a.node.empty()) {
      step_nodes[a.step].insert(a.node);
      if (auto verb = verb_of(a); !verb.empty()) {
        auto& verbs = journeys[a.node][a.step];
        if (std::find(verbs.begin(), verbs.end(), verb) == verbs.end())
          verbs.push_back(std::move(verb));
      }
    }
    if (migrate::is_write(a)) {
      ++s.writes;
      ++out.writes;
    }
    std::visit(
        [&](const auto& k) {
          using T = std::decay_t<decltype(k)>;
          if constexpr (std::is_same_v<T, migrate::LabelNode>) {
            s.nodes_labelled.insert(k.node);
          } else if constexpr (std::is_same_v<T, migrate::AnnotateNode>) {
            s.nodes_annotated.insert(k.node);
          } else if constexpr (std::is_same_v<T, migrate::SetCordon>) {
            if (k.unschedulable)
              s.nodes_cordoned.insert(k.node);
          } else if constexpr (std::is_same_v<T, migrate::AddTaint>) {
            s.nodes_tainted.insert(k.node);
          } else if constexpr (std::is_same_v<T, migrate::EvictPod>) {
            pod(s, a, k.ns, k.name, k.uid, true);
          } else if constexpr (std::is_same_v<T, migrate::DeletePod>) {
            pod(s, a, k.ns, k.name, k.uid, false);
          } else if constexpr (std::is_same_v<T, migrate::ApplyBundle>) {
            bundle(s.applied, "", k.id);
          } else if constexpr (std::is_same_v<T, migrate::DeleteBundle>) {
            bundle(s.deleted, "", k.id);
            irreversible(s, "bundle " + k.id);
          } else if constexpr (std::is_same_v<T, migrate::PatchDaemonSetNodeSelector>) {
            std::string change;
            for (const auto& [key, value] : k.set)
              change += " +" + key + "=" + value;
            for (const auto& key : k.remove)
              change += " -" + key;
            s.patched.push_back("DaemonSet " + k.ns + "/" + k.name + " nodeSelector" + change);
          } else if constexpr (std::is_same_v<T, migrate::RestoreCiliumDefaults>) {
            std::string change;
            for (const auto& [key, value] : k.data)
              change += " " + key + "=" + value;
            s.patched.push_back("ConfigMap " + k.ns + "/" + k.config_map + " data" + change +
                                " (Cilium's defaults restored)");
            s.patched.push_back("Deployment " + k.ns + "/" + k.operator_deployment + " restarted");
          } else if constexpr (std::is_same_v<T, migrate::DeleteObject>) {
            s.deleted.push_back(k.object.describe());
            irreversible(s, k.object.describe());
          } else if constexpr (std::is_same_v<T, migrate::RunConnectivityCheck>) {
            ++s.checks;
          }
        },
        a.kind);
  }

  void finish() {
    const auto parallel = std::max<std::size_t>(1, in.budget.max_parallel_nodes);
    for (auto& s : out.steps) {
      const auto bound = step_bound(s.step, in.timeouts);
      if (node_step(s.step)) {
        const auto nodes = step_nodes[s.step].size();
        s.node_rounds = (nodes + parallel - 1) / parallel;
        s.max_duration = bound * static_cast<long>(s.node_rounds);
      } else {
        s.max_duration = bound;
      }
      out.max_duration += s.max_duration;
    }
    for (const auto& [node, steps] : journeys) {
      std::string text;
      for (const auto& [step, verbs] : steps) {
        std::string list;
        for (const auto& v : verbs)
          list += (list.empty() ? "" : ", ") + v;
        text += (text.empty() ? "" : " -> ") + std::string(migrate::to_string(step)) + " (" + list +
                ")";
      }
      out.node_journeys.emplace(node, std::move(text));
    }
  }
};

}  // namespace

PlanSummary summarize_plan(const PlanSummaryInput& input) {
  Folder f{input, {}, {}, {}, {}};
  for (const auto& a : input.actions)
    f.add(a);
  // A rollback reverses the steps from the last: they stay in the order they run.
  if (!input.rollback) {
    std::sort(f.out.steps.begin(), f.out.steps.end(),
              [](const StepSummary& a, const StepSummary& b) { return a.step < b.step; });
  }
  f.out.rollback = input.rollback;
  f.out.strategy = input.strategy;
  f.finish();
  for (const auto& node : input.facts.cordoned_by_administrator) {
    f.out.warnings.push_back("node " + node +
                             " is cordoned by an administrator: the migration drains it, does "
                             "not count it against max-unavailable and leaves it cordoned");
  }
  for (const auto& w : input.facts.warnings)
    f.out.warnings.push_back(w);
  if (input.outcome) {
    if (const auto* halt = std::get_if<migrate::Halt>(&*input.outcome))
      f.out.halt_reason = halt->reason;
    if (const auto* done = std::get_if<migrate::Done>(&*input.outcome))
      f.out.held_before_cleanup = done->held;
  }
  return std::move(f.out);
}

}  // namespace cnimig::agent
