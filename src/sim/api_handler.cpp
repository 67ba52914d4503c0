#include "cnimig/sim/api_handler.hpp"

#include <algorithm>
#include <chrono>

#include <boost/json.hpp>

#include "cnimig/common/rfc3339.hpp"
#include "cnimig/common/split.hpp"
#include "cnimig/sim/api_defaults.hpp"
#include "cnimig/sim/namespace_lifecycle.hpp"
#include "cnimig/sim/patch.hpp"

#include "json_fields.hpp"

namespace cnimig::sim {
namespace json = boost::json;

namespace {

Error http_error(Errc code, int status, std::string reason, std::string message) {
  Error e = make_error(code, std::move(message));
  e.http_status = status;
  e.reason = std::move(reason);
  return e;
}

Error bad_request(std::string message) {
  return http_error(Errc::bad_request, 400, "BadRequest", std::move(message));
}

Error not_found(std::string message) {
  return http_error(Errc::not_found, 404, "NotFound", std::move(message));
}

std::string url_decode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (std::size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out.push_back(' ');
    } else if (s[i] == '%' && i + 2 < s.size() &&
               std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out.push_back(static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16)));
      i += 2;
    } else {
      out.push_back(s[i]);
    }
  }
  return out;
}

bool is_pods(const ResourceType& t) {
  return t.group.empty() && t.plural == "pods";
}

std::string singular(const ResourceType& t) {
  std::string s = t.kind;
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

ApiResponse object_response(const ObjectPtr& obj, int status = 200) {
  return ApiResponse{status, "application/json", json::serialize(*obj)};
}

ApiResponse object_response(const json::object& obj, int status = 200) {
  return ApiResponse{status, "application/json", json::serialize(obj)};
}

Result<json::object> parse_object(std::string_view body) {
  boost::system::error_code ec;
  auto v = json::parse(body, ec);
  if (ec || !v.is_object())
    return bad_request("the request body is not a JSON object");
  return std::move(v.get_object());
}

}  // namespace

std::string status_json(const Error& error, std::string_view kind, std::string_view name) {
  json::object s{{"kind", "Status"}, {"apiVersion", "v1"}, {"metadata", json::object()}};
  s["status"] = "Failure";
  s["message"] = error.message;
  s["reason"] = error.reason.empty() ? std::string("InternalError") : error.reason;
  s["code"] = error.http_status ? error.http_status : 500;
  if (!kind.empty() || !name.empty()) {
    json::object d;
    if (!name.empty())
      d["name"] = name;
    if (!kind.empty())
      d["kind"] = kind;
    s["details"] = std::move(d);
  }
  return json::serialize(s);
}

ApiResponse error_response(const Error& error, std::string_view kind, std::string_view name) {
  ApiResponse r;
  r.status = error.http_status ? error.http_status : 500;
  r.body = status_json(error, kind, name);
  if (error.retry_after.count() > 0)
    r.retry_after_seconds = static_cast<int>((error.retry_after.count() + 999) / 1000);
  return r;
}

std::string Query::get(const std::string& key, std::string fallback) const {
  auto it = values.find(key);
  return it == values.end() ? fallback : it->second;
}

std::vector<std::string> Query::all(const std::string& key) const {
  std::vector<std::string> out;
  auto [b, e] = values.equal_range(key);
  for (; b != e; ++b)
    out.push_back(b->second);
  return out;
}

bool Query::flag(const std::string& key) const {
  const auto v = get(key);
  return v == "true" || v == "1";
}

Query Query::parse(std::string_view qs) {
  Query q;
  for (const auto item : split(qs, '&')) {
    if (item.empty())
      continue;
    const auto [key, value] = split_once(item, '=');
    q.values.emplace(url_decode(key), url_decode(value));
  }
  return q;
}

// ---------------------------------------------------------------------------
// Watch plans

bool WatchPlan::selects(const json::object& obj) const {
  if (!ns.empty() && type->namespaced && object_namespace(obj) != ns)
    return false;
  if (!name.empty() && object_name(obj) != name)
    return false;
  const auto* meta = fields::obj(obj, "metadata");
  if (!labels.empty() && !labels.matches(meta ? fields::obj(*meta, "labels") : nullptr))
    return false;
  return fields.empty() || fields.matches(obj);
}

namespace {
std::string event_json(std::string_view type, const json::object& obj) {
  std::string s = "{\"type\":\"";
  s.append(type);
  s.append("\",\"object\":");
  s.append(json::serialize(obj));
  s.push_back('}');
  return s;
}
}  // namespace

std::optional<std::string> WatchPlan::event_line(const Change& change) const {
  if (change.resource != type)
    return std::nullopt;
  switch (change.type) {
    case ChangeType::added:
      if (selects(*change.object))
        return render("ADDED", change.object);
      return std::nullopt;
    case ChangeType::deleted:
      if (selects(*change.object))
        return render("DELETED", change.object);
      return std::nullopt;
    case ChangeType::modified: {
      const bool was = change.old_object && selects(*change.old_object);
      const bool is = selects(*change.object);
      if (was && is)
        return render("MODIFIED", change.object);
      if (is)
        return render("ADDED", change.object);
      if (was)
        return render("DELETED", change.object);
      return std::nullopt;
    }
  }
  return std::nullopt;
}

std::string WatchPlan::render(std::string_view event_type, const ObjectPtr& object) const {
  if (!table)
    return event_json(event_type, *object);
  return event_json(event_type,
                    to_table(*type, {object}, table_objects,
                             std::string(fields::str(fields::meta(*object), "resourceVersion"))));
}

std::string WatchPlan::bookmark_line(std::uint64_t rv) const {
  json::object o{{"kind", type->kind},
                 {"apiVersion", api_version(*type)},
                 {"metadata", {{"resourceVersion", std::to_string(rv)}}}};
  return event_json("BOOKMARK", o);
}

// ---------------------------------------------------------------------------

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

void ApiHandler::set_faults(FaultSpec faults) {
  faults_ = std::move(faults);
  authorizer_.set_rules(faults_.forbidden, std::chrono::steady_clock::now());
  counted_writes_ = 0;
  held_writes_ = 0;
  first_held_.clear();
  if (cluster_fault_sink_)
    cluster_fault_sink_(faults_);
}

