// Writes that store an object: create (and pods/binding), update, and the
// patch types (JSON patch, merge patch, strategic merge patch, server-side apply).
#include <boost/json.hpp>

#include "api_defaults.hpp"
#include "api_handler.hpp"
#include "api_response.hpp"
#include "json_fields.hpp"
#include "namespace_lifecycle.hpp"
#include "patch.hpp"
#include "service_account_admission.hpp"

namespace cnimig::sim {
namespace json = boost::json;

namespace {

// A metadata.managedFields entry: who wrote the object, and how.
json::object managed_fields_entry(const std::string& manager, std::string_view operation,
                                  const ResourceType& type) {
  return json::object{
      {"manager", manager},    {"operation", operation},   {"apiVersion", api_version(type)},
      {"time", rfc3339_now()}, {"fieldsType", "FieldsV1"}, {"fieldsV1", json::object()}};
}

}  // namespace

ApiResponse ApiHandler::create(const ResourcePath& rp, const Query& q, const std::string& body) {
  const auto& type = *rp.type;
  if (type.plural == "selfsubjectaccessreviews")
    return self_subject_access_review(body);
  auto obj = parse_object(body);
  if (!obj)
    return error_response(obj.error());
  if (rp.subresource == "binding" && is_pods(type)) {
    auto pod = store_.get(type, rp.ns, rp.name);
    if (!pod)
      return error_response(not_found("pods \"" + rp.name + "\" not found"));
    const auto* target = fields::obj(*obj, "target");
    json::object next = *pod;
    next["spec"].as_object()["nodeName"] = fields::str(target, "name");
    auto r = store_.update(type, std::move(next));
    if (!r)
      return error_response(r.error());
    return ApiResponse{
        201, "application/json",
        R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Success","code":201})"};
  }
  if (!rp.name.empty())
    return error_response(make_error(Errc::method_not_allowed, 405, "MethodNotAllowed",
                                     "POST to a named " + type.plural + " is not supported"));
  if (auto refused = check_api_version(rp, *obj))
    return *refused;
  {
    auto& meta = fields::mutable_meta(*obj);
    if (type.namespaced) {
      const auto body_ns = fields::str(&meta, "namespace");
      if (!body_ns.empty() && !rp.ns.empty() && body_ns != rp.ns)
        return error_response(
            bad_request("the namespace of the provided object does not match the namespace sent "
                        "on the request"));
      if (body_ns.empty())
        meta["namespace"] = rp.ns.empty() ? "default" : rp.ns;
    }
    meta.erase("resourceVersion");
  }
  // Decoding defaults the object; admission comes next, before the store
  // can answer AlreadyExists (and for dry runs too).
  apply_defaults(type, *obj);
  if (auto refused = admit_namespace_lifecycle(store_, type, fields::ns(*obj), fields::name(*obj),
                                               AdmissionOperation::create))
    return *refused;
  if (auto admitted = admit_service_account(store_, type, *obj); !admitted)
    return error_response(admitted.error(), type.plural, fields::name(*obj));
  auto& meta = fields::mutable_meta(*obj);  // taken after admission, which may move members
  if (q.get("dryRun") == "All") {
    if (store_.get(type, fields::str(&meta, "namespace"), fields::str(&meta, "name")))
      return error_response(make_error(
          Errc::already_exists, 409, "AlreadyExists",
          type.plural + " \"" + std::string(fields::str(&meta, "name")) + "\" already exists"));
    meta["creationTimestamp"] = rfc3339_now();
    return object_response(*obj, 201);
  }
  if (!q.get("fieldManager").empty()) {
    meta["managedFields"] =
        json::array{managed_fields_entry(q.get("fieldManager"), "Update", type)};
  }
  auto r = store_.create(type, std::move(*obj));
  if (!r)
    return error_response(r.error(), type.plural);
  return object_response(*r, 201);
}

ApiResponse ApiHandler::replace(const ResourcePath& rp, const Query& q, const std::string& body) {
  const auto& type = *rp.type;
  auto obj = parse_object(body);
  if (!obj)
    return error_response(obj.error());
  if (auto refused = check_api_version(rp, *obj))
    return *refused;
  auto& meta = fields::mutable_meta(*obj);
  if (fields::str(&meta, "name") != rp.name)
    return error_response(bad_request("the name of the object does not match the name on the URL"));
  if (type.namespaced)
    meta["namespace"] = rp.ns;
  apply_defaults(type, *obj);
  if (auto refused =
          admit_namespace_lifecycle(store_, type, rp.ns, rp.name, AdmissionOperation::update))
    return *refused;
  if (q.get("dryRun") == "All") {
    // What the write would meet: 404 for a missing object, 409 for a stale
    // metadata.resourceVersion.
    if (auto ok = store_.check_resource_version(type, *obj); !ok)
      return error_response(ok.error(), type.plural, rp.name);
    return object_response(*obj);
  }
  auto r = rp.subresource == "status" ? store_.update_status(type, std::move(*obj))
                                      : store_.update(type, std::move(*obj));
  if (!r)
    return error_response(r.error(), type.plural, rp.name);
  return object_response(*r);
}

ApiResponse ApiHandler::patch(const ResourcePath& rp, const Query& q, const ApiRequest& request) {
  const auto& type = *rp.type;
  auto ct = request.content_type.substr(0, request.content_type.find(';'));
  boost::system::error_code ec;
  auto body = json::parse(request.body, ec);
  if (ec) {
    return error_response(
        make_error(Errc::bad_request, 400, "BadRequest",
                   ct == "application/apply-patch+yaml"
                       ? "cnimig-sim accepts apply patches as JSON only (kubectl sends JSON)"
                       : "the patch body is not valid JSON"));
  }
  auto current = store_.get(type, rp.ns, rp.name);
  const bool apply = ct == "application/apply-patch+yaml";
  if (apply && q.get("fieldManager").empty())
    return error_response(
        bad_request("PATCH, application/apply-patch+yaml requires fieldManager to be set"));
  if (!current && !apply)
    return error_response(not_found(type.plural + " \"" + rp.name + "\" not found"), type.plural,
                          rp.name);
  Result<json::value> patched = json::value();
  if (ct == "application/json-patch+json") {
    patched = json_patch(json::value(*current), body);
  } else if (ct == "application/merge-patch+json") {
    patched = json_merge_patch(json::value(*current), body);
  } else if (ct == "application/strategic-merge-patch+json" || apply) {
    if (!body.is_object())
      return error_response(bad_request("the patch body must be a JSON object"));
    if (apply) {
      if (auto answer = server_side_apply(rp, q, current, body.get_object()))
        return std::move(*answer);
    }
    patched = strategic_merge_patch(json::value(*current), body);
  } else {
    return error_response(make_error(Errc::bad_request, 415, "UnsupportedMediaType",
                                     "the body of the request was in an unknown format - "
                                     "accepted media types include: application/json-patch+json, "
                                     "application/merge-patch+json, "
                                     "application/apply-patch+yaml, "
                                     "application/strategic-merge-patch+json"));
  }
  if (!patched)
    return error_response(patched.error(), type.plural, rp.name);
  return save_patched(rp, q, std::move(*patched));
}

// Readies an apply patch for the merge: its name and namespace are the URL's
// and its field manager's entry replaces that manager's earlier one. When
// the object does not exist, apply creates it here.
std::optional<ApiResponse> ApiHandler::server_side_apply(const ResourcePath& rp, const Query& q,
                                                         const ObjectPtr& current,
                                                         json::object& body) {
  const auto& type = *rp.type;
  auto& bm = fields::mutable_meta(body);
  if (!fields::str(&bm, "name").empty() && fields::str(&bm, "name") != rp.name)
    return error_response(bad_request("the name of the object does not match the name on the URL"));
  bm["name"] = rp.name;
  if (type.namespaced)
    bm["namespace"] = rp.ns;
  json::array managed;
  if (current) {
    if (const auto* cm = fields::obj(*current, "metadata"))
      if (const auto* mf = cm->if_contains("managedFields"); mf && mf->is_array())
        for (const auto& e : mf->get_array())
          if (fields::str(e.if_object(), "manager") != q.get("fieldManager"))
            managed.push_back(e);
  }
  managed.push_back(managed_fields_entry(q.get("fieldManager"), "Apply", type));
  bm["managedFields"] = std::move(managed);
  if (current)
    return std::nullopt;
  bm.erase("resourceVersion");
  apply_defaults(type, body);
  if (auto refused =
          admit_namespace_lifecycle(store_, type, rp.ns, rp.name, AdmissionOperation::create))
    return *refused;
  if (q.get("dryRun") == "All")
    return object_response(body, 201);
  auto r = store_.create(type, std::move(body));
  if (!r)
    return error_response(r.error(), type.plural, rp.name);
  return object_response(*r, 201);
}

// Stores (or, for a dry run, only checks) the result of a patch.
ApiResponse ApiHandler::save_patched(const ResourcePath& rp, const Query& q, json::value patched) {
  const auto& type = *rp.type;
  if (!patched.is_object())
    return error_response(bad_request("the patch result is not an object"));
  auto& obj = patched.get_object();
  auto& meta = fields::mutable_meta(obj);
  meta["name"] = rp.name;
  if (type.namespaced)
    meta["namespace"] = rp.ns;
  apply_defaults(type, obj);
  if (auto refused =
          admit_namespace_lifecycle(store_, type, rp.ns, rp.name, AdmissionOperation::update))
    return *refused;
  // A metadata.resourceVersion in the patch (any patch type, apply included)
  // is a precondition, as on an update: a dry run meets it too.
  if (q.get("dryRun") == "All") {
    if (auto ok = store_.check_resource_version(type, obj); !ok)
      return error_response(ok.error(), type.plural, rp.name);
    return object_response(obj);
  }
  auto r = rp.subresource == "status" ? store_.update_status(type, std::move(obj))
                                      : store_.update(type, std::move(obj));
  if (!r)
    return error_response(r.error(), type.plural, rp.name);
  return object_response(*r);
}

}  // namespace cnimig::sim
