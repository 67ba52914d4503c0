#pragma once
// The event stream's contract (README.md "Event stream") as data: every event the
// agent writes to stdout, when it fires, and its fields with their types.
// - Emit sites name events through catalogued("step.started"), which does not
//   compile for a name missing here.
// - The README's event table is render_event_table(); a unit test keeps the
//   two identical.
// - contract_violations() checks one parsed stdout line against it; the e2e
//   suite runs it on every line of a full migration.
// Adding a field or an event is compatible; removing or retyping one bumps
// kSchemaVersion (event.hpp).

#include <array>
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

namespace cnimig::events {

enum class FieldType { string, integer, number, boolean, string_or_null };

struct FieldSpec {
  std::string_view name;
  FieldType type = FieldType::string;
  bool required = true;

  constexpr FieldSpec optional() const { return {name, type, false}; }
};

namespace field {
constexpr FieldSpec string(std::string_view n) {
  return {n, FieldType::string, true};
}
constexpr FieldSpec integer(std::string_view n) {
  return {n, FieldType::integer, true};
}
constexpr FieldSpec number(std::string_view n) {
  return {n, FieldType::number, true};
}
constexpr FieldSpec boolean(std::string_view n) {
  return {n, FieldType::boolean, true};
}
}  // namespace field

inline constexpr std::size_t kMaxEventFields = 5;

struct EventSpec {
  std::string_view name;
  std::string_view when;
  std::array<FieldSpec, kMaxEventFields> fields{};  // unused entries have an empty name
};

// Every event carries these; `step` is null outside a step.
inline constexpr std::array<FieldSpec, 4> kCommonFields = {{
    field::string("ts"),
    field::integer("v"),
    field::string("event"),
    {"step", FieldType::string_or_null, true},
}};

// In the order a run emits them.
inline constexpr std::array kEventCatalogue = std::to_array<EventSpec>({
    {"config.loaded",
     "the configuration and flags were validated",
     {field::string("config"), field::string("steps"), field::boolean("apply")}},
    {"sim.started",
     "`--simulate`: the in-process simulator serves",
     {field::string("url"), field::integer("nodes")}},
    {"metrics.listening",
     "`--metrics-addr`: the metrics endpoint accepts connections (port 0: the bound port)",
     {field::string("address")}},
    {"cluster.connected", "the API server answered `/version`", {field::string("server")}},
    {"cluster.unreachable",
     "the API server did not answer or refused the credentials (exit 3)",
     {field::string("error")}},
    {"preflight.failed",
     "the credentials lack permissions the migration needs (an access review, the first list "
     "or watch of a resource, or a probe's exec was refused), or the CNI stack would break the "
     "migration (pod CIDR overlap, tunnel clash, cni-exclusive with multus, Calico's first-found "
     "autodetection, Kubernetes or kernel versions outside the pinned Cilium's range); exit 2, "
     "nothing written but the knet-stress install",
     {field::string("error")}},
    {"preflight.warning",
     "a requirement the API cannot check (the UDP port of Cilium's overlay, 6081 for Geneve), "
     "or a Kubernetes newer than the pinned Cilium is tested on",
     {field::string("warning")}},
    {"cluster.synced", "every watch has listed", {field::integer("nodes")}},
    {"lease.acquired", "the Lease was taken: this agent may write", {field::string("holder")}},
    {"lease.refused", "another agent holds the Lease (exit 4)", {field::string("error")}},
    {"plan.action",
     "plan mode: one action a real run would take, in order",
     {field::integer("index"), field::string("kind"), field::string("action"),
      field::string("node").optional()}},
    {"plan.checked",
     "plan mode: the planned writes were sent with dryRun=All (skipped: they act on objects the "
     "plan "
     "itself creates first)",
     {field::integer("checked"), field::integer("failed"), field::integer("skipped")}},
    {"plan.check_failed",
     "plan mode: the API server refused a planned write's dryRun=All check (the plan exits 1)",
     {field::string("action"), field::string("error"), field::string("node").optional()}},
    {"plan.summary",
     "plan mode: the counts of the summary for people logged on stderr (max_duration_ms: every "
     "wait at its timeout)",
     {field::integer("writes"), field::integer("pods_evicted"), field::integer("pods_deleted"),
      field::integer("warnings"), field::integer("max_duration_ms")}},
    {"plan.completed", "plan mode: the plan reaches the end", {field::integer("actions")}},
    {"plan.halted",
     "plan mode: the plan stops at a failed gate (exit 1)",
     {field::string("error")}},
    {"migration.started",
     "the run begins, with its budget and strategy (multus or cilium-native)",
     {field::integer("nodes"), field::integer("max_parallel_nodes"),
      field::integer("max_unavailable"), field::string("strategy")}},
    {"rollback.started",
     "a rollback (--rollback --apply) begins, with its budget",
     {field::integer("nodes"), field::integer("max_parallel_nodes"),
      field::integer("max_unavailable")}},
    {"step.started", "a step begins", {}},
    {"step.completed", "the step's done predicate holds", {field::integer("duration_ms")}},
    {"node.phase",
     "a node's derived phase changed",
     {field::string("node"), field::string("phase")}},
    {"node.rolled_back",
     "a rollback recorded the end of a reverse step on the node; `phase` is where it now is "
     "(`prioritised`: off Cilium alone, `rolled`: the source CNI first again, `unprepared`: "
     "off multus)",
     {field::string("node"), field::string("phase")}},
    {"node.labelled",
     "a label write on the node finished",
     {field::string("node"), field::string("action"), field::integer("duration_ms"),
      field::number("reaction_ms").optional()}},
    {"node.joined",
     "a node that joined during the migration was given the labels of the state it is in "
     "(its pods are then re-created once its CNIs run)",
     {field::string("node"), field::string("action"), field::integer("duration_ms"),
      field::number("reaction_ms").optional()}},
    {"node.annotated",
     "an annotation write on the node finished",
     {field::string("node"), field::string("action"), field::integer("duration_ms"),
      field::number("reaction_ms").optional()}},
    {"node.cordoned",
     "the node was cordoned",
     {field::string("node"), field::string("action"), field::integer("duration_ms"),
      field::number("reaction_ms").optional()}},
    {"node.uncordoned",
     "the node was uncordoned",
     {field::string("node"), field::string("action"), field::integer("duration_ms"),
      field::number("reaction_ms").optional()}},
    {"node.tainted",
     "the migration's NoExecute taint was added",
     {field::string("node"), field::string("action"), field::integer("duration_ms"),
      field::number("reaction_ms").optional()}},
    {"node.untainted",
     "the migration's taint was removed",
     {field::string("node"), field::string("action"), field::integer("duration_ms"),
      field::number("reaction_ms").optional()}},
    {"pod.evicted",
     "a pod was evicted (PodDisruptionBudget-aware)",
     {field::string("node"), field::string("action"), field::integer("duration_ms"),
      field::number("reaction_ms").optional()}},
    {"pod.deleted",
     "a pod was deleted to be re-created",
     {field::string("node"), field::string("action"), field::integer("duration_ms"),
      field::number("reaction_ms").optional()}},
    {"pod.eviction_blocked",
     "a PodDisruptionBudget refused an eviction (retried until the drain timeout)",
     {field::string("node"), field::string("resource"), field::string("pdb")}},
    {"manifest.applied",
     "a manifest bundle was applied (server-side apply)",
     {field::string("action"), field::integer("duration_ms"),
      field::number("reaction_ms").optional()}},
    {"manifest.deleted",
     "a manifest bundle's objects were deleted",
     {field::string("action"), field::integer("duration_ms"),
      field::number("reaction_ms").optional()}},
    {"daemonset.patched",
     "a DaemonSet's node selector was patched",
     {field::string("action"), field::integer("duration_ms"),
      field::number("reaction_ms").optional()}},
    {"cilium.defaults_restored",
     "cleanup set the migration-only Cilium settings back to Cilium's defaults (policy "
     "enforcement, unmanaged-pod restarts) and restarted the operator",
     {field::string("action"), field::integer("duration_ms"),
      field::number("reaction_ms").optional()}},
    {"object.deleted",
     "a cleanup object was deleted",
     {field::string("action"), field::integer("duration_ms"),
      field::number("reaction_ms").optional()}},
    {"gate.waiting",
     "a gate began holding the run",
     {field::string("gate"), field::string("node").optional(),
      field::string("pending").optional()}},
    {"gate.passed",
     "a gate stopped holding the run",
     {field::string("gate"), field::integer("duration_ms"), field::string("node").optional()}},
    {"probe.passed",
     "a knet-stress connectivity check passed",
     {field::integer("pods"), field::integer("rounds"), field::integer("duration_ms"),
      field::string("node").optional()}},
    {"probe.failed",
     "one round of knet-stress checks failed (retried with backoff)",
     {field::string("error"), field::integer("round"), field::integer("duration_ms"),
      field::string("node").optional()}},
    {"api.retry",
     "an API request was sent again after a 429, a 5xx or a dropped connection",
     {field::string("method"), field::string("path"), field::integer("attempt"),
      field::integer("status")}},
    {"action.failed",
     "a write failed for good (the core then halts safely)",
     {field::string("action"), field::string("error"), field::integer("duration_ms"),
      field::string("node").optional()}},
    {"migration.completed",
     "every selected step is done (exit 0)",
     {field::integer("duration_ms")}},
    {"rollback.completed",
     "the nodes are back on the source CNI as far as the rollback may take them; without "
     "--nodes, the cluster is as before prepare (exit 0)",
     {field::integer("duration_ms")}},
    {"cleanup.held",
     "cleanup.hold ended the run before cleanup, the point of no return (exit 0); a run "
     "with the hold off finishes",
     {field::integer("duration_ms")}},
    {"migration.halted",
     "a gate failed or timed out, or the Lease was lost (exit 1)",
     {field::string("error"), field::integer("duration_ms").optional()}},
    {"migration.interrupted",
     "SIGINT/SIGTERM: stopped at a safe point (exit 130/143)",
     {field::integer("duration_ms")}},
    {"sim.report",
     "`--simulate`: the simulator's connectivity verdict",
     {field::integer("violations"), field::number("violation_seconds"),
      field::integer("max_nodes_cordoned")}},
});

// The index of `name` in kEventCatalogue, or its size when absent.
constexpr std::size_t event_index(std::string_view name) {
  std::size_t i = 0;
  while (i < kEventCatalogue.size() && kEventCatalogue[i].name != name)
    ++i;
  return i;
}

constexpr const EventSpec* find_event(std::string_view name) {
  const auto i = event_index(name);
  return i < kEventCatalogue.size() ? &kEventCatalogue[i] : nullptr;
}

// (An index, not find_event's pointer: GCC 12 with -fsanitize=undefined does
// not take a pointer's comparison with nullptr as a constant expression.)
constexpr bool in_catalogue(std::string_view name) {
  return event_index(name) < kEventCatalogue.size();
}

// For emit sites: `Event(catalogued("step.started"))` does not compile when
// the name is not in the catalogue.
consteval std::string_view catalogued(std::string_view name) {
  if (!in_catalogue(name))
    throw "event name missing from kEventCatalogue";  // a compile error in consteval
  return name;
}

std::string_view to_string(FieldType type) noexcept;

// The README's table of events: one row per event, `| event | when | fields |`.
std::string render_event_table();

// Everything wrong with one parsed stdout line: `v` is not kSchemaVersion,
// `ts` is not RFC 3339 UTC with milliseconds, the event is not catalogued, a
// required field is missing, a field has the wrong type or is not in the
// catalogue. Empty when the line honours the contract.
std::vector<std::string> contract_violations(const boost::json::object& line);

}  // namespace cnimig::events
