#pragma once
// The scheduler's and the DaemonSet controller's node filters over real
// Kubernetes JSON (core/v1 Node, PodSpec): cordon, taints/tolerations,
// nodeSelector, required node affinity. Pure functions.

#include <string_view>

#include <boost/json/object.hpp>

namespace cnimig::sim {

// toleration.key empty + Exists tolerates every taint; empty effect matches all effects.
bool tolerates(const boost::json::object& toleration, const boost::json::object& taint);
// Does some toleration of the pod spec tolerate this taint.
bool pod_tolerates(const boost::json::object& pod_spec, const boost::json::object& taint);
// Every taint of `node` with one of the effects in `effects` (NoSchedule, NoExecute,
// PreferNoSchedule ignored by filters) is tolerated.
bool tolerates_node_taints(const boost::json::object& pod_spec, const boost::json::object& node,
                           bool no_schedule, bool no_execute);
// spec.nodeSelector and requiredDuringSchedulingIgnoredDuringExecution matchExpressions.
bool node_selector_matches(const boost::json::object& pod_spec, const boost::json::object& node);
bool node_unschedulable(const boost::json::object& node);

// kube-scheduler's filters for a pod: not cordoned, NoSchedule/NoExecute taints
// tolerated, selector/affinity matches. (node.kubernetes.io/unschedulable taint
// is implied by spec.unschedulable.)
bool pod_fits_node(const boost::json::object& pod_spec, const boost::json::object& node);

// The DaemonSet controller's nodeShouldRunDaemonPod: selector/affinity match and
// taints tolerated, counting the tolerations the controller adds to every daemon
// pod (not-ready, unreachable, disk/memory/pid-pressure, unschedulable: NoExecute
// or NoSchedule as upstream does). Cordon does not matter for daemon pods.
bool daemon_should_run(const boost::json::object& pod_template_spec,
                       const boost::json::object& node);
// Whether an existing daemon pod may keep running (only NoExecute taints count).
bool daemon_should_continue(const boost::json::object& pod_template_spec,
                            const boost::json::object& node);

// Adds the DaemonSet controller's automatic tolerations to a pod spec.
void add_daemon_tolerations(boost::json::object& pod_spec);

}  // namespace cnimig::sim
