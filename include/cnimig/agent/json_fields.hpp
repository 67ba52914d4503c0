#pragma once
// Reading fields of API objects that may be absent or of another type: the
// projection and the preflight's fact readers both read objects this way.

#include <string>
#include <string_view>

#include <boost/json/object.hpp>

namespace cnimig::agent {

// The object at `key`, or null.
inline const boost::json::object* object_at(const boost::json::object& o, std::string_view key) {
  const auto* v = o.if_contains(key);
  return v != nullptr && v->is_object() ? &v->get_object() : nullptr;
}

// The string at `key` of `o` (which may be null), or "".
inline std::string string_at(const boost::json::object* o, std::string_view key) {
  if (o == nullptr)
    return {};
  const auto* v = o->if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

}  // namespace cnimig::agent
