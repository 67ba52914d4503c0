#pragma once
// Builds Kubernetes REST paths: /api/v1/... for the core group,
// /apis/<group>/<version>/... otherwise; namespaced or cluster-scoped;
// optionally a named object and a subresource.
//   ResourcePath::core("pods").in("kube-system").named("x").sub("eviction").path()
//   -> /api/v1/namespaces/kube-system/pods/x/eviction

#include <string>

namespace cnimig::kube {

struct ResourcePath {
  std::string group;  // "" for core
  std::string version = "v1";
  std::string resource;    // plural, lower case: pods, daemonsets
  std::string namespace_;  // "" for cluster-scoped resources or all namespaces
  std::string name;
  std::string subresource;

  static ResourcePath core(std::string resource) {
    return {"", "v1", std::move(resource), "", "", ""};
  }
  static ResourcePath of(std::string group, std::string version, std::string resource) {
    return {std::move(group), std::move(version), std::move(resource), "", "", ""};
  }
  ResourcePath in(std::string ns) const {
    ResourcePath p = *this;
    p.namespace_ = std::move(ns);
    return p;
  }
  ResourcePath named(std::string n) const {
    ResourcePath p = *this;
    p.name = std::move(n);
    return p;
  }
  ResourcePath sub(std::string s) const {
    ResourcePath p = *this;
    p.subresource = std::move(s);
    return p;
  }
  // The collection (no name, no subresource).
  ResourcePath collection() const { return {group, version, resource, namespace_, "", ""}; }

  std::string path() const;
  std::string api_version() const { return group.empty() ? version : group + "/" + version; }
};

// Percent-encodes a query parameter value (RFC 3986 unreserved characters kept).
std::string url_encode(const std::string& value);

}  // namespace cnimig::kube