json::object ApiHandler::fault_state() const {
  json::object stop{{"armed", faults_.stop_at_write > 0},
                    {"at", faults_.stop_at_write},
                    {"counted", counted_writes_},
                    {"triggered", held_writes_ > 0},
                    {"held", held_writes_}};
  if (!first_held_.empty())
    stop["first_held"] = first_held_;
  return json::object{{"spec", faults_.to_string()}, {"stop_at_write", std::move(stop)}};
}

// PUT /sim/v1/faults replaces the faults with the body (--faults syntax;
// empty clears them); GET returns them. Requests already held stay held: the
// client that sent them is the "crashed" one.
ApiResponse ApiHandler::fault_endpoint(const ApiRequest& request) {
  if (request.method == "GET") {
    count_request("get", "sim/faults");
    return object_response(fault_state());
  }
  if (request.method != "PUT")
    return error_response(http_error(Errc::method_not_allowed, 405, "MethodNotAllowed",
                                     "/sim/v1/faults serves GET and PUT"));
  count_request("update", "sim/faults");
  std::string text = request.body;
  // Also {"spec":"..."}, the shape GET returns.
  if (text.find_first_not_of(" \t\r\n") != std::string::npos &&
      text[text.find_first_not_of(" \t\r\n")] == '{') {
    boost::system::error_code ec;
    const auto doc = json::parse(text, ec);
    const auto* spec = !ec && doc.is_object() ? doc.as_object().if_contains("spec") : nullptr;
    if (!spec || !spec->is_string())
      return error_response(bad_request("want a fault spec, or {\"spec\":\"...\"}"));
    text = std::string(spec->as_string());
  }
  std::erase_if(text, [](char c) { return std::isspace(static_cast<unsigned char>(c)); });
  auto spec = FaultSpec::parse(text);
  if (!spec)
    return error_response(bad_request(spec.error().message));
  set_faults(std::move(*spec));
  return object_response(fault_state());
}

bool ApiHandler::stop_write(const std::string& verb, const ResourcePath& rp,
                            const std::string& resource, const Query& q, const std::string& body) {
  if (faults_.stop_at_write == 0 || verb == "get" || verb == "list" || verb == "watch")
    return false;
  // Not writes: nothing is stored.
  if (rp.type->plural == "selfsubjectaccessreviews" || !q.get("dryRun").empty())
    return false;
  if (held_writes_ > 0) {
    ++held_writes_;
    return true;
  }
  if (faults_.stop_at_write_skip.count(rp.type->plural))
    return false;
  if (++counted_writes_ < faults_.stop_at_write)
    return false;
  ++held_writes_;
  first_held_ = verb + " " + resource + " " + (rp.ns.empty() ? "" : rp.ns + "/") + rp.name;
  // FNV-1a of the body: tells a rerun's repeat of a write from a later write
  // to the same object.
  std::uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : body) {
    h ^= c;
    h *= 1099511628211ULL;
  }
  if (fault_listener_)
    fault_listener_(json::object{{"event", "sim.write-held"},
                                 {"write", counted_writes_},
                                 {"verb", verb},
                                 {"resource", resource},
                                 {"namespace", rp.ns},
                                 {"name", rp.name},
                                 {"body_hash", std::to_string(h)}});
  return true;
}

void ApiHandler::on_crd_change(const Change& c) {
  if (c.type == ChangeType::deleted || !c.object)
    return;
  const auto* spec = fields::obj(*c.object, "spec");
  if (!spec)
    return;
  const auto* names = fields::obj(*spec, "names");
  const std::string group(fields::str(spec, "group"));
  const std::string plural(fields::str(names, "plural"));
  const std::string kind(fields::str(names, "kind"));
  if (group.empty() || plural.empty() || kind.empty())
    return;
  std::string version;
  bool status = false;
  if (const auto* vs = spec->if_contains("versions"); vs && vs->is_array()) {
    for (const auto& v : vs->get_array()) {
      const auto* vo = v.if_object();
      if (!vo)
        continue;
      if (version.empty() || (vo->contains("storage") && vo->at("storage") == json::value(true))) {
        version = fields::str(vo, "name");
        const auto* sub = fields::obj(*vo, "subresources");
        status = sub && sub->contains("status");
      }
    }
  }
  if (version.empty())
    version = fields::str(spec, "version");
  if (version.empty())
    return;
  register_resource_type(
      ResourceType{group, version, plural, kind, fields::str(spec, "scope") != "Cluster", status});
}

void ApiHandler::count_request(const std::string& verb, const std::string& resource) {
  ++requests_[verb + " " + resource];
  ++requests_by_client_[client_.empty() ? "unknown" : client_][verb + " " + resource];
}

void ApiHandler::set_client(std::string_view user_agent) {
  client_ = std::string(user_agent.substr(0, user_agent.find_first_of("/ ")));
}

json::object ApiHandler::report() const {
  json::object requests;
  std::uint64_t total = 0;
  for (const auto& [k, v] : requests_) {
    requests[k] = v;
    total += v;
  }
  json::object r;
  if (report_source_)
    r = report_source_();
  r["requests"] = std::move(requests);
  json::object by_client;
  for (const auto& [client, counts] : requests_by_client_) {
    json::object c;
    for (const auto& [k, v] : counts)
      c[k] = v;
    by_client[client] = std::move(c);
  }
  r["requests_by_client"] = std::move(by_client);
  r["requests_total"] = total;
  r["watches_opened"] = watches_opened_;
  const auto& c = *connection_stats_;
  r["connections"] = json::object{{"accepted", c.accepted},
                                  {"open", c.open},
                                  {"peak_open", c.peak_open},
                                  {"requests_in_progress", c.requests_in_progress},
                                  {"peak_requests_in_progress", c.peak_requests_in_progress}};
  r["access_reviews"] = access_reviews_;
  r["evictions_allowed"] = evictions_allowed_;
  r["evictions_blocked"] = evictions_blocked_;
  r["faults_injected"] = faults_injected_;
  json::object forbidden;
  for (const auto& [k, v] : forbidden_)
    forbidden[k] = v;
  r["forbidden"] = std::move(forbidden);
  r["writes"] = store_.writes();
  r["resource_version"] = store_.resource_version();
  return r;
}

