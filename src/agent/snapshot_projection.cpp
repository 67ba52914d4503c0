#include "cnimig/agent/snapshot_projection.hpp"

#include "cnimig/common/rfc3339.hpp"
#include "cnimig/wire/object_fields.hpp"

namespace cnimig::agent {
namespace {

std::map<std::string, std::string> string_map(const boost::json::object* o) {
  std::map<std::string, std::string> out;
  if (o == nullptr)
    return out;
  for (const auto& [k, v] : *o) {
    if (v.is_string())
      out.emplace(k, v.get_string());
  }
  return out;
}

bool generation_observed(const boost::json::object& object) {
  const auto* meta = wire::obj(object, "metadata");
  const auto* status = wire::obj(object, "status");
  return wire::integer(status, "observedGeneration", -1) >= wire::integer(meta, "generation", 0);
}

}  // namespace

migrate::NodeState project_node(const boost::json::object& node,
                                std::string_view annotation_prefix) {
  migrate::NodeState out;
  const auto* meta = wire::obj(node, "metadata");
  out.name = std::string(wire::str(meta, "name"));
  out.labels = string_map(meta != nullptr ? wire::obj(*meta, "labels") : nullptr);
  for (auto& [k, v] : string_map(meta != nullptr ? wire::obj(*meta, "annotations") : nullptr)) {
    if (k.starts_with(annotation_prefix))
      out.annotations.emplace(k, std::move(v));
  }
  const auto* spec = wire::obj(node, "spec");
  out.unschedulable = wire::boolean(spec, "unschedulable");
  if (spec != nullptr) {
    if (const auto* taints = spec->if_contains("taints"); taints != nullptr && taints->is_array()) {
      for (const auto& t : taints->get_array()) {
        if (!t.is_object())
          continue;
        const auto* to = &t.get_object();
        out.taints.push_back({std::string(wire::str(to, "key")),
                              std::string(wire::str(to, "value")),
                              std::string(wire::str(to, "effect"))});
      }
    }
  }
  out.ready = wire::condition_true(node, "Ready");
  return out;
}

std::string pod_node_name(const boost::json::object& pod) {
  return std::string(wire::str(wire::obj(pod, "spec"), "nodeName"));
}

migrate::PodState project_pod(const boost::json::object& pod) {
  migrate::PodState out;
  const auto* meta = wire::obj(pod, "metadata");
  out.ns = std::string(wire::str(meta, "namespace"));
  out.name = std::string(wire::str(meta, "name"));
  out.uid = std::string(wire::str(meta, "uid"));
  if (meta != nullptr) {
    if (const auto* ref = wire::controller_ref(pod); ref != nullptr) {
      out.owner_kind = std::string(wire::str(ref, "kind"));
      out.owner_name = std::string(wire::str(ref, "name"));
    }
    if (const auto* annotations = wire::obj(*meta, "annotations"); annotations != nullptr) {
      out.mirror = annotations->contains("kubernetes.io/config.mirror");
    }
    out.terminating =
        meta->contains("deletionTimestamp") && !meta->at("deletionTimestamp").is_null();
    if (auto created = parse_rfc3339(std::string(wire::str(meta, "creationTimestamp")))) {
      out.created =
          std::chrono::duration_cast<std::chrono::seconds>(created->time_since_epoch()).count();
    }
  }
  const auto* spec = wire::obj(pod, "spec");
  out.host_network = wire::boolean(spec, "hostNetwork");
  if (spec != nullptr) {
    if (const auto* volumes = spec->if_contains("volumes");
        volumes != nullptr && volumes->is_array()) {
      for (const auto& v : volumes->get_array()) {
        if (v.is_object() && v.get_object().contains("emptyDir")) {
          out.empty_dir = true;
          break;
        }
      }
    }
  }
  out.ready = wire::pod_ready(pod);
  // cilium-native checks that re-created pods took Cilium's addresses. A
  // hostNetwork pod's is its node's: not kept (an IPv4 address fits the
  // string's own buffer, so the cache stays as small as before).
  if (!out.host_network)
    out.ip = std::string(wire::str(wire::obj(pod, "status"), "podIP"));
  return out;
}

migrate::WorkloadState project_workload(std::string_view kind, const boost::json::object& object) {
  migrate::WorkloadState out;
  out.exists = true;
  const auto* spec = wire::obj(object, "spec");
  const auto* status = wire::obj(object, "status");
  const bool observed = generation_observed(object);
  if (kind == "DaemonSet") {
    const auto* template_spec = spec != nullptr ? wire::obj(*spec, "template") : nullptr;
    template_spec = template_spec != nullptr ? wire::obj(*template_spec, "spec") : nullptr;
    out.node_selector =
        string_map(template_spec != nullptr ? wire::obj(*template_spec, "nodeSelector") : nullptr);
    const auto desired = wire::integer(status, "desiredNumberScheduled");
    const auto updated = wire::integer(status, "updatedNumberScheduled");
    const auto ready = wire::integer(status, "numberReady");
    const auto available = wire::integer(status, "numberAvailable");
    out.ready = observed && desired == updated && updated == ready && ready == available;
    out.desired = desired;
    out.detail = std::to_string(ready) + "/" + std::to_string(desired) + " ready";
    if (!observed)
      out.detail += ", generation not observed";
  } else if (kind == "Deployment") {
    // kubectl rollout status: the new ReplicaSet has every replica updated and
    // available, and no old replica is left.
    const auto replicas = wire::integer(spec, "replicas", 1);
    const auto updated = wire::integer(status, "updatedReplicas");
    const auto total = wire::integer(status, "replicas");
    const auto available = wire::integer(status, "availableReplicas");
    const bool deadline_exceeded =
        wire::condition_reason(object, "Progressing") == "ProgressDeadlineExceeded";
    out.ready = observed && !deadline_exceeded && updated >= replicas && total == updated &&
                available >= updated;
    out.detail = std::to_string(available) + "/" + std::to_string(replicas) + " available";
    if (deadline_exceeded)
      out.detail += ", progress deadline exceeded";
  } else if (kind == "StatefulSet") {
    // kubectl rollout status (RollingUpdate): every replica ready and, past
    // the partition, updated to the update revision.
    const auto replicas = wire::integer(spec, "replicas", 1);
    const auto ready = wire::integer(status, "readyReplicas");
    const auto updated = wire::integer(status, "updatedReplicas");
    std::int64_t partition = 0;
    if (spec != nullptr) {
      if (const auto* strategy = wire::obj(*spec, "updateStrategy"); strategy != nullptr) {
        if (const auto* rolling = wire::obj(*strategy, "rollingUpdate"); rolling != nullptr) {
          partition = wire::integer(rolling, "partition");
        }
      }
    }
    const auto current_revision = std::string(wire::str(status, "currentRevision"));
    const auto update_revision = std::string(wire::str(status, "updateRevision"));
    const bool revision_done =
        partition > 0
            ? updated >= replicas - partition
            : update_revision.empty() || current_revision == update_revision || updated >= replicas;
    out.ready = observed && ready >= replicas && revision_done;
    out.detail = std::to_string(ready) + "/" + std::to_string(replicas) + " ready";
  }
  return out;
}

}  // namespace cnimig::agent
