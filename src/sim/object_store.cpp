#include "object_store.hpp"

#include <algorithm>
#include <chrono>
#include <random>
#include <utility>

#include <boost/json.hpp>

#include "cnimig/common/rfc3339.hpp"
#include "cnimig/wire/object_key.hpp"

#include "json_fields.hpp"

namespace cnimig::sim {
namespace json = boost::json;

namespace {

std::string_view node_name_of(const ObjectPtr& pod) {
  if (!pod)
    return {};
  return fields::node_name(*pod);
}

// apiVersion and kind, for objects sent without them.
void set_type_meta(json::object& obj, const ResourceType& type) {
  if (!obj.contains("apiVersion"))
    obj["apiVersion"] = api_version(type);
  if (!obj.contains("kind"))
    obj["kind"] = type.kind;
}

bool has_finalizers(const json::object& meta) {
  const auto* f = meta.if_contains("finalizers");
  return f && f->is_array() && !f->get_array().empty();
}

}  // namespace

std::string_view object_name(const json::object& obj) {
  return fields::name(obj);
}

std::string_view object_namespace(const json::object& obj) {
  return fields::ns(obj);
}

std::string rfc3339_now() {
  return format_rfc3339(std::chrono::system_clock::now(), TimePrecision::seconds);
}

ObjectStore::ObjectStore() {
  std::random_device rd;
  uid_state_[0] = (std::uint64_t{rd()} << 32) ^ rd();
  uid_state_[1] = (std::uint64_t{rd()} << 32) ^ rd();
}

std::string ObjectStore::key(std::string_view ns, std::string_view name) {
  return wire::object_key(ns, name);
}

ObjectStore::Bucket& ObjectStore::bucket(const ResourceType& type) {
  return buckets_[&type];
}

const ObjectStore::Bucket* ObjectStore::find_bucket(const ResourceType& type) const {
  auto it = buckets_.find(&type);
  return it == buckets_.end() ? nullptr : &it->second;
}

ObjectPtr ObjectStore::get(const ResourceType& type, std::string_view key) const {
  const auto [ns, name] = wire::split_object_key(key);
  return get(type, ns, name);
}

ObjectPtr ObjectStore::get(const ResourceType& type, std::string_view ns,
                           std::string_view name) const {
  const auto* b = find_bucket(type);
  if (!b)
    return nullptr;
  auto it = b->find(key(type.namespaced ? ns : std::string_view{}, name));
  return it == b->end() ? nullptr : it->second;
}

std::vector<ObjectPtr> ObjectStore::list(const ResourceType& type, std::string_view ns) const {
  return list_page(type, ns, {}, 0, nullptr);
}

std::vector<ObjectPtr> ObjectStore::list_page(const ResourceType& type, std::string_view ns,
                                              std::string_view after_key_view, std::size_t limit,
                                              std::string* next_key) const {
  std::vector<ObjectPtr> out;
  const std::string after_key(after_key_view);  // may alias *next_key
  if (next_key)
    next_key->clear();
  const auto* b = find_bucket(type);
  if (!b)
    return out;
  const bool scoped = type.namespaced && !ns.empty();
  const std::string prefix = scoped ? std::string(ns) + "/" : std::string();
  auto it = after_key.empty() ? b->lower_bound(prefix) : b->upper_bound(after_key);
  for (; it != b->end(); ++it) {
    if (scoped && it->first.compare(0, prefix.size(), prefix) != 0)
      break;
    if (limit && out.size() == limit) {
      if (next_key)
        *next_key = std::prev(it)->first;
      break;
    }
    out.push_back(it->second);
  }
  return out;
}

std::size_t ObjectStore::count(const ResourceType& type) const {
  const auto* b = find_bucket(type);
  return b ? b->size() : 0;
}

std::vector<ObjectPtr> ObjectStore::pods_on_node(std::string_view node) const {
  std::vector<ObjectPtr> out;
  auto it = pods_by_node_.find(std::string(node));
  if (it == pods_by_node_.end())
    return out;
  out.reserve(it->second.size());
  for (const auto& [k, p] : it->second)
    out.push_back(p);
  return out;
}

void ObjectStore::index_pod(const ObjectPtr& before, const ObjectPtr& after) {
  const auto& any = after ? after : before;
  const std::string k = key(object_namespace(*any), object_name(*any));
  if (before) {
    const auto node = node_name_of(before);
    if (!node.empty()) {
      auto it = pods_by_node_.find(std::string(node));
      if (it != pods_by_node_.end()) {
        it->second.erase(k);
        if (it->second.empty())
          pods_by_node_.erase(it);
      }
    }
  }
  if (after) {
    const auto node = node_name_of(after);
    if (!node.empty())
      pods_by_node_[std::string(node)][k] = after;
  }
}

Result<void> ObjectStore::admit_write() {
  if (write_gate_) {
    auto r = write_gate_(writes_ + 1);
    if (!r)
      return r;
  }
  ++writes_;
  return {};
}

void ObjectStore::notify(const Change& change) {
  // Copy: an observer may (un)register observers while being called.
  auto observers = observers_;
  for (auto& [id, fn] : observers)
    fn(change);
}

std::size_t ObjectStore::observe(Observer observer) {
  observers_.emplace_back(next_observer_, std::move(observer));
  return next_observer_++;
}

void ObjectStore::unobserve(std::size_t id) {
  std::erase_if(observers_, [id](const auto& p) { return p.first == id; });
}

Result<ObjectPtr> ObjectStore::create(const ResourceType& type, json::object obj) {
  auto& meta = fields::mutable_meta(obj);
  std::string name(fields::str(&meta, "name"));
  if (name.empty()) {
    const auto generate = fields::str(&meta, "generateName");
    if (generate.empty())
      return make_error(Errc::invalid,
                        "metadata.name: Required value: name or generateName is required");
    static constexpr char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
    std::mt19937_64 rng(uid_state_[0] ^ (resource_version_ * 0x9E3779B97F4A7C15ULL));
    name = std::string(generate);
    for (int i = 0; i < 5; ++i)
      name.push_back(alphabet[rng() % (sizeof alphabet - 1)]);
    meta["name"] = name;
  }
  std::string ns = type.namespaced ? std::string(fields::str(&meta, "namespace")) : "";
  if (type.namespaced && ns.empty()) {
    ns = "default";
    meta["namespace"] = ns;
  }
  if (!type.namespaced)
    meta.erase("namespace");
  auto& b = bucket(type);
  const auto k = key(ns, name);
  if (b.count(k)) {
    return make_error(Errc::already_exists, 409, "AlreadyExists",
                      qualified_resource(type) + " \"" + name + "\" already exists");
  }
  if (auto r = admit_write(); !r)
    return r.error();
  // uid: a random version-4 UUID from a xorshift stream seeded once.
  auto next = [this] {
    auto s1 = uid_state_[0];
    const auto s0 = uid_state_[1];
    uid_state_[0] = s0;
    s1 ^= s1 << 23;
    uid_state_[1] = s1 ^ s0 ^ (s1 >> 17) ^ (s0 >> 26);
    return uid_state_[1] + s0;
  };
  const auto a = next(), c = next();
  char uid[40];
  std::snprintf(uid, sizeof uid, "%08x-%04x-4%03x-%04x-%012llx", static_cast<unsigned>(a >> 32),
                static_cast<unsigned>((a >> 16) & 0xffff), static_cast<unsigned>(a & 0xfff),
                static_cast<unsigned>(0x8000 | ((c >> 48) & 0x3fff)),
                static_cast<unsigned long long>(c & 0xffffffffffffULL));
  meta["uid"] = uid;
  meta["creationTimestamp"] = rfc3339_now();
  meta.erase("deletionTimestamp");
  meta.erase("deletionGracePeriodSeconds");
  if (obj.contains("spec"))
    meta["generation"] = 1;
  else
    meta.erase("generation");
  const auto rv = ++resource_version_;
  meta["resourceVersion"] = std::to_string(rv);
  set_type_meta(obj, type);
  auto ptr = std::make_shared<const json::object>(std::move(obj));
  b.emplace(k, ptr);
  if (type.group.empty() && type.plural == "pods")
    index_pod(nullptr, ptr);
  notify(Change{ChangeType::added, &type, nullptr, ptr, rv});
  return ptr;
}

namespace {

Error conflict_error(const ResourceType& type, std::string_view name) {
  return make_error(Errc::conflict, 409, "Conflict",
                    "Operation cannot be fulfilled on " + qualified_resource(type) + " \"" +
                        std::string(name) +
                        "\": the object has been modified; please apply your changes to the "
                        "latest version and try again");
}

Error not_found_error(const ResourceType& type, std::string_view name) {
  return make_error(Errc::not_found, 404, "NotFound",
                    qualified_resource(type) + " \"" + std::string(name) + "\" not found");
}

}  // namespace

Result<ObjectPtr> ObjectStore::update(const ResourceType& type, json::object obj) {
  auto& meta = fields::mutable_meta(obj);
  const std::string name(fields::str(&meta, "name"));
  const std::string ns = type.namespaced ? std::string(fields::str(&meta, "namespace")) : "";
  auto& b = bucket(type);
  auto it = b.find(key(ns, name));
  if (it == b.end())
    return not_found_error(type, name);
  const auto& old = it->second;
  const auto* old_meta = fields::obj(*old, "metadata");
  const auto requested_rv = fields::str(&meta, "resourceVersion");
  const auto current_rv = fields::str(old_meta, "resourceVersion");
  if (!requested_rv.empty() && requested_rv != current_rv)
    return conflict_error(type, name);
  // Fields the server owns.
  for (const char* f : {"uid", "creationTimestamp", "generation"}) {
    if (const auto* v = old_meta->if_contains(f))
      meta[f] = *v;
    else
      meta.erase(f);
  }
  if (const auto* v = old_meta->if_contains("deletionTimestamp")) {
    // Once set, deletionTimestamp can only be set by delete; updates cannot clear it.
    meta["deletionTimestamp"] = *v;
    if (const auto* g = old_meta->if_contains("deletionGracePeriodSeconds"))
      meta["deletionGracePeriodSeconds"] = *g;
  }
  if (type.has_status) {
    if (const auto* s = old->if_contains("status"))
      obj["status"] = *s;
    else
      obj.erase("status");
  }
  set_type_meta(obj, type);
  const auto* old_spec = old->if_contains("spec");
  const auto* new_spec = obj.if_contains("spec");
  const bool spec_changed =
      (old_spec == nullptr) != (new_spec == nullptr) || (old_spec && *old_spec != *new_spec);
  meta["resourceVersion"] = current_rv;
  if (obj == *old)
    return old;  // no-op update: no new resourceVersion, no event
  const bool finalize = !(type.group.empty() && type.plural == "pods") &&
                        meta.contains("deletionTimestamp") && !has_finalizers(meta);
  if (finalize)
    return remove(type, ns, name);
  if (auto r = admit_write(); !r)
    return r.error();
  if (spec_changed && meta.contains("generation"))
    meta["generation"] = meta["generation"].to_number<std::int64_t>() + 1;
  else if (spec_changed && new_spec)
    meta["generation"] = 1;
  const auto rv = ++resource_version_;
  meta["resourceVersion"] = std::to_string(rv);
  auto ptr = std::make_shared<const json::object>(std::move(obj));
  auto before = std::exchange(it->second, ptr);
  if (type.group.empty() && type.plural == "pods")
    index_pod(before, ptr);
  notify(Change{ChangeType::modified, &type, before, ptr, rv});
  return ptr;
}

Result<void> ObjectStore::check_resource_version(const ResourceType& type,
                                                 const json::object& obj) const {
  const auto name = object_name(obj);
  const auto current = get(type, object_namespace(obj), name);
  if (!current)
    return not_found_error(type, name);
  const auto requested = fields::str(fields::obj(obj, "metadata"), "resourceVersion");
  if (!requested.empty() &&
      requested != fields::str(fields::obj(*current, "metadata"), "resourceVersion"))
    return conflict_error(type, name);
  return {};
}

Result<ObjectPtr> ObjectStore::update_status(const ResourceType& type, json::object obj) {
  const auto name = object_name(obj);
  const auto ns = type.namespaced ? object_namespace(obj) : std::string_view{};
  auto& b = bucket(type);
  auto it = b.find(key(ns, name));
  if (it == b.end())
    return not_found_error(type, name);
  const auto& old = it->second;
  const auto* old_meta = fields::obj(*old, "metadata");
  const auto requested_rv = fields::str(fields::obj(obj, "metadata"), "resourceVersion");
  if (!requested_rv.empty() && requested_rv != fields::str(old_meta, "resourceVersion"))
    return conflict_error(type, name);
  json::object next = *old;
  if (const auto* s = obj.if_contains("status"))
    next["status"] = *s;
  else
    next.erase("status");
  if (next == *old)
    return old;
  if (auto r = admit_write(); !r)
    return r.error();
  const auto rv = ++resource_version_;
  fields::mutable_meta(next)["resourceVersion"] = std::to_string(rv);
  auto ptr = std::make_shared<const json::object>(std::move(next));
  auto before = std::exchange(it->second, ptr);
  if (type.group.empty() && type.plural == "pods")
    index_pod(before, ptr);
  notify(Change{ChangeType::modified, &type, before, ptr, rv});
  return ptr;
}

ObjectPtr ObjectStore::mirror(const ResourceType& type, json::object obj) {
  auto& meta = fields::mutable_meta(obj);
  if (!type.namespaced)
    meta.erase("namespace");
  const auto k = key(fields::str(&meta, "namespace"), fields::str(&meta, "name"));
  const auto rv = ++resource_version_;
  meta["resourceVersion"] = std::to_string(rv);
  set_type_meta(obj, type);
  auto ptr = std::make_shared<const json::object>(std::move(obj));
  auto& slot = bucket(type)[k];
  auto before = std::exchange(slot, ptr);
  if (type.group.empty() && type.plural == "pods")
    index_pod(before, ptr);
  notify(Change{before ? ChangeType::modified : ChangeType::added, &type, before, ptr, rv});
  return ptr;
}

Result<ObjectPtr> ObjectStore::remove(const ResourceType& type, std::string_view ns,
                                      std::string_view name) {
  auto& b = bucket(type);
  auto it = b.find(key(type.namespaced ? ns : std::string_view{}, name));
  if (it == b.end())
    return not_found_error(type, name);
  if (auto r = admit_write(); !r)
    return r.error();
  auto before = it->second;
  b.erase(it);
  if (type.group.empty() && type.plural == "pods")
    index_pod(before, nullptr);
  const auto rv = ++resource_version_;
  // The watch DELETED event carries the deletion's resourceVersion.
  json::object last = *before;
  fields::mutable_meta(last)["resourceVersion"] = std::to_string(rv);
  auto ptr = std::make_shared<const json::object>(std::move(last));
  notify(Change{ChangeType::deleted, &type, before, ptr, rv});
  return ptr;
}

}  // namespace cnimig::sim
