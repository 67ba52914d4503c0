// CustomResourceDefinitions: each CRD in the store is served at every version
// it marks `served: true`, as kube-apiserver serves it; one bucket of the
// store holds its objects whatever the version a client names (a CRD's
// conversion strategy None: only apiVersion differs between versions). The
// type registry is process-wide, so which CRDs a handler serves is its own:
// a kind registered by another simulator in the process stays 404 here.
#include <algorithm>
#include <cctype>

#include <boost/json.hpp>

#include "api_handler.hpp"
#include "api_response.hpp"
#include "json_fields.hpp"

namespace cnimig::sim {
namespace json = boost::json;

namespace {

// Kubernetes' version priority (CRD "Version priority"): GA before beta before
// alpha, higher numbers first, then anything else by name.
struct VersionRank {
  int stability = 0;  // 3 GA, 2 beta, 1 alpha, 0 not Kubernetes-shaped
  int major = 0;
  int minor = 0;
};
VersionRank rank(std::string_view v) {
  VersionRank r;
  if (v.size() < 2 || v[0] != 'v' || !std::isdigit(static_cast<unsigned char>(v[1])))
    return r;
  std::size_t i = 1;
  while (i < v.size() && std::isdigit(static_cast<unsigned char>(v[i])))
    r.major = r.major * 10 + (v[i++] - '0');
  const auto rest = v.substr(i);
  if (rest.empty()) {
    r.stability = 3;
    return r;
  }
  std::size_t digits = 0;
  if (rest.starts_with("beta")) {
    r.stability = 2;
    digits = 4;
  } else if (rest.starts_with("alpha")) {
    r.stability = 1;
    digits = 5;
  } else {
    return VersionRank{};
  }
  for (i = digits; i < rest.size(); ++i) {
    if (!std::isdigit(static_cast<unsigned char>(rest[i])))
      return VersionRank{};
    r.minor = r.minor * 10 + (rest[i] - '0');
  }
  return r;
}
bool higher_priority(const std::string& a, const std::string& b) {
  const auto ra = rank(a), rb = rank(b);
  if (ra.stability != rb.stability)
    return ra.stability > rb.stability;
  if (ra.major != rb.major)
    return ra.major > rb.major;
  if (ra.minor != rb.minor)
    return ra.minor > rb.minor;
  return a < b;
}

}  // namespace

void ApiHandler::on_crd_change(const Change& c) {
  const auto& any = c.object ? *c.object : *c.old_object;
  const std::string crd_name(fields::name(any));
  if (c.type == ChangeType::deleted) {
    crds_.erase(crd_name);
  } else {
    const auto* spec = fields::spec(any);
    const auto* names = fields::obj(spec, "names");
    const std::string group(fields::str(spec, "group"));
    const std::string plural(fields::str(names, "plural"));
    const std::string kind(fields::str(names, "kind"));
    std::vector<std::string> served;
    std::string storage;
    bool status = false;
    if (const auto* vs = fields::arr(spec, "versions"))
      for (const auto& v : *vs) {
        const auto* vo = v.if_object();
        if (!vo || fields::str(vo, "name").empty())
          continue;
        const std::string name(fields::str(vo, "name"));
        const auto* served_flag = vo->if_contains("served");
        if (!served_flag || *served_flag != json::value(false))
          served.push_back(name);
        if (storage.empty() || fields::boolean(vo, "storage")) {
          storage = name;
          const auto* sub = fields::obj(vo, "subresources");
          status = sub && sub->contains("status");
        }
      }
    if (storage.empty() && !fields::str(spec, "version").empty()) {
      storage = std::string(fields::str(spec, "version"));
      served.push_back(storage);
    }
    if (group.empty() || plural.empty() || kind.empty() || served.empty()) {
      crds_.erase(crd_name);
    } else {
      std::sort(served.begin(), served.end(), higher_priority);
      const auto& type = register_resource_type(ResourceType{
          group, storage, plural, kind, fields::str(spec, "scope") != "Cluster", status, true});
      crds_[crd_name] = ServedCrd{&type, std::move(served)};
    }
  }
  crd_views_.clear();
  for (const auto& [name, crd] : crds_)
    for (const auto& v : crd.versions) {
      auto view = *crd.type;
      view.version = v;
      crd_views_.push_back(std::move(view));
    }
}

bool ApiHandler::serves(const ResourcePath& rp) const {
  if (!rp.type->custom)
    return true;
  for (const auto& [name, crd] : crds_)
    if (crd.type == rp.type)
      return std::find(crd.versions.begin(), crd.versions.end(), rp.version) != crd.versions.end();
  return false;
}

std::vector<const ResourceType*> ApiHandler::served_types() const {
  std::vector<const ResourceType*> out;
  for (const auto* t : resource_types())
    if (!t->custom)
      out.push_back(t);
  for (const auto& view : crd_views_)
    out.push_back(&view);
  return out;
}

std::string ApiHandler::requested_api_version(const ResourcePath& rp) {
  if (!rp.type->custom || rp.version.empty())
    return api_version(*rp.type);
  return rp.type->group + "/" + rp.version;
}

ObjectPtr ApiHandler::at_version(const ObjectPtr& object, std::string_view api_version) {
  if (!object || api_version.empty() || fields::str(object.get(), "apiVersion") == api_version)
    return object;
  auto copy = std::make_shared<json::object>(*object);
  (*copy)["apiVersion"] = api_version;
  return copy;
}

std::optional<ApiResponse> ApiHandler::check_api_version(const ResourcePath& rp,
                                                         json::object& body) {
  if (!rp.type->custom)
    return std::nullopt;
  const auto expected = requested_api_version(rp);
  const auto sent = fields::str(&body, "apiVersion");
  if (sent.empty()) {
    body["apiVersion"] = expected;
    return std::nullopt;
  }
  if (sent == expected)
    return std::nullopt;
  return error_response(bad_request("the API version in the data (" + std::string(sent) +
                                    ") does not match the expected API version (" + expected +
                                    ")"));
}

}  // namespace cnimig::sim