std::optional<ResourcePath> ApiHandler::parse_path(std::string_view path) {
  std::vector<std::string_view> seg;
  std::size_t start = 1;
  while (start <= path.size()) {
    auto slash = path.find('/', start);
    auto s = path.substr(start, slash == path.npos ? path.npos : slash - start);
    if (!s.empty())
      seg.push_back(s);
    if (slash == path.npos)
      break;
    start = slash + 1;
  }
  std::string group;
  std::size_t i = 0;
  if (seg.size() >= 2 && seg[0] == "api" && seg[1] == "v1") {
    i = 2;
  } else if (seg.size() >= 3 && seg[0] == "apis") {
    group = std::string(seg[1]);
    i = 3;
  } else {
    return std::nullopt;
  }
  std::vector<std::string_view> rest(seg.begin() + static_cast<std::ptrdiff_t>(i), seg.end());
  if (rest.empty())
    return std::nullopt;
  ResourcePath rp;
  std::string_view plural;
  if (rest[0] == "namespaces" && rest.size() >= 3 && rest[2] != "status" && rest[2] != "finalize") {
    rp.ns = std::string(rest[1]);
    plural = rest[2];
    rest.erase(rest.begin(), rest.begin() + 3);
  } else {
    plural = rest[0];
    rest.erase(rest.begin());
  }
  rp.type = find_resource_type(group, plural);
  if (!rp.type)
    return rp;  // type null: caller answers 404
  if (!rest.empty())
    rp.name = std::string(rest[0]);
  if (rest.size() >= 2)
    rp.subresource = std::string(rest[1]);
  if (rest.size() > 2)
    rp.type = nullptr;
  return rp;
}

