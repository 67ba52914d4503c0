#include "api_defaults.hpp"

#include <boost/json.hpp>

#include "json_fields.hpp"

namespace cnimig::sim {
namespace json = boost::json;

namespace {

// Go leaves a field unset as nil, "" or (for plain integers) 0: each default
// applies only to such a field, never over a value the client chose.
bool unset(const json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v == nullptr || v->is_null() || (v->is_string() && v->get_string().empty());
}

void set_default(json::object& o, std::string_view key, json::value value) {
  if (unset(o, key))
    o[key] = std::move(value);
}

void set_default_nonzero(json::object& o, std::string_view key, std::int64_t value) {
  const auto* v = o.if_contains(key);
  if (unset(o, key) || (v->is_number() && v->to_number<double>() == 0))
    o[key] = value;
}

template <class F>
void each_object(json::object& o, std::string_view key, F&& f) {
  auto* v = o.if_contains(key);
  if (v == nullptr || !v->is_array())
    return;
  for (auto& item : v->get_array()) {
    if (item.is_object())
      f(item.get_object());
  }
}

// SetDefaults_Probe and SetDefaults_HTTPGetAction.
void default_probe(json::object& probe) {
  set_default_nonzero(probe, "timeoutSeconds", 1);
  set_default_nonzero(probe, "periodSeconds", 10);
  set_default_nonzero(probe, "successThreshold", 1);
  set_default_nonzero(probe, "failureThreshold", 3);
  if (auto* get = probe.if_contains("httpGet"); get != nullptr && get->is_object()) {
    set_default(get->get_object(), "path", "/");
    set_default(get->get_object(), "scheme", "HTTP");
  }
}

// SetDefaults_Container, and ContainerPort.protocol's `+default="TCP"`.
void default_container(json::object& c) {
  if (unset(c, "imagePullPolicy")) {
    const auto* image = c.if_contains("image");
    c["imagePullPolicy"] = default_image_pull_policy(
        image != nullptr && image->is_string() ? std::string_view(image->get_string()) : "");
  }
  set_default(c, "terminationMessagePath", "/dev/termination-log");
  set_default(c, "terminationMessagePolicy", "File");
  each_object(c, "ports", [](json::object& p) { set_default(p, "protocol", "TCP"); });
  for (const char* probe : {"livenessProbe", "readinessProbe", "startupProbe"}) {
    if (auto* p = c.if_contains(probe); p != nullptr && p->is_object())
      default_probe(p->get_object());
  }
}

// The volume sources' defaultMode (0644) and hostPath's type ("": no check).
void default_volume(json::object& v) {
  for (const char* source : {"secret", "configMap", "downwardAPI", "projected"}) {
    if (auto* s = v.if_contains(source); s != nullptr && s->is_object())
      set_default(s->get_object(), "defaultMode", 420);
  }
  if (auto* h = v.if_contains("hostPath");
      h != nullptr && h->is_object() && !h->get_object().contains("type"))
    h->get_object()["type"] = "";
}

// SetDefaults_PodSpec: applies to pods and to every pod template.
void default_pod_spec(json::object& spec) {
  set_default(spec, "dnsPolicy", "ClusterFirst");
  set_default(spec, "restartPolicy", "Always");
  set_default(spec, "securityContext", json::object());
  set_default(spec, "terminationGracePeriodSeconds", 30);
  set_default(spec, "schedulerName", "default-scheduler");
  each_object(spec, "containers", default_container);
  each_object(spec, "initContainers", default_container);
  each_object(spec, "volumes", default_volume);
}

void default_pod_template(json::object& spec) {
  default_pod_spec(fields::ensure_obj(fields::ensure_obj(spec, "template"), "spec"));
}

// SetDefaults_Pod: only pods, not templates (requests from limits,
// enableServiceLinks, host ports of host-network pods).
void default_pod(json::object& pod) {
  auto& spec = fields::ensure_obj(pod, "spec");
  default_pod_spec(spec);
  set_default(spec, "enableServiceLinks", true);
  const bool host_network = spec.contains("hostNetwork") && spec.at("hostNetwork") == true;
  const auto requests_from_limits = [&](json::object& c) {
    if (auto* r = c.if_contains("resources"); r != nullptr && r->is_object()) {
      auto& res = r->get_object();
      if (const auto* limits = res.if_contains("limits");
          limits != nullptr && limits->is_object()) {
        const json::object limit_values = limits->get_object();
        auto& requests = fields::ensure_obj(res, "requests");
        for (const auto& [k, v] : limit_values) {
          if (!requests.contains(k))
            requests[k] = v;
        }
      }
    }
    if (host_network) {
      each_object(c, "ports", [](json::object& p) {
        if (unset(p, "hostPort") || p.at("hostPort") == 0)
          if (const auto* port = p.if_contains("containerPort")) {
            const json::value copy = *port;  // the insertion may move it
            p["hostPort"] = copy;
          }
      });
    }
  };
  each_object(spec, "containers", requests_from_limits);
  each_object(spec, "initContainers", requests_from_limits);
}

void default_daemonset(json::object& ds) {
  auto& spec = fields::ensure_obj(ds, "spec");
  auto& strategy = fields::ensure_obj(spec, "updateStrategy");
  set_default(strategy, "type", "RollingUpdate");
  if (strategy.at("type") == "RollingUpdate") {
    auto& rolling = fields::ensure_obj(strategy, "rollingUpdate");
    set_default(rolling, "maxUnavailable", 1);
    set_default(rolling, "maxSurge", 0);
  }
  set_default(spec, "revisionHistoryLimit", 10);
  default_pod_template(spec);
}

void default_deployment(json::object& d) {
  auto& spec = fields::ensure_obj(d, "spec");
  set_default(spec, "replicas", 1);
  auto& strategy = fields::ensure_obj(spec, "strategy");
  set_default(strategy, "type", "RollingUpdate");
  if (strategy.at("type") == "RollingUpdate") {
    auto& rolling = fields::ensure_obj(strategy, "rollingUpdate");
    set_default(rolling, "maxUnavailable", "25%");
    set_default(rolling, "maxSurge", "25%");
  }
  set_default(spec, "revisionHistoryLimit", 10);
  set_default(spec, "progressDeadlineSeconds", 600);
  default_pod_template(spec);
}

void default_statefulset(json::object& sts) {
  auto& spec = fields::ensure_obj(sts, "spec");
  set_default(spec, "podManagementPolicy", "OrderedReady");
  auto& strategy = fields::ensure_obj(spec, "updateStrategy");
  // Only a strategy left empty gets a rollingUpdate block: an explicit
  // RollingUpdate without one keeps none (SetDefaults_StatefulSet).
  if (unset(strategy, "type")) {
    strategy["type"] = "RollingUpdate";
    fields::ensure_obj(strategy, "rollingUpdate");
  }
  if (strategy.at("type") == "RollingUpdate") {
    if (auto* rolling = strategy.if_contains("rollingUpdate");
        rolling != nullptr && rolling->is_object())
      set_default(rolling->get_object(), "partition", 0);
  }
  // StatefulSetAutoDeletePVC, on by default since Kubernetes 1.27.
  auto& retention = fields::ensure_obj(spec, "persistentVolumeClaimRetentionPolicy");
  set_default(retention, "whenDeleted", "Retain");
  set_default(retention, "whenScaled", "Retain");
  set_default(spec, "replicas", 1);
  set_default(spec, "revisionHistoryLimit", 10);
  default_pod_template(spec);
}

void default_service(json::object& svc) {
  auto& spec = fields::ensure_obj(svc, "spec");
  set_default(spec, "sessionAffinity", "None");
  set_default(spec, "type", "ClusterIP");
  each_object(spec, "ports", [](json::object& p) {
    set_default(p, "protocol", "TCP");
    if (unset(p, "targetPort") || p.at("targetPort") == 0)
      if (const auto* port = p.if_contains("port")) {
        const json::value copy = *port;  // the insertion may move it
        p["targetPort"] = copy;
      }
  });
  const auto type = spec.at("type");
  if (type == "NodePort" || type == "LoadBalancer")
    set_default(spec, "externalTrafficPolicy", "Cluster");
  if (type == "ClusterIP" || type == "NodePort" || type == "LoadBalancer")
    set_default(spec, "internalTrafficPolicy", "Cluster");
}

// SetDefaults_Namespace and SetDefaults_NamespaceStatus.
void default_namespace(json::object& ns) {
  auto& meta = fields::ensure_obj(ns, "metadata");
  const auto* name = meta.if_contains("name");
  if (name != nullptr && name->is_string() && !name->get_string().empty()) {
    const json::value copy = *name;  // the labels' insertion may move it
    fields::ensure_obj(meta, "labels")["kubernetes.io/metadata.name"] = copy;
  }
  set_default(fields::ensure_obj(ns, "status"), "phase", "Active");
}

}  // namespace

std::string_view default_image_pull_policy(std::string_view image) {
  if (image.empty())
    return "IfNotPresent";  // unparsable: no tag found
  const auto at = image.find('@');
  const bool digest = at != std::string_view::npos;
  const auto name = image.substr(0, at);
  // A colon before the last slash is a registry port (host:5000/app), not a tag.
  const auto slash = name.rfind('/');
  const auto colon = name.rfind(':');
  std::string_view tag;
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash))
    tag = name.substr(colon + 1);
  if (tag.empty() && !digest)
    tag = "latest";
  return tag == "latest" ? "Always" : "IfNotPresent";
}

void apply_defaults(const ResourceType& type, json::object& object) {
  if (type.group.empty()) {
    if (type.plural == "pods")
      default_pod(object);
    else if (type.plural == "services")
      default_service(object);
    else if (type.plural == "namespaces")
      default_namespace(object);
    return;
  }
  if (type.group == "apps") {
    if (type.plural == "daemonsets")
      default_daemonset(object);
    else if (type.plural == "deployments")
      default_deployment(object);
    else if (type.plural == "statefulsets")
      default_statefulset(object);
    else if (type.plural == "replicasets") {
      set_default(fields::ensure_obj(object, "spec"), "replicas", 1);
      default_pod_template(fields::ensure_obj(object, "spec"));
    }
    return;
  }
  if (type.group == "batch" && type.plural == "jobs")
    default_pod_template(fields::ensure_obj(object, "spec"));
}

}  // namespace cnimig::sim
