#include "namespace_lifecycle.hpp"

#include <string>

#include <boost/json.hpp>

#include "json_fields.hpp"

namespace cnimig::sim {
namespace json = boost::json;
using namespace fields;

namespace {

// schema.GroupResource's String(): "daemonsets.apps", "pods".
std::string qualified(const ResourceType& type) {
  return type.group.empty() ? type.plural : type.plural + "." + type.group;
}

// The answer of a failed `get namespace X`, which the plugin returns as is:
// 404, `namespaces "X" not found`, details {name: X, kind: namespaces}.
ApiResponse namespace_not_found(std::string_view ns) {
  return error_response(make_error(Errc::not_found, 404, "NotFound",
                                   "namespaces \"" + std::string(ns) + "\" not found"),
                        "namespaces", ns);
}

// admission.NewForbidden: `<resource> "<name>" is forbidden: <why>`, with
// the NamespaceTerminating cause the plugin appends.
ApiResponse namespace_terminating(const ResourceType& type, std::string_view ns,
                                  std::string_view name) {
  const std::string why = "unable to create new content in namespace " + std::string(ns) +
                          " because it is being terminated";
  std::string message = qualified(type);
  if (!name.empty())
    message += " \"" + std::string(name) + "\"";
  message += " is forbidden: " + why;
  json::object details{{"kind", type.plural}};
  if (!name.empty())
    details["name"] = name;
  if (!type.group.empty())
    details["group"] = type.group;
  details["causes"] =
      json::array{json::object{{"reason", "NamespaceTerminating"},
                               {"message", "namespace " + std::string(ns) + " is being terminated"},
                               {"field", "metadata.namespace"}}};
  const json::object status{{"kind", "Status"},    {"apiVersion", "v1"}, {"metadata", {}},
                            {"status", "Failure"}, {"message", message}, {"reason", "Forbidden"},
                            {"details", details},  {"code", 403}};
  return ApiResponse{403, "application/json", json::serialize(status)};
}

}  // namespace

std::optional<ApiResponse> admit_namespace_lifecycle(const ObjectStore& store,
                                                     const ResourceType& type, std::string_view ns,
                                                     std::string_view name,
                                                     AdmissionOperation operation) {
  // Cluster-scoped kinds (Namespaces among them) are always admitted; so are
  // access reviews, whose answer must not reveal which namespaces exist.
  if (!type.namespaced || ns.empty())
    return std::nullopt;
  if (type.group == "authorization.k8s.io")
    return std::nullopt;
  const auto namespace_object = store.get(resource_type("", "namespaces"), {}, ns);
  if (!namespace_object)
    return namespace_not_found(ns);
  // A Namespace is terminating from its deletion until its finalizers are done.
  const bool terminating =
      deleting(*namespace_object) || str(status(*namespace_object), "phase") == "Terminating";
  if (operation == AdmissionOperation::create && terminating)
    return namespace_terminating(type, ns, name);
  return std::nullopt;
}

}  // namespace cnimig::sim