ApiResponse ApiHandler::discovery(std::string_view path, bool& handled) const {
  handled = true;
  const auto types = resource_types();
  if (path == "/version" || path == "/version/") {
    const auto major = std::to_string(authorizer_.major());
    const auto minor = std::to_string(authorizer_.minor());
    json::object v{{"major", major},
                   {"minor", minor},
                   {"gitVersion", "v" + major + "." + minor + ".0-cnimig-sim"},
                   {"gitCommit", "cnimig-sim"},
                   {"gitTreeState", "clean"},
                   {"buildDate", "2026-01-01T00:00:00Z"},
                   {"goVersion", "go1.23"},
                   {"compiler", "gc"},
                   {"platform", "linux/amd64"}};
    return object_response(v);
  }
  if (path == "/api" || path == "/api/") {
    json::object v{
        {"kind", "APIVersions"},
        {"versions", json::array{"v1"}},
        {"serverAddressByClientCIDRs",
         json::array{{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", server_address_}}}}};
    return object_response(v);
  }
  if (path == "/apis" || path == "/apis/") {
    json::array groups;
    std::vector<std::string> seen;
    for (const auto* t : types) {
      if (t->group.empty())
        continue;
      const auto gv = t->group + "/" + t->version;
      if (std::find(seen.begin(), seen.end(), gv) != seen.end())
        continue;
      seen.push_back(gv);
      json::object ver{{"groupVersion", gv}, {"version", t->version}};
      auto it = std::find_if(groups.begin(), groups.end(), [&](const json::value& g) {
        return g.at("name").as_string() == t->group;
      });
      if (it == groups.end())
        groups.push_back(json::object{
            {"name", t->group}, {"versions", json::array{ver}}, {"preferredVersion", ver}});
      else
        it->as_object()["versions"].as_array().push_back(ver);
    }
    json::object v{{"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", std::move(groups)}};
    return object_response(v);
  }
  // /api/v1 or /apis/<group>/<version>
  std::string group, version;
  if (path == "/api/v1" || path == "/api/v1/") {
    version = "v1";
  } else if (path.starts_with("/apis/")) {
    auto rest = path.substr(6);
    if (!rest.empty() && rest.back() == '/')
      rest.remove_suffix(1);
    auto slash = rest.find('/');
    if (slash == rest.npos) {
      // /apis/<group>: an APIGroup
      for (const auto* t : types) {
        if (t->group == rest) {
          json::object ver{{"groupVersion", t->group + "/" + t->version}, {"version", t->version}};
          return object_response(json::object{{"kind", "APIGroup"},
                                              {"apiVersion", "v1"},
                                              {"name", t->group},
                                              {"versions", json::array{ver}},
                                              {"preferredVersion", ver}});
        }
      }
      handled = false;
      return {};
    }
    if (rest.find('/', slash + 1) != rest.npos) {
      handled = false;
      return {};
    }
    group = std::string(rest.substr(0, slash));
    version = std::string(rest.substr(slash + 1));
  } else {
    handled = false;
    return {};
  }
  json::array resources;
  bool any = false;
  for (const auto* t : types) {
    if (t->group != group || t->version != version)
      continue;
    any = true;
    const bool review = t->plural == "selfsubjectaccessreviews";
    json::array verbs = review ? json::array{"create"}
                               : json::array{"create", "delete", "deletecollection", "get",
                                             "list",   "patch",  "update",           "watch"};
    json::object r{{"name", t->plural},           {"singularName", singular(*t)},
                   {"namespaced", t->namespaced}, {"kind", t->kind},
                   {"verbs", std::move(verbs)},   {"storageVersionHash", ""}};
    if (auto shorts = short_names(*t); !shorts.empty()) {
      json::array a;
      for (auto& s : shorts)
        a.push_back(json::string(s));
      r["shortNames"] = std::move(a);
    }
    if (t->plural == "pods" || t->plural == "services" || t->plural == "daemonsets" ||
        t->plural == "deployments" || t->plural == "statefulsets")
      r["categories"] = json::array{"all"};
    resources.push_back(std::move(r));
    if (t->has_status)
      resources.push_back(json::object{{"name", t->plural + "/status"},
                                       {"singularName", ""},
                                       {"namespaced", t->namespaced},
                                       {"kind", t->kind},
                                       {"verbs", json::array{"get", "patch", "update"}}});
    if (is_pods(*t)) {
      resources.push_back(json::object{{"name", "pods/eviction"},
                                       {"singularName", ""},
                                       {"namespaced", true},
                                       {"group", "policy"},
                                       {"version", "v1"},
                                       {"kind", "Eviction"},
                                       {"verbs", json::array{"create"}}});
      resources.push_back(json::object{{"name", "pods/exec"},
                                       {"singularName", ""},
                                       {"namespaced", true},
                                       {"kind", "PodExecOptions"},
                                       {"verbs", json::array{"create", "get"}}});
      resources.push_back(json::object{{"name", "pods/binding"},
                                       {"singularName", ""},
                                       {"namespaced", true},
                                       {"kind", "Binding"},
                                       {"verbs", json::array{"create"}}});
    }
  }
  if (!any) {
    handled = false;
    return {};
  }
  json::object v{{"kind", "APIResourceList"},
                 {"apiVersion", "v1"},
                 {"groupVersion", group.empty() ? version : group + "/" + version},
                 {"resources", std::move(resources)}};
  return object_response(v);
}

std::optional<ApiResponse> ApiHandler::injected_fault(const std::string& verb, bool& hold) {
  if (faults_.timeout_rate > 0 &&
      (faults_.error_verbs.empty() || faults_.error_verbs.count(verb)) &&
      std::uniform_real_distribution<>(0, 1)(rng_) < faults_.timeout_rate) {
    ++faults_injected_;
    hold = true;
    return ApiResponse{};
  }
  if (faults_.error_rate <= 0 || (!faults_.error_verbs.empty() && !faults_.error_verbs.count(verb)))
    return std::nullopt;
  if (std::uniform_real_distribution<>(0, 1)(rng_) >= faults_.error_rate)
    return std::nullopt;
  ++faults_injected_;
  int status = faults_.error_status;
  if (status == 0)
    status = (faults_injected_ % 2) ? 429 : 500;
  Error e = status == 429 ? http_error(Errc::too_many_requests, 429, "TooManyRequests",
                                       "the server has received too many requests (injected)")
                          : http_error(Errc::server_error, status, "InternalError",
                                       "an error on the server (injected)");
  if (status == 429)
    e.retry_after = std::chrono::seconds(1);
  return error_response(e);
}

// Just enough OpenAPI v3 for kubectl 1.32: each group-version document lists a
// PATCH operation per kind, tagged with x-kubernetes-group-version-kind and the
// fieldValidation query parameter. kubectl then leaves validation to the server
// (fieldValidation=Strict, which we accept) instead of downloading schemas, and,
// finding no requestBody content types, computes client-side apply's strategic
// merge patch from its compiled-in types.
ApiResponse ApiHandler::openapi_v3(std::string_view path) const {
  const auto types = resource_types();
  const auto gv_path = [](const ResourceType& t) {
    return t.group.empty() ? std::string("api/") + t.version : "apis/" + t.group + "/" + t.version;
  };
  if (path == "/openapi/v3" || path == "/openapi/v3/") {
    json::object paths;
    for (const auto* t : types)
      paths[gv_path(*t)] =
          json::object{{"serverRelativeURL",
                        "/openapi/v3/" + gv_path(*t) + "?hash=" + std::to_string(types.size())}};
    return object_response(json::object{{"paths", std::move(paths)}});
  }
  const auto want = path.substr(std::string_view("/openapi/v3/").size());
  json::object paths;
  for (const auto* t : types) {
    if (gv_path(*t) != want)
      continue;
    const std::string item = "/" + gv_path(*t) +
                             (t->namespaced ? "/namespaces/{namespace}/" : "/") + t->plural +
                             "/{name}";
    json::object op{
        {"x-kubernetes-group-version-kind",
         {{"group", t->group}, {"version", t->version}, {"kind", t->kind}}},
        {"parameters",
         json::array{
             {{"name", "fieldValidation"}, {"in", "query"}, {"schema", {{"type", "string"}}}},
             {{"name", "fieldManager"}, {"in", "query"}, {"schema", {{"type", "string"}}}},
             {{"name", "dryRun"}, {"in", "query"}, {"schema", {{"type", "string"}}}}}},
        {"responses", json::object()}};
    paths[item] = json::object{{"patch", std::move(op)}};
  }
  if (paths.empty())
    return error_response(not_found("the server could not find the requested resource"));
  return object_response(
      json::object{{"openapi", "3.0.0"},
                   {"info",
                    {{"title", "Kubernetes"},
                     {"version", "v" + std::to_string(authorizer_.major()) + "." +
                                     std::to_string(authorizer_.minor()) + ".0"}}},
                   {"paths", std::move(paths)},
                   {"components", {{"schemas", json::object()}}}});
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
    bool handled = false;
    auto d = discovery(path, handled);
    if (handled) {
      count_request("get", "discovery");
      return {std::move(d), nullptr};
    }
  }
  const auto rp = parse_path(path);
  if (!rp || !rp->type) {
    count_request(request.method, "unknown");
    return {error_response(not_found("the server could not find the requested resource")), nullptr};
  }
  return handle_resource(request, *rp, q);
}

namespace {

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

ApiResult ApiHandler::handle_resource(const ApiRequest& request, const ResourcePath& rp,
                                      const Query& q) {
  const auto& m = request.method;
  std::string verb;
  const bool watch = m == "GET" && (q.flag("watch"));
  if (m == "GET")
    verb = watch ? "watch" : rp.name.empty() ? "list" : "get";
  else if (m == "POST")
    verb = "create";
  else if (m == "PUT")
    verb = "update";
  else if (m == "PATCH")
    verb = "patch";
  else if (m == "DELETE")
    verb = rp.name.empty() ? "deletecollection" : "delete";
  else
    return {error_response(http_error(Errc::method_not_allowed, 405, "MethodNotAllowed",
                                      "method " + m + " is not supported")),
            nullptr};
  std::string resource = rp.type->plural;
  if (!rp.type->group.empty())
    resource += "." + rp.type->group;
  if (!rp.subresource.empty())
    resource += "/" + rp.subresource;
  const bool write = verb != "get" && verb != "list" && verb != "watch";
  // dryRun=All: validated and answered as if done, nothing persisted; counted
  // as "dryrun <verb> <resource>", never as the write itself.
  const bool dry_run = write && requests_dry_run(q, m, request.body);
  count_request(dry_run ? "dryrun " + verb : verb, resource);
  if (auto denied = authorize(verb, rp))
    return {std::move(*denied), nullptr};

  ApiResult result;
  if (auto fault = injected_fault(verb, result.hold)) {
    result.response = std::move(*fault);
    return result;
  }
  if (stop_write(verb, rp, resource, q, request.body)) {
    result.hold = true;  // the "crash": stop answering from the k-th write on
    return result;
  }
  if (m == "GET") {
    if (watch && !rp.name.empty() && rp.subresource.empty()) {
      // Old-style watch of one object: the same as a metadata.name field selector.
      auto one = rp;
      one.name.clear();
      auto r = list_or_watch(one, q, true, wants_table(request.accept));
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
      return {object_response(obj), nullptr};
    }
    return list_or_watch(rp, q, watch, wants_table(request.accept));
  }
  if ((m == "POST" || m == "PUT") &&
      request.content_type.starts_with("application/vnd.kubernetes.protobuf") &&
      rp.subresource != "eviction" && rp.type->plural != "selfsubjectaccessreviews") {
    // kubectl's typed commands (create namespace, create deployment...) send
    // protobuf; the simulator speaks JSON only (apply and the agent use JSON).
    return {error_response(http_error(Errc::bad_request, 415, "UnsupportedMediaType",
                                      "cnimig-sim accepts JSON request bodies only (got " +
                                          request.content_type + "); use kubectl apply")),
            nullptr};
  }
  if (m == "POST") {
    if (rp.subresource == "eviction")
      return {evict(rp, q, request.body), nullptr};
    return {create(rp, q, request.body), nullptr};
  }
  if (m == "PUT")
    return {replace(rp, q, request.body), nullptr};
  if (m == "PATCH")
    return {patch(rp, q, request), nullptr};
  if (rp.name.empty())
    return {delete_collection(rp, q), nullptr};
  return {remove(rp, q, request.body), nullptr};
}

ApiResult ApiHandler::list_or_watch(const ResourcePath& rp, const Query& q, bool watch,
                                    bool table) {
  const auto include_objects = q.get("includeObject") == "Object" ? TableObjects::full
                               : q.get("includeObject") == "None" ? TableObjects::none
                                                                  : TableObjects::metadata;
  auto labels = LabelSelector::parse(q.get("labelSelector"));
  if (!labels)
    return {error_response(labels.error()), nullptr};
  auto fields = FieldSelector::parse(q.get("fieldSelector"));
  if (!fields)
    return {error_response(fields.error()), nullptr};
  const auto& type = *rp.type;
  const auto matches = [&](const json::object& o) {
    const auto* meta = fields::obj(o, "metadata");
    return (labels->empty() || labels->matches(meta ? fields::obj(*meta, "labels") : nullptr)) &&
           (fields->empty() || fields->matches(o));
  };
  const auto candidates = [&](std::string_view after) {
    if (is_pods(type) && fields->node_name()) {
      auto pods = store_.pods_on_node(*fields->node_name());
      std::erase_if(pods, [&](const ObjectPtr& p) {
        return (!rp.ns.empty() && object_namespace(*p) != rp.ns) ||
               (!after.empty() && ObjectStore::key(object_namespace(*p), object_name(*p)) <= after);
      });
      std::sort(pods.begin(), pods.end(), [](const ObjectPtr& a, const ObjectPtr& b) {
        return ObjectStore::key(object_namespace(*a), object_name(*a)) <
               ObjectStore::key(object_namespace(*b), object_name(*b));
      });
      return pods;
    }
    return store_.list_page(type, rp.ns, after, 0, nullptr);
  };

  if (watch) {
    auto plan = std::make_shared<WatchPlan>();
    plan->type = &type;
    plan->ns = rp.ns;
    plan->labels = std::move(*labels);
    plan->fields = std::move(*fields);
    plan->bookmarks = q.flag("allowWatchBookmarks");
    plan->table = table;
    plan->table_objects = include_objects;
    if (auto t = q.get("timeoutSeconds"); !t.empty())
      plan->timeout = std::chrono::seconds(std::atol(t.c_str()));
    const auto rv = q.get("resourceVersion");
    if (rv.empty() || rv == "0") {
      for (const auto& o : candidates({})) {
        if (matches(*o))
          plan->initial.push_back(plan->render("ADDED", o));
      }
    } else {
      std::uint64_t from = 0;
      try {
        from = std::stoull(rv);
      } catch (const std::exception&) {
        return {error_response(bad_request("invalid resourceVersion " + rv)), nullptr};
      }
      auto changes = faults_.gone_on_resume
                         ? Result<std::vector<Change>>(gone_error(from, store_.resource_version()))
                         : history_.since(from);
      if (!changes) {
        // Like the watch cache: 200, then one ERROR event carrying the 410 Status.
        plan->initial.push_back("{\"type\":\"ERROR\",\"object\":" + status_json(changes.error()) +
                                "}");
        plan->finish_after_initial = true;
      } else {
        for (const auto& c : *changes) {
          if (auto line = plan->event_line(c))
            plan->initial.push_back(std::move(*line));
        }
      }
    }
    ++watches_opened_;
    ApiResult r;
    r.watch = std::move(plan);
    return r;
  }

  std::size_t limit = 0;
  if (auto l = q.get("limit"); !l.empty())
    limit = static_cast<std::size_t>(std::max(0L, std::atol(l.c_str())));
  const auto cont = q.get("continue");
  if (table) {
    std::vector<ObjectPtr> rows;
    bool more_rows = false;
    for (const auto& o : candidates(cont)) {
      if (!matches(*o))
        continue;
      if (limit && rows.size() == limit) {
        more_rows = true;
        break;
      }
      rows.push_back(o);
    }
    auto t = to_table(type, rows, include_objects, std::to_string(store_.resource_version()));
    if (more_rows)
      t["metadata"].as_object()["continue"] =
          ObjectStore::key(object_namespace(*rows.back()), object_name(*rows.back()));
    return {object_response(t), nullptr};
  }
  // "items" before "metadata" so the (possibly 100 MB) list is built in place,
  // once: key order is not significant in JSON.
  std::string body = "{\"kind\":\"" + type.kind + "List\",\"apiVersion\":\"" + api_version(type) +
                     "\",\"items\":[";
  std::size_t n = 0;
  std::string last;
  bool more = false;
  for (const auto& o : candidates(cont)) {
    if (!matches(*o))
      continue;
    if (limit && n == limit) {
      more = true;  // a further matching item exists
      break;
    }
    if (n++)
      body.push_back(',');
    body += json::serialize(*o);
    if (limit)
      last = ObjectStore::key(object_namespace(*o), object_name(*o));
  }
  body +=
      "],\"metadata\":{\"resourceVersion\":\"" + std::to_string(store_.resource_version()) + "\"";
  if (more)
    body += ",\"continue\":" + json::serialize(json::string(last));
  body += "}}";
  return {ApiResponse{200, "application/json", std::move(body)}, nullptr};
}

std::optional<ApiResponse> ApiHandler::authorize(const std::string& verb, const ResourcePath& rp) {
  const AccessRequest asked{verb, rp.type->group, rp.type->plural, rp.subresource, rp.ns, rp.name};
  const auto* rule = authorizer_.refusal(asked, std::chrono::steady_clock::now());
  if (rule == nullptr)
    return std::nullopt;
  ++forbidden_[verb + " " + rp.type->plural + (rp.type->group.empty() ? "" : "." + rp.type->group) +
               (rp.subresource.empty() ? "" : "/" + rp.subresource)];
  return error_response(forbidden_error(asked, *rule), rp.type->plural, rp.name);
}

ApiResponse ApiHandler::self_subject_access_review(const std::string& body) {
  // kubectl's typed client sends this one as protobuf; we answer the same for
  // any body, so a non-JSON body is fine (the JSON reply decodes either way).
  auto obj = parse_object(body);
  if (!obj)
    obj = json::object{{"metadata", json::object()}, {"spec", json::object()}};
  ++access_reviews_;
  // The request the review asks about meets the same rules as the request
  // itself would.
  AccessRequest asked;
  if (const auto* spec = fields::obj(*obj, "spec")) {
    if (const auto* a = fields::obj(*spec, "resourceAttributes")) {
      const auto text = [a](std::string_view key) { return std::string(fields::str(a, key)); };
      asked = AccessRequest{text("verb"),        text("group"),     text("resource"),
                            text("subresource"), text("namespace"), text("name")};
    }
  }
  if (authorizer_.review_allows(asked, std::chrono::steady_clock::now())) {
    (*obj)["status"] =
        json::object{{"allowed", true}, {"reason", "cnimig-sim allows every request"}};
  } else {
    (*obj)["status"] =
        json::object{{"allowed", false}, {"reason", "denied by cnimig-sim's forbidden fault"}};
  }
  if (!obj->contains("apiVersion"))
    (*obj)["apiVersion"] = "authorization.k8s.io/v1";
  if (!obj->contains("kind"))
    (*obj)["kind"] = "SelfSubjectAccessReview";
  return object_response(*obj, 201);
}

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
    return error_response(http_error(Errc::method_not_allowed, 405, "MethodNotAllowed",
                                     "POST to a named " + type.plural + " is not supported"));
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
  auto& meta = fields::mutable_meta(*obj);  // taken after defaulting, which may move members
  if (auto refused =
          admit_namespace_lifecycle(store_, type, fields::str(&meta, "namespace"),
                                    fields::str(&meta, "name"), AdmissionOperation::create))
    return *refused;
  if (q.get("dryRun") == "All") {
    if (store_.get(type, fields::str(&meta, "namespace"), fields::str(&meta, "name")))
      return error_response(http_error(
          Errc::already_exists, 409, "AlreadyExists",
          type.plural + " \"" + std::string(fields::str(&meta, "name")) + "\" already exists"));
    meta["creationTimestamp"] = rfc3339_now();
    return object_response(*obj, 201);
  }
  if (!q.get("fieldManager").empty()) {
    meta["managedFields"] = json::array{json::object{{"manager", q.get("fieldManager")},
                                                     {"operation", "Update"},
                                                     {"apiVersion", api_version(type)},
                                                     {"time", rfc3339_now()},
                                                     {"fieldsType", "FieldsV1"},
                                                     {"fieldsV1", json::object()}}};
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
        http_error(Errc::bad_request, 400, "BadRequest",
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
      auto& bm = fields::mutable_meta(body.get_object());
      if (!fields::str(&bm, "name").empty() && fields::str(&bm, "name") != rp.name)
        return error_response(
            bad_request("the name of the object does not match the name on the URL"));
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
      managed.push_back(json::object{{"manager", q.get("fieldManager")},
                                     {"operation", "Apply"},
                                     {"apiVersion", api_version(type)},
                                     {"time", rfc3339_now()},
                                     {"fieldsType", "FieldsV1"},
                                     {"fieldsV1", json::object()}});
      bm["managedFields"] = std::move(managed);
      if (!current) {
        bm.erase("resourceVersion");
        apply_defaults(type, body.get_object());
        if (auto refused =
                admit_namespace_lifecycle(store_, type, rp.ns, rp.name, AdmissionOperation::create))
          return *refused;
        if (q.get("dryRun") == "All")
          return object_response(body.get_object(), 201);
        auto r = store_.create(type, std::move(body.get_object()));
        if (!r)
          return error_response(r.error(), type.plural, rp.name);
        return object_response(*r, 201);
      }
    }
    patched = strategic_merge_patch(json::value(*current), body);
  } else {
    return error_response(http_error(Errc::bad_request, 415, "UnsupportedMediaType",
                                     "the body of the request was in an unknown format - "
                                     "accepted media types include: application/json-patch+json, "
                                     "application/merge-patch+json, "
                                     "application/apply-patch+yaml, "
                                     "application/strategic-merge-patch+json"));
  }
  if (!patched)
    return error_response(patched.error(), type.plural, rp.name);
  if (!patched->is_object())
    return error_response(bad_request("the patch result is not an object"));
  auto& obj = patched->get_object();
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

Result<ObjectPtr> ApiHandler::delete_object(const ResourceType& type, const std::string& ns,
                                            const std::string& name,
                                            std::optional<std::int64_t> grace,
                                            const std::string& propagation) {
  auto current = store_.get(type, ns, name);
  if (!current)
    return not_found(type.plural + " \"" + name + "\" not found");
  const auto* meta = fields::obj(*current, "metadata");
  if (is_pods(type)) {
    const auto* spec = fields::obj(*current, "spec");
    std::int64_t seconds = 30;
    if (spec) {
      if (const auto* t = spec->if_contains("terminationGracePeriodSeconds"); t && t->is_number())
        seconds = t->to_number<std::int64_t>();
    }
    if (grace)
      seconds = *grace;
    // Unscheduled pods have no kubelet to finish their deletion: they go at once.
    if (seconds > 0 && !fields::str(spec, "nodeName").empty()) {
      if (meta && meta->contains("deletionTimestamp"))
        return current;
      json::object next = *current;
      auto& m = fields::mutable_meta(next);
      m["deletionTimestamp"] = format_rfc3339(
          std::chrono::system_clock::now() + std::chrono::seconds(seconds), TimePrecision::seconds);
      m["deletionGracePeriodSeconds"] = seconds;
      return store_.update(type, std::move(next));
    }
    return store_.remove(type, ns, name);
  }
  if (meta) {
    if (const auto* f = meta->if_contains("finalizers");
        f && f->is_array() && !f->get_array().empty()) {
      if (meta->contains("deletionTimestamp"))
        return current;
      json::object next = *current;
      auto& m = fields::mutable_meta(next);
      m["deletionTimestamp"] = rfc3339_now();
      m["deletionGracePeriodSeconds"] = 0;
      return store_.update(type, std::move(next));
    }
  }
  auto removed = store_.remove(type, ns, name);
  if (!removed)
    return removed;
  if (type.group.empty() && type.plural == "namespaces") {
    for (const auto* t : resource_types()) {
      if (!t->namespaced)
        continue;
      for (const auto& o : store_.list(*t, name))
        (void)store_.remove(*t, name, object_name(*o));
    }
  } else if (propagation != "Orphan") {
    collect_garbage(type, **removed);
  }
  return removed;
}

void ApiHandler::collect_garbage(const ResourceType& type, const json::object& owner) {
  // The garbage collector deletes dependents whose ownerReferences name the
  // deleted owner's uid (here synchronously, for the kinds that own pods).
  static const char* const owners[] = {"daemonsets", "replicasets", "statefulsets", "deployments",
                                       "jobs"};
  if (std::find(std::begin(owners), std::end(owners), type.plural) == std::end(owners))
    return;
  const auto uid = fields::str(fields::obj(owner, "metadata"), "uid");
  const auto ns = std::string(object_namespace(owner));
  std::vector<const ResourceType*> dependents{&resource_type("", "pods")};
  if (type.plural == "deployments")
    dependents = {&resource_type("apps", "replicasets")};
  for (const auto* dt : dependents) {
    for (const auto& o : store_.list(*dt, ns)) {
      const auto* m = fields::obj(*o, "metadata");
      const auto* refs = m ? m->if_contains("ownerReferences") : nullptr;
      if (!refs || !refs->is_array())
        continue;
      for (const auto& ref : refs->get_array()) {
        if (fields::str(ref.if_object(), "uid") == uid) {
          (void)delete_object(*dt, ns, std::string(object_name(*o)), std::nullopt);
          break;
        }
      }
    }
  }
}

namespace {

struct DeleteOptions {
  std::optional<std::int64_t> grace;
  std::string propagation = "Background";
  std::string precondition_uid;
  std::string precondition_rv;
  bool dry_run = false;
};

Result<DeleteOptions> delete_options(const Query& q, const std::string& body) {
  DeleteOptions o;
  if (!body.empty()) {
    auto obj = parse_object(body);
    if (!obj)
      return obj.error();
    if (const auto* g = obj->if_contains("gracePeriodSeconds"); g && g->is_number())
      o.grace = g->to_number<std::int64_t>();
    if (auto p = fields::str(&*obj, "propagationPolicy"); !p.empty())
      o.propagation = p;
    if (const auto* pre = fields::obj(*obj, "preconditions")) {
      o.precondition_uid = fields::str(pre, "uid");
      o.precondition_rv = fields::str(pre, "resourceVersion");
    }
    if (const auto* d = obj->if_contains("dryRun"); d && d->is_array() && !d->get_array().empty())
      o.dry_run = true;
  }
  if (auto g = q.get("gracePeriodSeconds"); !g.empty())
    o.grace = std::atoll(g.c_str());
  if (auto p = q.get("propagationPolicy"); !p.empty())
    o.propagation = p;
  if (q.get("dryRun") == "All")
    o.dry_run = true;
  return o;
}

}  // namespace

ApiResponse ApiHandler::remove(const ResourcePath& rp, const Query& q, const std::string& body) {
  const auto& type = *rp.type;
  auto opts = delete_options(q, body);
  if (!opts)
    return error_response(opts.error());
  auto current = store_.get(type, rp.ns, rp.name);
  if (!current)
    return error_response(not_found(type.plural + " \"" + rp.name + "\" not found"), type.plural,
                          rp.name);
  const auto* meta = fields::obj(*current, "metadata");
  if ((!opts->precondition_uid.empty() && opts->precondition_uid != fields::str(meta, "uid")) ||
      (!opts->precondition_rv.empty() &&
       opts->precondition_rv != fields::str(meta, "resourceVersion")))
    return error_response(http_error(Errc::conflict, 409, "Conflict",
                                     "Precondition failed: UID or ResourceVersion in precondition "
                                     "does not match the object"),
                          type.plural, rp.name);
  if (opts->dry_run)
    return object_response(current);
  auto r = delete_object(type, rp.ns, rp.name, opts->grace, opts->propagation);
  if (!r)
    return error_response(r.error(), type.plural, rp.name);
  return object_response(*r);
}

ApiResponse ApiHandler::delete_collection(const ResourcePath& rp, const Query& q) {
  const auto& type = *rp.type;
  auto labels = LabelSelector::parse(q.get("labelSelector"));
  if (!labels)
    return error_response(labels.error());
  auto fields = FieldSelector::parse(q.get("fieldSelector"));
  if (!fields)
    return error_response(fields.error());
  auto opts = delete_options(q, {});
  json::array items;
  for (const auto& o : store_.list(type, rp.ns)) {
    const auto* meta = fields::obj(*o, "metadata");
    if (!labels->matches(meta ? fields::obj(*meta, "labels") : nullptr) || !fields->matches(*o))
      continue;
    if (!opts->dry_run) {
      auto r = delete_object(type, std::string(object_namespace(*o)), std::string(object_name(*o)),
                             opts->grace, opts->propagation);
      if (r)
        items.push_back(**r);
    } else {
      items.push_back(*o);
    }
  }
  return object_response(json::object{{"kind", type.kind + "List"},
                                      {"apiVersion", api_version(type)},
                                      {"metadata", json::object()},
                                      {"items", std::move(items)}});
}

ApiResponse ApiHandler::evict(const ResourcePath& rp, const Query& q, const std::string& body) {
  const auto& pods = resource_type("", "pods");
  if (!is_pods(*rp.type))
    return error_response(not_found("eviction is a subresource of pods only"));
  auto pod = store_.get(pods, rp.ns, rp.name);
  if (!pod)
    return error_response(not_found("pods \"" + rp.name + "\" not found"), "pods", rp.name);
  std::optional<std::int64_t> grace;
  bool dry_run = q.get("dryRun") == "All";
  if (!body.empty()) {
    // kubectl drain's typed client may send protobuf: then the defaults apply.
    auto ev = parse_object(body);
    if (const auto* d = ev ? fields::obj(*ev, "deleteOptions") : nullptr) {
      if (const auto* g = d->if_contains("gracePeriodSeconds"); g && g->is_number())
        grace = g->to_number<std::int64_t>();
      if (const auto* dr = d->if_contains("dryRun");
          dr && dr->is_array() && !dr->get_array().empty())
        dry_run = true;
    }
  }
  const ApiResponse success{
      201, "application/json",
      R"({"kind":"Status","apiVersion":"v1","metadata":{},"status":"Success","code":201})"};
  const auto* meta = fields::obj(*pod, "metadata");
  if (meta && meta->contains("deletionTimestamp"))
    return success;  // already terminating: nothing left to protect
  const auto phase = fields::str(fields::obj(*pod, "status"), "phase");
  const bool protected_phase = phase != "Succeeded" && phase != "Failed" && phase != "Pending";
  const json::object* labels = meta ? fields::obj(*meta, "labels") : nullptr;
  const auto& pdb_type = resource_type("policy", "poddisruptionbudgets");
  std::vector<ObjectPtr> budgets;
  if (protected_phase) {
    for (const auto& pdb : store_.list(pdb_type, rp.ns)) {
      const auto* spec = fields::obj(*pdb, "spec");
      const auto* sel = spec ? spec->if_contains("selector") : nullptr;
      if (!sel || !sel->is_object())
        continue;  // policy/v1: a null selector selects no pods
      auto s = LabelSelector::from_json(sel->get_object());
      if (s && s->matches(labels))
        budgets.push_back(pdb);
    }
  }
  if (budgets.size() > 1)
    return error_response(http_error(
        Errc::server_error, 500, "InternalError",
        "This pod has more than one PodDisruptionBudget, which the eviction subresource does not "
        "support."));
  if (budgets.size() == 1) {
    const auto& pdb = budgets.front();
    const auto* status = fields::obj(*pdb, "status");
    std::int64_t allowed = 0;
    if (status) {
      if (const auto* a = status->if_contains("disruptionsAllowed"); a && a->is_number())
        allowed = a->to_number<std::int64_t>();
    }
    if (allowed <= 0) {
      ++evictions_blocked_;
      const auto pdb_name = std::string(object_name(*pdb));
      std::int64_t healthy = 0, desired = 0;
      if (status) {
        if (const auto* h = status->if_contains("currentHealthy"); h && h->is_number())
          healthy = h->to_number<std::int64_t>();
        if (const auto* d = status->if_contains("desiredHealthy"); d && d->is_number())
          desired = d->to_number<std::int64_t>();
      }
      json::object s{
          {"kind", "Status"},
          {"apiVersion", "v1"},
          {"metadata", json::object()},
          {"status", "Failure"},
          {"message", "Cannot evict pod as it would violate the pod's disruption budget."},
          {"reason", "TooManyRequests"},
          {"code", 429}};
      s["details"] = json::object{
          {"causes", json::array{json::object{
                         {"reason", "DisruptionBudget"},
                         {"message", "The disruption budget " + pdb_name + " needs " +
                                         std::to_string(desired) + " healthy pods and has " +
                                         std::to_string(healthy) + " currently"}}}}};
      return ApiResponse{429, "application/json", json::serialize(s)};
    }
    if (!dry_run) {
      json::object next = *pdb;
      auto& st = next["status"].as_object();
      st["disruptionsAllowed"] = allowed - 1;
      auto& disrupted = st["disruptedPods"];
      if (!disrupted.is_object())
        disrupted = json::object();
      disrupted.as_object()[rp.name] = rfc3339_now();
      auto r = store_.update_status(pdb_type, std::move(next));
      if (!r)
        return error_response(r.error());
    }
  }
  if (dry_run)
    return success;
  auto r = delete_object(pods, rp.ns, rp.name, grace);
  if (!r)
    return error_response(r.error(), "pods", rp.name);
  ++evictions_allowed_;
  return success;
}

}  // namespace cnimig::sim
