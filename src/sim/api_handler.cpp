#include "api_handler.hpp"

#include <optional>

#include <boost/json.hpp>

#include "api_response.hpp"
#include "json_fields.hpp"

namespace cnimig::sim {
namespace json = boost::json;

namespace {

// The RBAC verb of a request on a resource path; nullopt for a method the
// API does not serve.
std::optional<std::string> verb_of(const std::string& method, const ResourcePath& rp, bool watch) {
  if (method == "GET")
    return watch ? "watch" : rp.name.empty() ? "list" : "get";
  if (method == "POST")
    return "create";
  if (method == "PUT")
    return "update";
  if (method == "PATCH")
    return "patch";
  if (method == "DELETE")
    return rp.name.empty() ? "deletecollection" : "delete";
  return std::nullopt;
}

// "plural[.group][/subresource]", as the report counts requests.
std::string resource_of(const ResourcePath& rp) {
  std::string resource = rp.type->plural;
  if (!rp.type->group.empty())
    resource += "." + rp.type->group;
  if (!rp.subresource.empty())
    resource += "/" + rp.subresource;
  return resource;
}

// The query parameter, or (DELETE, eviction) the DeleteOptions body's
// dryRun: ["All"], as kubectl sends it.
bool requests_dry_run(const Query& q, const std::string& method, const std::string& body) {
  if (q.get("dryRun") == "All")
    return true;
  if ((method != "DELETE" && method != "POST") || body.find("dryRun") == std::string::npos)
    return false;
  auto parsed = parse_object(body);
  if (!parsed)
    return false;
  const json::object* options = &*parsed;
  if (const auto* nested = fields::obj(*parsed, "deleteOptions"))
    options = nested;
  const auto* d = options->if_contains("dryRun");
  return d != nullptr && d->is_array() && !d->get_array().empty();
}

}  // namespace

ApiHandler::ApiHandler(ObjectStore& store, std::size_t history_capacity)
    : store_(store), history_(history_capacity) {
  observer_id_ = store_.observe([this](const Change& c) {
    history_.record(c);
    if (c.resource->plural == "customresourcedefinitions")
      on_crd_change(c);
  });
}

ApiHandler::~ApiHandler() {
  store_.unobserve(observer_id_);
}

ApiResult ApiHandler::handle(const ApiRequest& request) {
  const auto qpos = request.target.find('?');
  const std::string path = request.target.substr(0, qpos);
  const Query q =
      Query::parse(qpos == std::string::npos ? std::string_view{}
                                             : std::string_view(request.target).substr(qpos + 1));
  if (path == "/sim/v1/report") {
    count_request("get", "sim/report");
    return {object_response(report()), nullptr};
  }
  if (path == "/sim/v1/faults")
    return {fault_endpoint(request), nullptr};
  if (path == "/openapi/v3" || path.starts_with("/openapi/v3/")) {
    count_request("get", "openapi");
    return {openapi_v3(path), nullptr};
  }
  if (path.starts_with("/openapi/")) {
    // No OpenAPI v2: kubectl then builds strategic merge patches from its
    // compiled-in types (and uses v3 to learn that fieldValidation is served).
    count_request("get", "openapi");
    return {error_response(not_found("the server could not find the requested resource")), nullptr};
  }
  if (request.method == "GET") {
    if (auto d = discovery(path)) {
      count_request("get", "discovery");
      return {std::move(*d), nullptr};
    }
  }
  const auto rp = parse_path(path);
  if (!rp || !rp->type || !serves(*rp)) {
    count_request(request.method, "unknown");
    return {error_response(not_found("the server could not find the requested resource")), nullptr};
  }
  return handle_resource(request, *rp, q);
}

ApiResult ApiHandler::handle_resource(const ApiRequest& request, const ResourcePath& rp,
                                      const Query& q) {
  const auto& m = request.method;
  const bool watch = m == "GET" && (q.flag("watch"));
  const auto verb = verb_of(m, rp, watch);
  if (!verb)
    return {error_response(make_error(Errc::method_not_allowed, 405, "MethodNotAllowed",
                                      "method " + m + " is not supported")),
            nullptr};
  const auto resource = resource_of(rp);
  const bool write = *verb != "get" && *verb != "list" && *verb != "watch";
  // dryRun=All: validated and answered as if done, nothing persisted; counted
  // as "dryrun <verb> <resource>", never as the write itself.
  const bool dry_run = write && requests_dry_run(q, m, request.body);
  count_request(dry_run ? "dryrun " + *verb : *verb, resource);
  if (auto denied = authorize(*verb, rp))
    return {std::move(*denied), nullptr};

  ApiResult result;
  if (auto fault = injected_fault(*verb, result.hold)) {
    result.response = std::move(*fault);
    return result;
  }
  if (stop_write(*verb, rp, resource, q, request.body)) {
    result.hold = true;  // the "crash": stop answering from the k-th write on
    return result;
  }
  if (m == "GET")
    return read(request, rp, q, watch, resource);
  return {dispatch_write(request, rp, q), nullptr};
}

ApiResult ApiHandler::read(const ApiRequest& request, const ResourcePath& rp, const Query& q,
                           bool watch, const std::string& resource) {
  if (watch && !rp.name.empty() && rp.subresource.empty())
    return watch_one(rp, q, wants_table(request.accept));
  if (!rp.name.empty() && rp.subresource == "log" && is_pods(*rp.type)) {
    if (!store_.get(*rp.type, rp.ns, rp.name))
      return {error_response(not_found("pods \"" + rp.name + "\" not found"), "pods", rp.name),
              nullptr};
    return {ApiResponse{200, "text/plain", "cnimig-sim: simulated containers write no logs\n"},
            nullptr};
  }
  if (!rp.name.empty()) {
    if (!rp.subresource.empty() && rp.subresource != "status")
      return {error_response(bad_request("subresource " + rp.subresource +
                                         " needs a WebSocket upgrade or is not served")),
              nullptr};
    auto obj = store_.get(*rp.type, rp.ns, rp.name);
    if (!obj)
      return {error_response(not_found(resource + " \"" + rp.name + "\" not found"),
                             rp.type->plural, rp.name),
              nullptr};
    return {object_response(at_version(obj, requested_api_version(rp))), nullptr};
  }
  return list_or_watch(rp, q, watch, wants_table(request.accept));
}

// Old-style watch of one object: the same as a metadata.name field selector.
ApiResult ApiHandler::watch_one(const ResourcePath& rp, const Query& q, bool table) {
  auto one = rp;
  one.name.clear();
  auto r = list_or_watch(one, q, true, table);
  if (r.watch)
    r.watch->name = rp.name;
  if (r.watch) {
    std::erase_if(r.watch->initial, [&](const std::string& line) {
      const auto ev = json::parse(line);
      return ev.at("type").as_string() != "ERROR" &&
             object_name(ev.at("object").as_object()) != rp.name;
    });
  }
  return r;
}

ApiResponse ApiHandler::dispatch_write(const ApiRequest& request, const ResourcePath& rp,
                                       const Query& q) {
  const auto& m = request.method;
  if ((m == "POST" || m == "PUT") &&
      request.content_type.starts_with("application/vnd.kubernetes.protobuf") &&
      rp.subresource != "eviction" && rp.type->plural != "selfsubjectaccessreviews") {
    // kubectl's typed commands (create namespace, create deployment...) send
    // protobuf; the simulator speaks JSON only (apply and the agent use JSON).
    return error_response(make_error(Errc::bad_request, 415, "UnsupportedMediaType",
                                     "cnimig-sim accepts JSON request bodies only (got " +
                                         request.content_type + "); use kubectl apply"));
  }
  if (m == "POST") {
    if (rp.subresource == "eviction")
      return evict(rp, q, request.body);
    return create(rp, q, request.body);
  }
  if (m == "PUT")
    return replace(rp, q, request.body);
  if (m == "PATCH")
    return patch(rp, q, request);
  if (rp.name.empty())
    return delete_collection(rp, q);
  return remove(rp, q, request.body);
}

}  // namespace cnimig::sim
