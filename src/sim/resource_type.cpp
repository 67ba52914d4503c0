#include "resource_type.hpp"

#include <deque>
#include <mutex>

#include "cnimig/common/error.hpp"

namespace cnimig::sim {
namespace {

struct Entry {
  ResourceType type;
  std::vector<std::string> short_names;
};

struct Registry {
  std::mutex mutex;
  std::deque<Entry> entries;  // deque: registered references stay valid

  Registry() {
    const auto add = [this](ResourceType t, std::vector<std::string> shorts = {}) {
      entries.push_back(Entry{std::move(t), std::move(shorts)});
    };
    add({"", "v1", "namespaces", "Namespace", false, true}, {"ns"});
    add({"", "v1", "nodes", "Node", false, true}, {"no"});
    add({"", "v1", "pods", "Pod", true, true}, {"po"});
    add({"", "v1", "services", "Service", true, true}, {"svc"});
    add({"", "v1", "endpoints", "Endpoints", true, false}, {"ep"});
    add({"", "v1", "configmaps", "ConfigMap", true, false}, {"cm"});
    add({"", "v1", "secrets", "Secret", true, false});
    add({"", "v1", "serviceaccounts", "ServiceAccount", true, false}, {"sa"});
    add({"", "v1", "events", "Event", true, false}, {"ev"});
    add({"apps", "v1", "daemonsets", "DaemonSet", true, true}, {"ds"});
    add({"apps", "v1", "deployments", "Deployment", true, true}, {"deploy"});
    add({"apps", "v1", "replicasets", "ReplicaSet", true, true}, {"rs"});
    add({"apps", "v1", "statefulsets", "StatefulSet", true, true}, {"sts"});
    add({"policy", "v1", "poddisruptionbudgets", "PodDisruptionBudget", true, true}, {"pdb"});
    add({"coordination.k8s.io", "v1", "leases", "Lease", true, false});
    add({"events.k8s.io", "v1", "events", "Event", true, false}, {"ev"});
    add({"rbac.authorization.k8s.io", "v1", "roles", "Role", true, false});
    add({"rbac.authorization.k8s.io", "v1", "rolebindings", "RoleBinding", true, false});
    add({"rbac.authorization.k8s.io", "v1", "clusterroles", "ClusterRole", false, false});
    add({"rbac.authorization.k8s.io", "v1", "clusterrolebindings", "ClusterRoleBinding", false,
         false});
    add({"apiextensions.k8s.io", "v1", "customresourcedefinitions", "CustomResourceDefinition",
         false, true},
        {"crd", "crds"});
    add({"authorization.k8s.io", "v1", "selfsubjectaccessreviews", "SelfSubjectAccessReview", false,
         false});
    add({"batch", "v1", "jobs", "Job", true, true});
    add({"k8s.cni.cncf.io", "v1", "network-attachment-definitions", "NetworkAttachmentDefinition",
         true, false},
        {"net-attach-def"});
  }
};

Registry& registry() {
  static Registry r;
  return r;
}

}  // namespace

const ResourceType* find_resource_type(std::string_view group, std::string_view plural) {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  for (const auto& e : r.entries) {
    if (e.type.group == group && e.type.plural == plural)
      return &e.type;
  }
  return nullptr;
}

const ResourceType& resource_type(std::string_view group, std::string_view plural) {
  if (const auto* t = find_resource_type(group, plural))
    return *t;
  throw ErrorException(make_error(
      Errc::not_found, "unknown resource " + std::string(plural) + "." + std::string(group)));
}

std::vector<const ResourceType*> resource_types() {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  std::vector<const ResourceType*> out;
  for (const auto& e : r.entries)
    out.push_back(&e.type);
  return out;
}

std::vector<std::string> short_names(const ResourceType& type) {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  for (const auto& e : r.entries) {
    if (&e.type == &type)
      return e.short_names;
  }
  return {};
}

std::string qualified_resource(const ResourceType& type) {
  return type.group.empty() ? type.plural : type.plural + "." + type.group;
}

std::string api_version(const ResourceType& type) {
  return type.group.empty() ? type.version : type.group + "/" + type.version;
}

const ResourceType& register_resource_type(ResourceType type) {
  auto& r = registry();
  std::lock_guard lock(r.mutex);
  for (auto& e : r.entries) {
    if (e.type.group == type.group && e.type.plural == type.plural)
      return e.type;
  }
  r.entries.push_back(Entry{std::move(type), {}});
  return r.entries.back().type;
}

}  // namespace cnimig::sim
