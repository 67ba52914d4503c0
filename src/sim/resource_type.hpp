#pragma once
// The resource kinds the simulator serves. Lookup is by (group, plural) the way
// the REST paths name them (/api/v1/pods, /apis/apps/v1/daemonsets); group ""
// is the core group. Custom resources of stored CRDs are registered at run time.

#include <string>
#include <string_view>
#include <vector>

namespace cnimig::sim {

struct ResourceType {
  std::string group;
  std::string version;
  std::string plural;
  std::string kind;
  bool namespaced;
  bool has_status;
  // A CustomResourceDefinition's kind: served only by the API handlers whose
  // store holds the CRD, at its served versions (`version`: the first
  // registration's storage version, the store's one bucket for every version).
  bool custom = false;
};

// Throws ErrorException(Errc::not_found) when unknown.
const ResourceType& resource_type(std::string_view group, std::string_view plural);
const ResourceType* find_resource_type(std::string_view group, std::string_view plural);
// Every registered type, built-ins first, in registration order.
std::vector<const ResourceType*> resource_types();
// kubectl's short names (po, no, ds...) for discovery; empty when none.
std::vector<std::string> short_names(const ResourceType& type);
// "daemonsets.apps" or "pods": how the API server names a resource in errors.
std::string qualified_resource(const ResourceType& type);
// "apps/v1" or "v1".
std::string api_version(const ResourceType& type);
// Adds (or returns the existing) type, e.g. for a CustomResourceDefinition's
// served version. The returned reference stays valid for the process lifetime.
const ResourceType& register_resource_type(ResourceType type);

}  // namespace cnimig::sim
