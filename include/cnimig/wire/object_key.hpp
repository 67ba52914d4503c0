#pragma once
// The `namespace/name` key that kubectl prints and client-go's caches key by
// (MetaNamespaceKeyFunc): a cluster-scoped object's key is its name alone.
// The agent's caches and the simulator's store index objects with it;
// Kubernetes names cannot hold a '/', so the first one separates the two.

#include <string>
#include <string_view>

#include <boost/json/object.hpp>

namespace cnimig::wire {

struct ObjectKey {
  std::string_view namespace_;  // "" for a cluster-scoped object
  std::string_view name;
};

// "ns/name", or "name" when `namespace_` is empty.
std::string object_key(std::string_view namespace_, std::string_view name);
// The key of an object, from its metadata.
std::string object_key(const boost::json::object& object);
// The parts of a key (views into `key`); a key without a '/' is a name alone.
ObjectKey split_object_key(std::string_view key);

}  // namespace cnimig::wire
