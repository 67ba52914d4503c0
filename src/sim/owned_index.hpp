#pragma once
// Dependents by controlling owner (kind + namespace/name), maintained from store changes.

#include <map>
#include <set>
#include <string>
#include <vector>

#include "json_fields.hpp"
#include "object_store.hpp"

namespace cnimig::sim {

class OwnedIndex {
 public:
  explicit OwnedIndex(std::string owner_kind) : kind_(std::move(owner_kind)) {}
  // Returns the owner key ("ns/name") the change concerns, or "" if none.
  std::string observe(const Change& change) {
    const auto& any = change.object ? *change.object : *change.old_object;
    const auto* ref = fields::controller_ref(any);
    if (!ref || fields::str(ref, "kind") != kind_)
      return {};
    std::string owner = std::string(fields::ns(any)) + "/" + std::string(fields::str(ref, "name"));
    auto& entry = index_[owner];
    const std::string member(fields::name(any));
    if (auto it = entry.members.find(member); it != entry.members.end()) {
      entry.live -= it->second.live;
      entry.ready -= it->second.ready;
      entry.members.erase(it);
    }
    if (change.type != ChangeType::deleted) {
      Flags f{!fields::deleting(any), !fields::deleting(any) && fields::pod_ready(any)};
      entry.live += f.live;
      entry.ready += f.ready;
      entry.members.emplace(member, f);
    } else if (entry.members.empty()) {
      index_.erase(owner);
    }
    return owner;
  }
  std::vector<ObjectPtr> get(const ObjectStore& store, const ResourceType& type,
                             const std::string& owner) const {
    std::vector<ObjectPtr> out;
    auto it = index_.find(owner);
    if (it == index_.end())
      return out;
    const auto ns = wire::split_object_key(owner).namespace_;
    for (const auto& [n, f] : it->second.members)
      if (auto p = store.get(type, ns, n))
        out.push_back(std::move(p));
    return out;
  }

 private:
  std::string kind_;
  struct Flags {
    bool live;   // no deletionTimestamp
    bool ready;  // live and Ready
  };
  struct Entry {
    std::map<std::string, Flags> members;
    std::int64_t live = 0;
    std::int64_t ready = 0;
  };
  std::map<std::string, Entry> index_;

 public:
  // Live (not terminating) and Ready dependents, kept incrementally.
  std::pair<std::int64_t, std::int64_t> counts(const std::string& owner) const {
    auto it = index_.find(owner);
    return it == index_.end() ? std::pair<std::int64_t, std::int64_t>{0, 0}
                              : std::pair{it->second.live, it->second.ready};
  }
};

}  // namespace cnimig::sim
