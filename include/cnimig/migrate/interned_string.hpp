#pragma once
// A string held once per process and shared by every copy: a pod's
// namespace, owner kind and owner name repeat across thousands of pods (at
// 5,000 nodes 170,000 pods name a handful of namespaces and a few hundred
// owners), so PodState keeps a pointer (8 bytes) where a std::string took 32
// (test/bench/README.md (e)). Values are never freed: they are bounded by the
// distinct namespaces, owners and node names a run sees.

#include <compare>
#include <cstddef>
#include <ostream>
#include <string>
#include <string_view>

namespace cnimig::migrate {

class InternedString {
 public:
  InternedString() noexcept;
  InternedString(std::string_view text);  // NOLINT: a drop-in for std::string members
  InternedString(const std::string& text) : InternedString(std::string_view(text)) {}
  InternedString(const char* text) : InternedString(std::string_view(text)) {}

  const std::string& str() const noexcept { return *value_; }
  operator const std::string&() const noexcept { return *value_; }
  operator std::string_view() const noexcept { return *value_; }

  bool empty() const noexcept { return value_->empty(); }
  std::size_t size() const noexcept { return value_->size(); }
  const char* c_str() const noexcept { return value_->c_str(); }
  bool starts_with(std::string_view prefix) const noexcept { return value_->starts_with(prefix); }

  // One pool: equal texts share one pointer.
  friend bool operator==(const InternedString& a, const InternedString& b) noexcept {
    return a.value_ == b.value_;
  }
  friend bool operator==(const InternedString& a, const std::string& b) noexcept {
    return *a.value_ == b;
  }
  friend bool operator==(const InternedString& a, std::string_view b) noexcept {
    return *a.value_ == b;
  }
  friend bool operator==(const InternedString& a, const char* b) noexcept { return *a.value_ == b; }
  friend std::strong_ordering operator<=>(const InternedString& a,
                                          const InternedString& b) noexcept {
    return a.value_->compare(*b.value_) <=> 0;
  }

  // Hidden friends, found only for an InternedString: `std::string_view +
  // ...` elsewhere must not compile by interning its operand.
  friend std::string operator+(const InternedString& a, std::string_view b) {
    return a.str() + std::string(b);
  }
  friend std::ostream& operator<<(std::ostream& out, const InternedString& text) {
    return out << text.str();
  }

 private:
  const std::string* value_;
};

}  // namespace cnimig::migrate
