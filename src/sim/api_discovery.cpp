// Discovery (/version, /api, /apis and each group-version's resource list)
// and the OpenAPI v3 documents kubectl reads.
#include <algorithm>
#include <cctype>
#include <iterator>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json.hpp>

#include "cnimig/common/split.hpp"

#include "api_handler.hpp"
#include "api_response.hpp"

namespace cnimig::sim {
namespace json = boost::json;

namespace {

// Verbs as comma lists, turned into discovery's arrays by verb_list.
constexpr std::string_view kResourceVerbs =
    "create,delete,deletecollection,get,list,patch,update,watch";
constexpr std::string_view kStatusVerbs = "get,patch,update";

// The resources `kubectl get all` lists.
constexpr std::string_view kCategoryAll[] = {"pods", "services", "daemonsets", "deployments",
                                             "statefulsets"};

// The pods' subresources clients find in discovery: drain evicts, exec
// upgrades to a WebSocket, a scheduler binds.
struct PodSubresource {
  std::string_view name;
  std::string_view group;  // empty: the pods' own group and version
  std::string_view version;
  std::string_view kind;
  std::string_view verbs;
};
constexpr PodSubresource kPodSubresources[] = {
    {"pods/eviction", "policy", "v1", "Eviction", "create"},
    {"pods/exec", "", "", "PodExecOptions", "create,get"},
    {"pods/binding", "", "", "Binding", "create"},
};

json::array verb_list(std::string_view verbs) {
  json::array out;
  for (const auto verb : split(verbs, ','))
    out.emplace_back(verb);
  return out;
}

std::string singular(const ResourceType& t) {
  std::string s = t.kind;
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

json::object subresource_entry(std::string_view name, bool namespaced, std::string_view group,
                               std::string_view version, std::string_view kind,
                               std::string_view verbs) {
  json::object entry{{"name", name}, {"singularName", ""}, {"namespaced", namespaced}};
  if (!group.empty()) {
    entry["group"] = group;
    entry["version"] = version;
  }
  entry["kind"] = kind;
  entry["verbs"] = verb_list(verbs);
  return entry;
}

// A resource's entries in its group-version's APIResourceList: itself, its
// status subresource, and for pods the subresources above.
void append_resource_entries(const ResourceType& t, json::array& resources) {
  const bool review = t.plural == "selfsubjectaccessreviews";
  json::object r{{"name", t.plural},
                 {"singularName", singular(t)},
                 {"namespaced", t.namespaced},
                 {"kind", t.kind},
                 {"verbs", verb_list(review ? "create" : kResourceVerbs)},
                 {"storageVersionHash", ""}};
  if (auto shorts = short_names(t); !shorts.empty()) {
    json::array a;
    for (auto& s : shorts)
      a.push_back(json::string(s));
    r["shortNames"] = std::move(a);
  }
  if (std::find(std::begin(kCategoryAll), std::end(kCategoryAll), t.plural) !=
      std::end(kCategoryAll))
    r["categories"] = json::array{"all"};
  resources.push_back(std::move(r));
  if (t.has_status)
    resources.push_back(
        subresource_entry(t.plural + "/status", t.namespaced, {}, {}, t.kind, kStatusVerbs));
  if (is_pods(t)) {
    for (const auto& s : kPodSubresources)
      resources.push_back(subresource_entry(s.name, true, s.group, s.version, s.kind, s.verbs));
  }
}

json::object version_info(int major_version, int minor_version) {
  const auto major = std::to_string(major_version);
  const auto minor = std::to_string(minor_version);
  return json::object{{"major", major},
                      {"minor", minor},
                      {"gitVersion", "v" + major + "." + minor + ".0-cnimig-sim"},
                      {"gitCommit", "cnimig-sim"},
                      {"gitTreeState", "clean"},
                      {"buildDate", "2026-01-01T00:00:00Z"},
                      {"goVersion", "go1.23"},
                      {"compiler", "gc"},
                      {"platform", "linux/amd64"}};
}

// GET /api
json::object api_versions(const std::string& server_address) {
  return json::object{
      {"kind", "APIVersions"},
      {"versions", json::array{"v1"}},
      {"serverAddressByClientCIDRs",
       json::array{{{"clientCIDR", "0.0.0.0/0"}, {"serverAddress", server_address}}}}};
}

// GET /apis: every named group with its versions, the first one preferred.
json::object api_group_list(const std::vector<const ResourceType*>& types) {
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
  return json::object{
      {"kind", "APIGroupList"}, {"apiVersion", "v1"}, {"groups", std::move(groups)}};
}

// GET /apis/<group>: an APIGroup (each version served, the first
// preferred), or nullopt for a group not served.
std::optional<ApiResponse> api_group(const std::vector<const ResourceType*>& types,
                                     std::string_view group) {
  const auto list = api_group_list(types);
  for (const auto& g : list.at("groups").as_array())
    if (g.at("name").as_string() == group) {
      json::object out{{"kind", "APIGroup"}, {"apiVersion", "v1"}};
      for (const auto& [k, v] : g.as_object())
        out[k] = v;
      return object_response(out);
    }
  return std::nullopt;
}

// GET /api/v1 or /apis/<group>/<version>: an APIResourceList, or nullopt
// for a group-version not served.
std::optional<ApiResponse> api_resource_list(const std::vector<const ResourceType*>& types,
                                             std::string_view group, std::string_view version) {
  json::array resources;
  for (const auto* t : types) {
    if (t->group == group && t->version == version)
      append_resource_entries(*t, resources);
  }
  if (resources.empty())
    return std::nullopt;
  const std::string gv(group.empty() ? version : std::string(group) + "/" + std::string(version));
  return object_response(json::object{{"kind", "APIResourceList"},
                                      {"apiVersion", "v1"},
                                      {"groupVersion", gv},
                                      {"resources", std::move(resources)}});
}

}  // namespace

std::optional<ApiResponse> ApiHandler::discovery(std::string_view path) const {
  const auto types = served_types();
  if (path == "/version" || path == "/version/")
    return object_response(version_info(authorizer_.major(), authorizer_.minor()));
  if (path == "/api" || path == "/api/")
    return object_response(api_versions(server_address_));
  if (path == "/apis" || path == "/apis/")
    return object_response(api_group_list(types));
  if (path == "/api/v1" || path == "/api/v1/")
    return api_resource_list(types, "", "v1");
  if (!path.starts_with("/apis/"))
    return std::nullopt;
  auto rest = path.substr(6);
  if (!rest.empty() && rest.back() == '/')
    rest.remove_suffix(1);
  if (rest.find('/') == std::string_view::npos)
    return api_group(types, rest);
  const auto [group, version] = split_once(rest, '/');
  if (version.find('/') != std::string_view::npos)
    return std::nullopt;
  return api_resource_list(types, group, version);
}

// Just enough OpenAPI v3 for kubectl 1.32: each group-version document lists a
// PATCH operation per kind, tagged with x-kubernetes-group-version-kind and the
// fieldValidation query parameter. kubectl then leaves validation to the server
// (fieldValidation=Strict, which we accept) instead of downloading schemas, and,
// finding no requestBody content types, computes client-side apply's strategic
// merge patch from its compiled-in types.
ApiResponse ApiHandler::openapi_v3(std::string_view path) const {
  const auto types = served_types();
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

}  // namespace cnimig::sim
