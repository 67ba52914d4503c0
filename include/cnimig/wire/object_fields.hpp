#pragma once
// Null-safe readers over Kubernetes API objects as JSON: a field that is
// absent or of another type reads as empty (null, "", false, 0), which is what
// the API's own defaulting means for every field we read. The agent's
// projection and preflight, the client's watches and the simulator all read
// objects this way; it is Kubernetes semantics, not migration logic, so the
// simulator's oracle can use it without depending on the engine.

#include <charconv>
#include <cstdint>
#include <string>
#include <string_view>

#include <boost/json.hpp>

namespace cnimig::wire {

// The object, array or string at `key` of `o` (which may be null).
inline const boost::json::object* obj(const boost::json::object* o, std::string_view key) {
  if (o == nullptr)
    return nullptr;
  const auto* v = o->if_contains(key);
  return v != nullptr && v->is_object() ? &v->get_object() : nullptr;
}
inline const boost::json::object* obj(const boost::json::object& o, std::string_view key) {
  return obj(&o, key);
}
inline const boost::json::array* arr(const boost::json::object* o, std::string_view key) {
  if (o == nullptr)
    return nullptr;
  const auto* v = o->if_contains(key);
  return v != nullptr && v->is_array() ? &v->get_array() : nullptr;
}
inline std::string_view str(const boost::json::object* o, std::string_view key) {
  if (o == nullptr)
    return {};
  const auto* v = o->if_contains(key);
  return v != nullptr && v->is_string() ? std::string_view(v->get_string()) : std::string_view{};
}
inline bool boolean(const boost::json::object* o, std::string_view key) {
  if (o == nullptr)
    return false;
  const auto* v = o->if_contains(key);
  return v != nullptr && v->is_bool() && v->get_bool();
}
// Integers come as int64 or uint64 from the parser, and as doubles from
// writers that do not keep integers apart (YAML converted to JSON).
inline std::int64_t integer(const boost::json::object* o, std::string_view key,
                            std::int64_t fallback = 0) {
  if (o == nullptr)
    return fallback;
  const auto* v = o->if_contains(key);
  if (v == nullptr)
    return fallback;
  if (v->is_int64())
    return v->get_int64();
  if (v->is_uint64())
    return static_cast<std::int64_t>(v->get_uint64());
  if (v->is_double())
    return static_cast<std::int64_t>(v->get_double());
  return fallback;
}

// ObjectMeta and the top-level stanzas.
inline const boost::json::object* meta(const boost::json::object& o) {
  return obj(o, "metadata");
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
// metadata.resourceVersion, or "" when the object has none (an object built
// locally, or a dry-run create's answer).
inline std::string_view resource_version(const boost::json::object& o) {
  return str(meta(o), "resourceVersion");
}
// A resourceVersion as a number, 0 when it is not one. Kubernetes calls it
// opaque, but kube-apiserver (etcd's revision) and cnimig-sim hand out
// increasing integers, comparable between objects of one resource since
// Kubernetes 1.35 (KEP-5504).
inline std::uint64_t version_number(std::string_view text) {
  std::uint64_t value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  return ec == std::errc() && end == text.data() + text.size() ? value : 0;
}
inline std::string_view label(const boost::json::object& o, std::string_view key) {
  return str(obj(meta(o), "labels"), key);
}
inline std::string_view annotation(const boost::json::object& o, std::string_view key) {
  return str(obj(meta(o), "annotations"), key);
}
// A deletion has been requested (graceful deletion in progress, or held by finalizers).
inline bool deleting(const boost::json::object& o) {
  const auto* m = meta(o);
  return m != nullptr && m->contains("deletionTimestamp");
}
// The ownerReference with controller: true, or null.
inline const boost::json::object* controller_ref(const boost::json::object& o) {
  const auto* refs = arr(meta(o), "ownerReferences");
  if (refs == nullptr)
    return nullptr;
  for (const auto& r : *refs)
    if (r.is_object() && boolean(&r.get_object(), "controller"))
      return &r.get_object();
  return nullptr;
}

// Pods and conditions.
inline std::string_view node_name(const boost::json::object& pod) {
  return str(spec(pod), "nodeName");
}
inline bool host_network(const boost::json::object& pod) {
  return boolean(spec(pod), "hostNetwork");
}
// status.conditions[type=<type>], or nullptr.
inline const boost::json::object* condition(const boost::json::object& o, std::string_view type) {
  const auto* conds = arr(status(o), "conditions");
  if (conds == nullptr)
    return nullptr;
  for (const auto& c : *conds)
    if (c.is_object() && str(&c.get_object(), "type") == type)
      return &c.get_object();
  return nullptr;
}
inline bool condition_true(const boost::json::object& o, std::string_view type) {
  return str(condition(o, type), "status") == "True";
}
inline std::string_view condition_reason(const boost::json::object& o, std::string_view type) {
  return str(condition(o, type), "reason");
}
inline bool pod_ready(const boost::json::object& pod) {
  return condition_true(pod, "Ready");
}

}  // namespace cnimig::wire
