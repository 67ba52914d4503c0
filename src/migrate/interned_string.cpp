#include "cnimig/migrate/interned_string.hpp"

#include <functional>
#include <mutex>
#include <unordered_set>

namespace cnimig::migrate {
namespace {

// Looks a std::string_view up without building a std::string.
struct Hash {
  using is_transparent = void;
  std::size_t operator()(std::string_view text) const noexcept {
    return std::hash<std::string_view>{}(text);
  }
};

struct Pool {
  std::mutex mutex;  // the simulator and tests build snapshots on several threads
  // Node-based: an element keeps its address when the set rehashes.
  std::unordered_set<std::string, Hash, std::equal_to<>> values;
};

Pool& pool() {
  static Pool* p = new Pool;  // never destroyed: values outlive every static snapshot
  return *p;
}

const std::string& empty_string() {
  static const std::string empty;
  return empty;
}

}  // namespace

InternedString::InternedString() noexcept : value_(&empty_string()) {}

InternedString::InternedString(std::string_view text) : value_(&empty_string()) {
  if (text.empty())
    return;
  auto& p = pool();
  const std::lock_guard lock(p.mutex);
  auto it = p.values.find(text);
  if (it == p.values.end())
    it = p.values.emplace(text).first;
  value_ = &*it;
}

}  // namespace cnimig::migrate
