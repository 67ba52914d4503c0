#pragma once
// The `namespace/name` key that kubectl prints and client-go's caches key by;
// the agent's cache and the simulator's store index objects with it. A
// cluster-scoped object's key is "/name" (an empty namespace), so every key
// has one '/', and all of a namespace's keys sort together after "ns/".
// Kubernetes names cannot hold a '/', so the first one separates the two.

#include <string>
#include <string_view>

#include <boost/json/object.hpp>

namespace cnimig::wire {

struct ObjectKey {
  std::string_view namespace_;  // "" for a cluster-scoped object
  std::string_view name;
};

// "ns/name"; "/name" for a cluster-scoped object.
std::string object_key(std::string_view namespace_, std::string_view name);
// The key of an object, from its metadata.
std::string object_key(const boost::json::object& object);
// The parts of a key (views into `key`); a key without a '/' is a name alone.
ObjectKey split_object_key(std::string_view key);

}  // namespace cnimig::wire
