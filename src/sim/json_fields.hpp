#pragma once
// Null-safe accessors over Kubernetes JSON, for the whole simulator: a missing
// or mistyped member reads as null, "" or 0, as Go's zero values would.

#include <cstdint>
#include <string>
#include <string_view>

#include <boost/json.hpp>

namespace cnimig::sim::fields {

inline const boost::json::object* obj(const boost::json::object* o, std::string_view key) {
  if (!o)
    return nullptr;
  const auto* v = o->if_contains(key);
  return v && v->is_object() ? &v->get_object() : nullptr;
}
inline const boost::json::object* obj(const boost::json::object& o, std::string_view key) {
  return obj(&o, key);
}
inline const boost::json::array* arr(const boost::json::object* o, std::string_view key) {
  if (!o)
    return nullptr;
  const auto* v = o->if_contains(key);
  return v && v->is_array() ? &v->get_array() : nullptr;
}
inline std::string_view str(const boost::json::object* o, std::string_view key) {
  if (!o)
    return {};
  const auto* v = o->if_contains(key);
  return v && v->is_string() ? std::string_view(v->get_string()) : std::string_view{};
}
inline bool boolean(const boost::json::object* o, std::string_view key) {
  if (!o)
    return false;
  const auto* v = o->if_contains(key);
  return v && v->is_bool() && v->get_bool();
}
inline std::int64_t integer(const boost::json::object* o, std::string_view key,
                            std::int64_t dflt = 0) {
  if (!o)
    return dflt;
  const auto* v = o->if_contains(key);
  if (!v)
    return dflt;
  if (v->is_int64())
    return v->get_int64();
  if (v->is_uint64())
    return static_cast<std::int64_t>(v->get_uint64());
  if (v->is_double())
    return static_cast<std::int64_t>(v->get_double());
  return dflt;
}
// The object at `key`, made an empty object first when absent or not an
// object (a Go struct or a pointer the API server allocates).
inline boost::json::object& ensure_obj(boost::json::object& o, std::string_view key) {
  auto& v = o[key];
  if (!v.is_object())
    v = boost::json::object();
  return v.get_object();
}
inline const boost::json::object* meta(const boost::json::object& o) {
  return obj(o, "metadata");
}
inline boost::json::object& mutable_meta(boost::json::object& o) {
  return ensure_obj(o, "metadata");
}
inline const boost::json::object* spec(const boost::json::object& o) {
  return obj(o, "spec");
}
inline const boost::json::object* status(const boost::json::object& o) {
  return obj(o, "status");
}
inline std::string_view name(const boost::json::object& o) {
  return str(meta(o), "name");
}
inline std::string_view ns(const boost::json::object& o) {
  return str(meta(o), "namespace");
}
inline std::string_view uid(const boost::json::object& o) {
  return str(meta(o), "uid");
}
inline std::string_view label(const boost::json::object& o, std::string_view key) {
  return str(obj(meta(o), "labels"), key);
}
inline std::string_view annotation(const boost::json::object& o, std::string_view key) {
  return str(obj(meta(o), "annotations"), key);
}
inline std::string key(const boost::json::object& o) {
  std::string k(ns(o));
  k += '/';
  k += name(o);
  return k;
}
inline std::string_view node_name(const boost::json::object& pod) {
  return str(spec(pod), "nodeName");
}
inline bool host_network(const boost::json::object& pod) {
  return boolean(spec(pod), "hostNetwork");
}
inline bool deleting(const boost::json::object& o) {
  const auto* m = meta(o);
  return m && m->contains("deletionTimestamp");
}
// The controller ownerReference (controller: true), or null.
inline const boost::json::object* controller_ref(const boost::json::object& o) {
  const auto* refs = arr(meta(o), "ownerReferences");
  if (!refs)
    return nullptr;
  for (const auto& r : *refs)
    if (r.is_object() && boolean(&r.get_object(), "controller"))
      return &r.get_object();
  return nullptr;
}
inline bool condition_true(const boost::json::object& o, std::string_view type) {
  const auto* conds = arr(status(o), "conditions");
  if (!conds)
    return false;
  for (const auto& c : *conds)
    if (c.is_object() && str(&c.get_object(), "type") == type)
      return str(&c.get_object(), "status") == "True";
  return false;
}
inline bool pod_ready(const boost::json::object& pod) {
  return condition_true(pod, "Ready");
}

}  // namespace cnimig::sim::fields
