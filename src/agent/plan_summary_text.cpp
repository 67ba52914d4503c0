// The plan summary as text for a person reviewing it before `--apply`.

#include <map>
#include <string>
#include <vector>

#include "cnimig/agent/plan_summary.hpp"

namespace cnimig::agent {
namespace {

constexpr std::size_t kNamesShown = 8;

std::string duration_text(std::chrono::milliseconds d) {
  auto minutes = std::chrono::duration_cast<std::chrono::minutes>(d).count();
  if (minutes == 0)
    return std::to_string(std::chrono::duration_cast<std::chrono::seconds>(d).count()) + "s";
  const auto hours = minutes / 60;
  minutes %= 60;
  if (hours == 0)
    return std::to_string(minutes) + "m";
  return std::to_string(hours) + "h" + (minutes ? std::to_string(minutes) + "m" : "");
}

template <class Range>
std::string names(const Range& items) {
  std::string out;
  std::size_t i = 0;
  for (const auto& item : items) {
    if (i++ == kNamesShown) {
      out += " and " + std::to_string(items.size() - kNamesShown) + " more";
      break;
    }
    out += (out.empty() ? "" : ", ") + item;
  }
  return out;
}

std::string per_namespace(const std::map<std::string, std::size_t>& counts) {
  std::size_t total = 0;
  std::string list;
  for (const auto& [ns, n] : counts) {
    total += n;
    list += (list.empty() ? "" : ", ") + ns + " " + std::to_string(n);
  }
  return std::to_string(total) + (total == 1 ? " pod (" : " pods (") + list + ")";
}

void step_lines(std::string& out, const StepSummary& s) {
  out += "  " + std::string(migrate::to_string(s.step)) + ": " + std::to_string(s.writes) +
         (s.writes == 1 ? " write" : " writes");
  if (s.node_rounds > 0)
    out += ", " + std::to_string(s.node_rounds) + " node round(s)";
  out += ", at most " + duration_text(s.max_duration) + "\n";
  auto line = [&](const std::string& what, const std::string& text) {
    if (!text.empty())
      out += "    " + what + ": " + text + "\n";
  };
  auto count_names = [](const std::set<std::string>& nodes) {
    return nodes.empty() ? std::string() : std::to_string(nodes.size()) + " (" + names(nodes) + ")";
  };
  line("labels nodes", count_names(s.nodes_labelled));
  line("cordons nodes", count_names(s.nodes_cordoned));
  line("taints nodes (NoExecute)", count_names(s.nodes_tainted));
  for (const auto& a : s.applied)
    line("applies", a);
  for (const auto& p : s.patched)
    line("patches", p);
  for (const auto& d : s.deleted)
    line("deletes", d);
  if (!s.evicted.empty())
    line("evicts", per_namespace(s.evicted));
  if (!s.pods_deleted.empty())
    line("deletes (to re-create)", per_namespace(s.pods_deleted));
  if (s.checks > 0)
    line("connectivity checks", std::to_string(s.checks));
  if (!s.nodes_annotated.empty())
    line("annotates (cnimig.io/ progress)", std::to_string(s.nodes_annotated.size()) + " nodes");
}

void journey_lines(std::string& out, const PlanSummary& summary) {
  // Nodes with the same journey share a line.
  std::map<std::string, std::vector<std::string>> by_journey;
  for (const auto& [node, journey] : summary.node_journeys)
    by_journey[journey].push_back(node);
  if (by_journey.empty())
    return;
  out += "Each node goes through:\n";
  for (const auto& [journey, nodes] : by_journey)
    out += "  " + names(nodes) + ": " + journey + "\n";
}

}  // namespace

std::string render_plan_summary(const PlanSummary& summary) {
  std::string out = std::string(summary.rollback ? "Rollback plan summary: " : "Plan summary: ") +
                    std::to_string(summary.writes) + " writes, " +
                    std::to_string(summary.pods_evicted) + " pods evicted, " +
                    std::to_string(summary.pods_deleted) + " pods deleted to be re-created, " +
                    std::to_string(summary.node_journeys.size()) + " nodes; " +
                    (summary.halt_reason ? "the plan halts: " + *summary.halt_reason
                                         : std::string("the plan reaches the end")) +
                    "\n";
  out += "Strategy: " + std::string(config::to_string(summary.strategy)) +
         (summary.strategy == config::Strategy::cilium_native
              ? " (Cilium's own live migration: steps preflight, prepare, migrate, cleanup; roll "
                "and priority skipped)\n"
              : " (both CNIs behind multus: steps preflight, prepare, roll, priority, migrate, "
                "cleanup)\n");
  out += summary.rollback
             ? "Per step, in the order they run (each undoes the step it names; prepare's "
               "last, the restore of the state before prepare):\n"
             : "Per step:\n";
  for (const auto& s : summary.steps)
    step_lines(out, s);
  journey_lines(out, summary);
  out += "Irreversible:";
  if (summary.rollback) {
    out +=
        " nothing (a rollback takes back only what the migration did; a later migration "
        "takes the nodes forward again)\n";
  } else if (summary.held_before_cleanup) {
    out +=
        " nothing: cleanup.hold ends the run before cleanup, the point of no return (it "
        "deletes the source CNI); a run with the hold off finishes\n";
  } else if (summary.irreversible.empty()) {
    out += " nothing (cleanup is not in this plan; every step before it can be resumed)\n";
  } else {
    out += " the point of no return; the agent cannot bring these back\n";
    for (const auto& i : summary.irreversible)
      out += "  " + i + "\n";
  }
  out += "Duration: at most " + duration_text(summary.max_duration) +
         " (every wait at its configured timeout, nodes in rounds of max-parallel-nodes; "
         "a wait past its timeout halts the run). A healthy run takes what its pods take to "
         "be evicted, re-created and Ready, plus a connectivity check per gate.\n";
  if (summary.warnings.empty()) {
    out += "Needs a human: nothing found\n";
  } else {
    out += "Needs a human (" + std::to_string(summary.warnings.size()) + "):\n";
    for (const auto& w : summary.warnings)
      out += "  - " + w + "\n";
  }
  return out;
}

}  // namespace cnimig::agent
