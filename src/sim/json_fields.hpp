#pragma once
// The simulator reads objects with the readers both sides share
// (cnimig/wire/object_fields.hpp: a missing or mistyped member reads as
// null, "" or 0, as Go's zero values would) and writes them with the two
// helpers below, which only the API half and the controllers need.

#include <string>
#include <string_view>

#include <boost/json.hpp>

#include "cnimig/wire/object_fields.hpp"
#include "cnimig/wire/object_key.hpp"

namespace cnimig::sim::fields {

using namespace cnimig::wire;

// The object at `key`, made an empty object first when absent or not an
// object (a Go struct or a pointer the API server allocates).
inline boost::json::object& ensure_obj(boost::json::object& o, std::string_view key) {
  auto& v = o[key];
  if (!v.is_object())
    v = boost::json::object();
  return v.get_object();
}
inline boost::json::object& mutable_meta(boost::json::object& o) {
  return ensure_obj(o, "metadata");
}
// The store's key of an object: "ns/name" ("name" when cluster-scoped).
inline std::string key(const boost::json::object& o) {
  return object_key(o);
}

}  // namespace cnimig::sim::fields
