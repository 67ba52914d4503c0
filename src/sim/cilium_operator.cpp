#include "cilium_operator.hpp"

#include "cnimig/common/split.hpp"

namespace cnimig::sim {

namespace json = boost::json;
using namespace fields;

namespace {

constexpr std::string_view operator_namespace = "kube-system";
constexpr std::string_view operator_deployment = "cilium-operator";

// The minor release of "v1.18.9" in the image's tag; nullopt without one.
std::optional<int> cilium_minor(std::string_view image) {
  image = image.substr(0, image.find('@'));
  const auto colon = image.rfind(':');
  if (colon == std::string_view::npos || image.find('/', colon) != std::string_view::npos)
    return std::nullopt;
  auto tag = image.substr(colon + 1);
  if (tag.starts_with('v'))
    tag.remove_prefix(1);
  const auto [major, rest] = cnimig::split_once(tag, '.');
  std::optional<int> minor;
  if (major != "1")
    return minor;
  for (const char c : rest) {
    if (c < '0' || c > '9')
      break;
    minor = minor.value_or(0) * 10 + (c - '0');
  }
  return minor;
}

}  // namespace

std::vector<std::string> node_config_versions(std::string_view image) {
  const int minor = cilium_minor(image).value_or(18);
  if (minor < 16)
    return {"v2alpha1"};
  if (minor < 20)
    return {"v2", "v2alpha1"};
  return {"v2"};
}

json::object node_config_crd(const std::vector<std::string>& versions) {
  json::array vs;
  for (std::size_t i = 0; i < versions.size(); ++i)
    vs.push_back(json::object{
        {"name", versions[i]},
        {"served", true},
        {"storage", i == 0},
        {"schema", json::object{{"openAPIV3Schema",
                                 json::object{{"type", "object"},
                                              {"x-kubernetes-preserve-unknown-fields", true}}}}}});
  return json::object{
      {"apiVersion", "apiextensions.k8s.io/v1"},
      {"kind", "CustomResourceDefinition"},
      {"metadata",
       json::object{{"name", node_config_crd_name},
                    {"labels", json::object{{"io.cilium.k8s.crd.schema.version", "1.31.1"}}}}},
      {"spec", json::object{{"group", "cilium.io"},
                            {"names", json::object{{"kind", "CiliumNodeConfig"},
                                                   {"listKind", "CiliumNodeConfigList"},
                                                   {"plural", "ciliumnodeconfigs"},
                                                   {"singular", "ciliumnodeconfig"}}},
                            {"scope", "Namespaced"},
                            {"versions", std::move(vs)}}},
      // What kube-apiserver's CRD controllers report once the names are
      // accepted and the resource served (`kubectl wait --for
      // condition=Established` waits for it).
      {"status",
       json::object{{"acceptedNames", json::object{{"kind", "CiliumNodeConfig"},
                                                   {"listKind", "CiliumNodeConfigList"},
                                                   {"plural", "ciliumnodeconfigs"},
                                                   {"singular", "ciliumnodeconfig"}}},
                    {"conditions", json::array{json::object{{"type", "NamesAccepted"},
                                                            {"status", "True"},
                                                            {"reason", "NoConflicts"}},
                                               json::object{{"type", "Established"},
                                                            {"status", "True"},
                                                            {"reason", "InitialNamesAccepted"}}}},
                    {"storedVersions", json::array{json::value(versions.front())}}}}};
}

void CiliumOperator::observe(const Change& change) {
  if (change.resource != &ctx_.pods || change.type == ChangeType::deleted)
    return;
  // Only pods of a ReplicaSet of the operator's Deployment (named after it)
  // are candidates: the rest of kube-system is never listed.
  const auto& pod = *change.object;
  const auto* ref = controller_ref(pod);
  if (ns(pod) != operator_namespace || !ref || str(ref, "kind") != "ReplicaSet" ||
      !str(ref, "name").starts_with(std::string(operator_deployment) + "-"))
    return;
  candidates_.insert(key(pod));
  if (pod_ready(pod))
    pending_ = true;
}

std::optional<std::string> CiliumOperator::ready_operator_image() {
  for (auto it = candidates_.begin(); it != candidates_.end();) {
    const auto pod = ctx_.store.get(ctx_.pods, *it);
    if (!pod) {
      it = candidates_.erase(it);
      continue;
    }
    ++it;
    const auto* ref = controller_ref(*pod);
    if (!pod_ready(*pod) || deleting(*pod))
      continue;
    const auto rs = ctx_.store.get(ctx_.replicasets, operator_namespace, str(ref, "name"));
    const auto* owner = rs ? controller_ref(*rs) : nullptr;
    if (!owner || str(owner, "kind") != "Deployment" || str(owner, "name") != operator_deployment)
      continue;
    const auto* containers = arr(spec(*pod), "containers");
    if (containers && !containers->empty() && containers->front().is_object())
      return std::string(str(&containers->front().get_object(), "image"));
  }
  return std::nullopt;
}

void CiliumOperator::reconcile() {
  pending_ = false;
  const auto image = ready_operator_image();
  if (!image)
    return;
  const auto& crds = resource_type("apiextensions.k8s.io", "customresourcedefinitions");
  auto wanted = node_config_crd(node_config_versions(*image));
  const auto current = ctx_.store.get(crds, "", node_config_crd_name);
  if (!current) {
    (void)ctx_.store.create(crds, std::move(wanted));
    return;
  }
  // An operator of another release updates the CRD's versions.
  if (spec(*current) && json::value(*spec(*current)) == wanted.at("spec"))
    return;
  json::object next = *current;
  next["spec"] = wanted.at("spec");
  next["metadata"].as_object().erase("resourceVersion");
  (void)ctx_.store.update(crds, std::move(next));
}

}  // namespace cnimig::sim
