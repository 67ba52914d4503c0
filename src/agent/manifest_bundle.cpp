#include "cnimig/agent/manifest_bundle.hpp"

#include <algorithm>
#include <fstream>
#include <sstream>
#include <utility>

#include "cnimig/agent/cilium_native_bundle.hpp"
#include "cnimig/agent/multus_delegates.hpp"
#include "cnimig/agent/yaml_documents.hpp"
#include "cnimig/wire/object_fields.hpp"

namespace cnimig::agent {
namespace {

struct KindEntry {
  std::string_view api_version;
  std::string_view kind;
  KindInfo info;
};

// Apply order follows what each object needs to exist first (as Helm orders
// installs): namespaces and CRDs, identities and RBAC, configuration, then
// services and workloads.
const KindEntry kKinds[] = {
    {"v1", "Namespace", {"", "v1", "namespaces", false, 0}},
    {"apiextensions.k8s.io/v1",
     "CustomResourceDefinition",
     {"apiextensions.k8s.io", "v1", "customresourcedefinitions", false, 1}},
    {"v1", "ServiceAccount", {"", "v1", "serviceaccounts", true, 2}},
    {"v1", "Secret", {"", "v1", "secrets", true, 3}},
    {"v1", "ConfigMap", {"", "v1", "configmaps", true, 3}},
    {"rbac.authorization.k8s.io/v1",
     "ClusterRole",
     {"rbac.authorization.k8s.io", "v1", "clusterroles", false, 4}},
    {"rbac.authorization.k8s.io/v1",
     "ClusterRoleBinding",
     {"rbac.authorization.k8s.io", "v1", "clusterrolebindings", false, 5}},
    {"rbac.authorization.k8s.io/v1", "Role", {"rbac.authorization.k8s.io", "v1", "roles", true, 4}},
    {"rbac.authorization.k8s.io/v1",
     "RoleBinding",
     {"rbac.authorization.k8s.io", "v1", "rolebindings", true, 5}},
    {"k8s.cni.cncf.io/v1",
     "NetworkAttachmentDefinition",
     {"k8s.cni.cncf.io", "v1", "network-attachment-definitions", true, 6}},
    {"v1", "Service", {"", "v1", "services", true, 7}},
    {"policy/v1", "PodDisruptionBudget", {"policy", "v1", "poddisruptionbudgets", true, 7}},
    {"apps/v1", "DaemonSet", {"apps", "v1", "daemonsets", true, 8}},
    {"apps/v1", "Deployment", {"apps", "v1", "deployments", true, 8}},
    {"apps/v1", "StatefulSet", {"apps", "v1", "statefulsets", true, 8}},
    {"batch/v1", "Job", {"batch", "v1", "jobs", true, 9}},
    // cilium-native's node selection; its CRD is the Cilium operator's.
    {"cilium.io/v2", "CiliumNodeConfig", {"cilium.io", "v2", "ciliumnodeconfigs", true, 10}},
    {"cilium.io/v2alpha1",
     "CiliumNodeConfig",
     {"cilium.io", "v2alpha1", "ciliumnodeconfigs", true, 10}},
};

Result<std::string> read_file(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in)
    return make_error(Errc::config, file.string() + ": cannot read the manifest");
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

}  // namespace

const KindInfo* find_kind(std::string_view api_version, std::string_view kind) {
  for (const auto& e : kKinds) {
    if (e.api_version == api_version && e.kind == kind)
      return &e.info;
  }
  return nullptr;
}

std::string ManifestObject::describe() const {
  return kind + " " + (namespace_.empty() ? name : namespace_ + "/" + name);
}

LabelRewrite LabelRewrite::from(const config::LabelKeys& configured) {
  const config::LabelKeys defaults;
  LabelRewrite r;
  r.value = configured.value;
  const std::pair<const std::string*, const std::string*> pairs[] = {
      {&defaults.calico_cilium, &configured.calico_cilium},
      {&defaults.cni_priority_calico, &configured.cni_priority_calico},
      {&defaults.cni_priority_cilium, &configured.cni_priority_cilium},
      {&defaults.rolled, &configured.rolled},
      {&defaults.cilium, &configured.cilium},
      {&defaults.migrated, &configured.migrated},
  };
  for (const auto& [from, to] : pairs)
    r.keys[*from] = *to;
  return r;
}

// Rewrites the places a label key appears in a pod template: map keys
// (nodeSelector), and {"key": K, "value"/"values": ...} objects (tolerations,
// node affinity match expressions). The default value "true" next to a
// rewritten key becomes the configured value.
void LabelRewrite::apply(boost::json::value& v) const {
  if (v.is_array()) {
    for (auto& item : v.get_array())
      apply(item);
    return;
  }
  if (!v.is_object())
    return;
  auto& o = v.get_object();
  if (auto* key = o.if_contains("key"); key != nullptr && key->is_string()) {
    if (auto it = keys.find(std::string(key->get_string())); it != keys.end()) {
      *key = it->second;
      if (auto* value = o.if_contains("value");
          value != nullptr && value->is_string() && value->get_string() == "true") {
        *value = this->value;
      }
      if (auto* values = o.if_contains("values"); values != nullptr && values->is_array()) {
        for (auto& item : values->get_array()) {
          if (item.is_string() && item.get_string() == "true")
            item = this->value;
        }
      }
    }
  }
  boost::json::object renamed;
  bool changed = false;
  for (auto& [k, child] : o) {
    apply(child);
    auto it = keys.find(std::string(k));
    if (it != keys.end()) {
      changed = true;
      auto moved = child;
      if (moved.is_string() && moved.get_string() == "true")
        moved = this->value;
      renamed[it->second] = std::move(moved);
    } else {
      renamed[k] = child;
    }
  }
  if (changed)
    o = std::move(renamed);
}

Result<ManifestBundle> ManifestBundle::load(std::string id, const std::filesystem::path& file,
                                            const LabelRewrite& rewrite) {
  auto text = read_file(file);
  if (!text)
    return text.error();
  return parse(std::move(id), *text, file.string(), rewrite);
}

Result<ManifestBundle> ManifestBundle::parse(std::string id, std::string_view yaml,
                                             const std::string& source,
                                             const LabelRewrite& rewrite) {
  auto documents = parse_yaml_documents(yaml, source);
  if (!documents)
    return documents.error();
  ManifestBundle bundle;
  bundle.id_ = std::move(id);
  for (auto& body : *documents) {
    ManifestObject object;
    object.kind = wire::str(&body, "kind");
    const std::string api_version(wire::str(&body, "apiVersion"));
    object.name = wire::name(body);
    object.namespace_ = wire::ns(body);
    const auto* info = find_kind(api_version, object.kind);
    if (info == nullptr) {
      return make_error(Errc::config, source + ": " + api_version + " " + object.kind + " " +
                                          object.name + ": kind not supported in manifests");
    }
    object.info = *info;
    if (info->namespaced && object.namespace_.empty()) {
      return make_error(Errc::config, source + ": " + object.kind + " " + object.name +
                                          ": namespaced object without metadata.namespace");
    }
    if (!info->namespaced && !object.namespace_.empty()) {
      return make_error(Errc::config, source + ": " + object.kind + " " + object.name +
                                          ": cluster-scoped object with metadata.namespace");
    }
    if (bundle.find(object.kind, object.namespace_, object.name) != nullptr) {
      return make_error(Errc::config, source + ": " + object.describe() + " is defined twice");
    }
    boost::json::value v(std::move(body));
    rewrite.apply(v);
    rewrite.images.apply(v.get_object());
    object.body = std::move(v.get_object());
    bundle.objects_.push_back(std::move(object));
  }
  if (bundle.objects_.empty())
    return make_error(Errc::config, source + ": the manifest defines no objects");
  std::stable_sort(bundle.objects_.begin(), bundle.objects_.end(),
                   [](const ManifestObject& a, const ManifestObject& b) {
                     return a.info.apply_order < b.info.apply_order;
                   });
  return bundle;
}

ManifestBundle ManifestBundle::of(std::string id, std::vector<ManifestObject> objects) {
  ManifestBundle bundle;
  bundle.id_ = std::move(id);
  bundle.objects_ = std::move(objects);
  return bundle;
}

const ManifestObject* ManifestBundle::find(std::string_view kind, std::string_view ns,
                                           std::string_view name) const {
  for (const auto& o : objects_) {
    if (o.kind == kind && o.namespace_ == ns && o.name == name)
      return &o;
  }
  return nullptr;
}

ManifestObject* ManifestBundle::find(std::string_view kind, std::string_view ns,
                                     std::string_view name) {
  return const_cast<ManifestObject*>(std::as_const(*this).find(kind, ns, name));
}

Result<std::map<std::string, ManifestBundle>> load_bundles(const config::Config& config) {
  auto rewrite = LabelRewrite::from(config.labels);
  rewrite.images = ImageRewrite::from(config.images);
  std::map<std::string, ManifestBundle> bundles;
  for (const auto& [id, path] : config.paths.bundles()) {
    auto bundle = ManifestBundle::load(id, path, rewrite);
    if (!bundle)
      return bundle.error();
    if (id == "multus") {
      if (auto chosen =
              select_multus_delegate(*bundle, config.source_cni.cni_config, path.string());
          !chosen)
        return chosen.error();
    }
    if (id == "cilium-native") {
      auto split = split_cilium_native(std::move(*bundle), config.labels, path.string());
      if (!split)
        return split.error();
      for (auto& part : *split)
        bundles.emplace(part.id(), std::move(part));
      continue;
    }
    bundles.emplace(id, std::move(*bundle));
  }
  return bundles;
}

}  // namespace cnimig::agent
