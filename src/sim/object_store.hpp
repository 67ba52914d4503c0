#pragma once
// The simulator's etcd: every object of every kind as an immutable JSON
// snapshot, one global resourceVersion counter, and synchronous observers that
// see each committed change in order (the API server's watch history and the
// controllers hang off them). Single-threaded: it lives on the simulator's
// io_context thread.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include <boost/json/object.hpp>

#include "cnimig/common/result.hpp"

#include "resource_type.hpp"

namespace cnimig::sim {

using ObjectPtr = std::shared_ptr<const boost::json::object>;

enum class ChangeType { added, modified, deleted };

struct Change {
  ChangeType type;
  const ResourceType* resource;
  ObjectPtr old_object;  // null for added
  ObjectPtr object;      // for deleted: the last state, carrying the deletion's resourceVersion
  std::uint64_t resource_version;
};

class ObjectStore {
 public:
  ObjectStore();

  ObjectPtr get(const ResourceType& type, std::string_view ns, std::string_view name) const;
  // By the object's key ("ns/name", wire::object_key), as the controllers queue them.
  ObjectPtr get(const ResourceType& type, std::string_view key) const;
  // Sorted by namespace then name (etcd's key order), so limit/continue is stable.
  std::vector<ObjectPtr> list(const ResourceType& type, std::string_view ns) const;
  std::vector<ObjectPtr> pods_on_node(std::string_view node) const;
  // Page of list(): objects whose key sorts after `after_key` (empty = from the start);
  // at most `limit` (0 = all). `next_key` is set when more remain.
  std::vector<ObjectPtr> list_page(const ResourceType& type, std::string_view ns,
                                   std::string_view after_key, std::size_t limit,
                                   std::string* next_key) const;
  std::size_t count(const ResourceType& type) const;

  // Sets uid, creationTimestamp, resourceVersion and (for objects with a spec)
  // generation=1; metadata.generateName makes a name. 409 AlreadyExists when present.
  Result<ObjectPtr> create(const ResourceType& type, boost::json::object obj);
  // 404 when absent; 409 Conflict when metadata.resourceVersion is set and stale.
  // Keeps uid/creationTimestamp; bumps generation when spec changes; keeps the
  // stored status when the kind has a status subresource. An update that changes
  // nothing commits nothing (like the real API server). An update that leaves a
  // non-pod object with deletionTimestamp and no finalizers removes it.
  Result<ObjectPtr> update(const ResourceType& type, boost::json::object obj);
  // The precondition update() and update_status() check, for a write checked
  // without being committed (dryRun=All): 404 when the object is absent, 409
  // Conflict when obj's metadata.resourceVersion is set and is not the stored one.
  Result<void> check_resource_version(const ResourceType& type,
                                      const boost::json::object& obj) const;
  // Replaces only .status; no generation bump.
  Result<ObjectPtr> update_status(const ResourceType& type, boost::json::object obj);
  Result<ObjectPtr> remove(const ResourceType& type, std::string_view ns, std::string_view name);
  // Stores `obj` as another server holds it (an attached simulator's mirror of
  // a real API server): its uid, timestamps and generation are kept, only the
  // resourceVersion is this store's. Added or modified; never refused, never
  // counted as a client write.
  ObjectPtr mirror(const ResourceType& type, boost::json::object obj);

  std::uint64_t resource_version() const { return resource_version_; }

  using Observer = std::function<void(const Change&)>;
  std::size_t observe(Observer observer);
  void unobserve(std::size_t id);

  // Counts every committed write; the hook (if set) runs before each write is
  // committed and may refuse it (crash-resume tests stop answering at the k-th write).
  std::uint64_t writes() const { return writes_; }
  using WriteGate = std::function<Result<void>(std::uint64_t write_number)>;
  void set_write_gate(WriteGate gate) { write_gate_ = std::move(gate); }

  static std::string key(std::string_view ns, std::string_view name);

 private:
  using Bucket = std::map<std::string, ObjectPtr, std::less<>>;
  Bucket& bucket(const ResourceType& type);
  const Bucket* find_bucket(const ResourceType& type) const;
  Result<void> admit_write();
  void index_pod(const ObjectPtr& before, const ObjectPtr& after);
  void notify(const Change& change);

  std::unordered_map<const ResourceType*, Bucket> buckets_;
  std::unordered_map<std::string, std::map<std::string, ObjectPtr, std::less<>>> pods_by_node_;
  std::uint64_t resource_version_ = 0;
  std::uint64_t writes_ = 0;
  WriteGate write_gate_;
  std::size_t next_observer_ = 1;
  std::vector<std::pair<std::size_t, Observer>> observers_;
  std::uint64_t uid_state_[2];
};

// Small helpers over the object JSON shared by the API and controller halves.
std::string_view object_name(const boost::json::object& obj);
std::string_view object_namespace(const boost::json::object& obj);
// RFC 3339 UTC seconds, as metadata timestamps use.
std::string rfc3339_now();

}  // namespace cnimig::sim
