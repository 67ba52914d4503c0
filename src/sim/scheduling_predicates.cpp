#include "scheduling_predicates.hpp"

#include "json_fields.hpp"

namespace cnimig::sim {

namespace json = boost::json;
using namespace fields;

bool tolerates(const json::object& toleration, const json::object& taint) {
  const auto t_effect = str(&toleration, "effect");
  if (!t_effect.empty() && t_effect != str(&taint, "effect"))
    return false;
  const auto t_key = str(&toleration, "key");
  auto op = str(&toleration, "operator");
  if (op.empty())
    op = "Equal";
  if (t_key.empty())
    return op == "Exists";  // empty key + Exists matches all keys
  if (t_key != str(&taint, "key"))
    return false;
  if (op == "Exists")
    return true;
  return op == "Equal" && str(&toleration, "value") == str(&taint, "value");
}

bool pod_tolerates(const json::object& pod_spec, const json::object& taint) {
  if (const auto* tols = arr(&pod_spec, "tolerations"))
    for (const auto& t : *tols)
      if (t.is_object() && tolerates(t.get_object(), taint))
        return true;
  return false;
}

bool tolerates_node_taints(const json::object& pod_spec, const json::object& node, bool no_schedule,
                           bool no_execute) {
  if (const auto* taints = arr(spec(node), "taints"))
    for (const auto& t : *taints) {
      if (!t.is_object())
        continue;
      const auto effect = str(&t.get_object(), "effect");
      const bool counts =
          (no_schedule && effect == "NoSchedule") || (no_execute && effect == "NoExecute");
      if (counts && !pod_tolerates(pod_spec, t.get_object()))
        return false;
    }
  return true;
}

namespace {

bool expression_matches(const json::object& expr, const json::object* labels,
                        std::string_view node_name, bool field) {
  const auto key = str(&expr, "key");
  const auto op = str(&expr, "operator");
  const json::value* v = nullptr;
  std::string_view value;
  if (field) {
    if (key != "metadata.name")
      return false;
    value = node_name;
  } else if (labels && (v = labels->if_contains(key)) && v->is_string()) {
    value = v->get_string();
  }
  const bool present = field || (v != nullptr);
  auto in_values = [&] {
    if (const auto* vals = arr(&expr, "values"))
      for (const auto& x : *vals)
        if (x.is_string() && x.get_string() == value)
          return true;
    return false;
  };
  if (op == "In")
    return present && in_values();
  if (op == "NotIn")
    return !present || !in_values();
  if (op == "Exists")
    return present;
  if (op == "DoesNotExist")
    return !present;
  return false;  // Gt/Lt: not used by anything the simulator runs
}

}  // namespace

bool node_selector_matches(const json::object& pod_spec, const json::object& node) {
  const auto* labels = obj(meta(node), "labels");
  if (const auto* sel = obj(&pod_spec, "nodeSelector"))
    for (const auto& [k, v] : *sel) {
      if (!labels)
        return false;
      const auto* have = labels->if_contains(k);
      if (!have || *have != v)
        return false;
    }
  const auto* required = obj(obj(obj(&pod_spec, "affinity"), "nodeAffinity"),
                             "requiredDuringSchedulingIgnoredDuringExecution");
  const auto* terms = arr(required, "nodeSelectorTerms");
  if (!terms || terms->empty())
    return true;
  // Terms are ORed; the expressions of one term are ANDed.
  for (const auto& term : *terms) {
    if (!term.is_object())
      continue;
    bool ok = true;
    bool any = false;
    for (auto [list, field] :
         {std::pair{"matchExpressions", false}, std::pair{"matchFields", true}})
      if (const auto* exprs = arr(&term.get_object(), list))
        for (const auto& e : *exprs) {
          any = true;
          if (!e.is_object() || !expression_matches(e.get_object(), labels, name(node), field))
            ok = false;
        }
    if (ok && any)
      return true;
  }
  return false;
}

bool node_unschedulable(const json::object& node) {
  return boolean(spec(node), "unschedulable");
}

bool pod_fits_node(const json::object& pod_spec, const json::object& node) {
  if (node_unschedulable(node)) {
    // kubectl cordon also implies the node.kubernetes.io/unschedulable:NoSchedule taint.
    const json::object taint{{"key", "node.kubernetes.io/unschedulable"}, {"effect", "NoSchedule"}};
    if (!pod_tolerates(pod_spec, taint))
      return false;
  }
  return tolerates_node_taints(pod_spec, node, true, true) && node_selector_matches(pod_spec, node);
}

void add_daemon_tolerations(json::object& pod_spec) {
  auto& v = pod_spec["tolerations"];
  if (!v.is_array())
    v = json::array{};
  auto& tols = v.as_array();
  auto add = [&](std::string_view key, std::string_view effect) {
    json::object t{{"key", key}, {"operator", "Exists"}, {"effect", effect}};
    for (const auto& x : tols)
      if (x == t)
        return;
    tols.push_back(std::move(t));
  };
  // k8s.io/kubernetes/pkg/controller/daemon/util.AddOrUpdateDaemonPodTolerations
  add("node.kubernetes.io/not-ready", "NoExecute");
  add("node.kubernetes.io/unreachable", "NoExecute");
  add("node.kubernetes.io/disk-pressure", "NoSchedule");
  add("node.kubernetes.io/memory-pressure", "NoSchedule");
  add("node.kubernetes.io/pid-pressure", "NoSchedule");
  add("node.kubernetes.io/unschedulable", "NoSchedule");
  if (boolean(&pod_spec, "hostNetwork"))
    add("node.kubernetes.io/network-unavailable", "NoSchedule");
}

namespace {

// The automatic daemon tolerations, checked without copying the pod spec.
bool daemon_default_tolerates(const json::object& pod_spec, const json::object& taint) {
  const auto key = str(&taint, "key");
  const auto effect = str(&taint, "effect");
  if (effect == "NoExecute")
    return key == "node.kubernetes.io/not-ready" || key == "node.kubernetes.io/unreachable";
  if (effect == "NoSchedule")
    return key == "node.kubernetes.io/disk-pressure" ||
           key == "node.kubernetes.io/memory-pressure" ||
           key == "node.kubernetes.io/pid-pressure" || key == "node.kubernetes.io/unschedulable" ||
           (key == "node.kubernetes.io/network-unavailable" && boolean(&pod_spec, "hostNetwork"));
  return false;
}

bool daemon_tolerates_taints(const json::object& pod_spec, const json::object& node,
                             bool no_schedule) {
  if (const auto* taints = arr(spec(node), "taints"))
    for (const auto& t : *taints) {
      if (!t.is_object())
        continue;
      const auto effect = str(&t.get_object(), "effect");
      const bool counts = (no_schedule && effect == "NoSchedule") || effect == "NoExecute";
      if (counts && !pod_tolerates(pod_spec, t.get_object()) &&
          !daemon_default_tolerates(pod_spec, t.get_object()))
        return false;
    }
  return true;
}

}  // namespace

bool daemon_should_run(const json::object& pod_template_spec, const json::object& node) {
  return node_selector_matches(pod_template_spec, node) &&
         daemon_tolerates_taints(pod_template_spec, node, true);
}

bool daemon_should_continue(const json::object& pod_template_spec, const json::object& node) {
  return node_selector_matches(pod_template_spec, node) &&
         daemon_tolerates_taints(pod_template_spec, node, false);
}

}  // namespace cnimig::sim
