// Names and one-line descriptions of actions for events and plan output.

#include "cnimig/migrate/action.hpp"

#include <string>
#include <type_traits>

namespace cnimig::migrate {
namespace {

template <class... Fs>
struct Overloaded : Fs... {
  using Fs::operator()...;
};
template <class... Fs>
Overloaded(Fs...) -> Overloaded<Fs...>;

std::string join_map(const std::map<std::string, std::string>& set,
                     const std::vector<std::string>& remove) {
  std::string out;
  for (const auto& [k, v] : set)
    out += (out.empty() ? "+" : " +") + k + "=" + v;
  for (const auto& k : remove)
    out += (out.empty() ? "-" : " -") + k;
  return out;
}

}  // namespace

bool is_write(const Action& action) noexcept {
  return !(std::holds_alternative<RunConnectivityCheck>(action.kind) ||
           std::holds_alternative<WaitFor>(action.kind));
}

std::string_view event_name(const Action& action) noexcept {
  return std::visit(
      Overloaded{
          [](const LabelNode& l) -> std::string_view {
            return l.join ? "node.joined" : "node.labelled";
          },
          [](const AnnotateNode&) -> std::string_view { return "node.annotated"; },
          [](const SetCordon& c) -> std::string_view {
            return c.unschedulable ? "node.cordoned" : "node.uncordoned";
          },
          [](const AddTaint&) -> std::string_view { return "node.tainted"; },
          [](const RemoveTaint&) -> std::string_view { return "node.untainted"; },
          [](const EvictPod&) -> std::string_view { return "pod.evicted"; },
          [](const DeletePod&) -> std::string_view { return "pod.deleted"; },
          [](const ApplyBundle&) -> std::string_view { return "manifest.applied"; },
          [](const DeleteBundle&) -> std::string_view { return "manifest.deleted"; },
          [](const PatchDaemonSetNodeSelector&) -> std::string_view { return "daemonset.patched"; },
          [](const RestoreCiliumDefaults&) -> std::string_view {
            return "cilium.defaults_restored";
          },
          [](const DeleteObject&) -> std::string_view { return "object.deleted"; },
          // A check reports its outcome; probe.failed only for rounds it retries.
          [](const RunConnectivityCheck&) -> std::string_view { return "probe.passed"; },
          [](const WaitFor&) -> std::string_view { return "gate.waiting"; },
      },
      action.kind);
}

std::string describe(const Action& action) {
  std::string head = std::string(to_string(action.step));
  if (!action.node.empty())
    head += " " + action.node;
  head += ": ";
  return head +
         std::visit(
             Overloaded{
                 [](const LabelNode& a) {
                   return std::string(a.join ? "joined: label " : "label ") +
                          join_map(a.set, a.remove);
                 },
                 [](const AnnotateNode& a) { return "annotate " + join_map(a.set, a.remove); },
                 [](const SetCordon& a) {
                   return std::string(a.unschedulable ? "cordon" : "uncordon");
                 },
                 [](const AddTaint& a) {
                   return "taint " + a.taint.key + "=" + a.taint.value + ":" + a.taint.effect;
                 },
                 [](const RemoveTaint& a) {
                   return "untaint " + a.taint.key + ":" + a.taint.effect;
                 },
                 [](const EvictPod& a) {
                   return "evict pod " + a.ns + "/" + a.name +
                          (a.empty_dir ? " (its emptyDir data is lost)" : "");
                 },
                 [](const DeletePod& a) {
                   return "delete pod " + a.ns + "/" + a.name +
                          (a.empty_dir ? " (its emptyDir data is lost)" : "");
                 },
                 [](const ApplyBundle& a) { return "apply bundle " + a.id; },
                 [](const DeleteBundle& a) { return "delete bundle " + a.id; },
                 [](const PatchDaemonSetNodeSelector& a) {
                   return "patch DaemonSet " + a.ns + "/" + a.name + " nodeSelector " +
                          join_map(a.set, a.remove);
                 },
                 [](const RestoreCiliumDefaults& a) {
                   std::string restarts;
                   for (const auto& ds : a.restart_daemon_sets)
                     restarts += ", restart DaemonSet " + a.ns + "/" + ds;
                   return "restore Cilium defaults: ConfigMap " + a.ns + "/" + a.config_map + " " +
                          join_map(a.data, {}) + restarts + ", restart Deployment " + a.ns + "/" +
                          a.operator_deployment;
                 },
                 [](const DeleteObject& a) { return "delete " + a.object.describe(); },
                 [](const RunConnectivityCheck& a) {
                   if (a.nodes.empty())
                     return std::string("connectivity check");
                   return "connectivity check of " + std::to_string(a.nodes.size()) +
                          " node(s) and " + std::to_string(a.sample) + " at random";
                 },
                 [](const WaitFor& a) {
                   std::string s = "wait for " + std::string(to_string(a.gate));
                   for (std::size_t i = 0; i < a.pending.size(); ++i) {
                     s += (i == 0 ? ": " : ", ") + a.pending[i];
                   }
                   return s;
                 },
             },
             action.kind);
}

}  // namespace cnimig::migrate
