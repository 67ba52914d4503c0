#pragma once
// Dependents by controlling owner (kind + namespace/name), maintained from store changes.

#include <map>
#include <set>
#include <string>
#include <vector>

#include "cnimig/sim/object_store.hpp"

#include "json_fields.hpp"

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
    if (change.type == ChangeType::deleted) {
      auto it = index_.find(owner);
      if (it != index_.end()) {
        it->second.erase(std::string(fields::name(any)));
        if (it->second.empty())
          index_.erase(it);
      }
    } else {
      index_[owner].insert(std::string(fields::name(any)));
    }
    return owner;
  }
  std::vector<ObjectPtr> get(const ObjectStore& store, const ResourceType& type,
                             const std::string& owner) const {
    std::vector<ObjectPtr> out;
    auto it = index_.find(owner);
    if (it == index_.end())
      return out;
    const auto ns = std::string_view(owner).substr(0, owner.find('/'));
    for (const auto& n : it->second)
      if (auto p = store.get(type, ns, n))
        out.push_back(std::move(p));
    return out;
  }

 private:
  std::string kind_;
  std::map<std::string, std::set<std::string>> index_;
};

}  // namespace cnimig::sim
