#pragma once
// A pod's metadata.uid in 24 bytes. The API server hands out UUIDs, 36
// characters that a std::string keeps on the heap (32 bytes in PodState and
// a 48-byte allocation, 80 bytes a pod: 13 MiB at 170,000 pods); a
// canonical UUID (lowercase, hyphenated) is kept as its 16 bytes and spelt
// out again on demand. Any other text (the plan's model makes up its own)
// is kept as it is, on the heap.

#include <array>
#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <string_view>

namespace cnimig::migrate {

class PodUid {
 public:
  PodUid() noexcept = default;
  PodUid(std::string_view text);  // NOLINT: a drop-in for a std::string member
  PodUid(const std::string& text) : PodUid(std::string_view(text)) {}
  PodUid(const char* text) : PodUid(std::string_view(text)) {}
  PodUid(const PodUid& other);
  PodUid(PodUid&&) noexcept = default;
  PodUid& operator=(const PodUid& other);
  PodUid& operator=(PodUid&&) noexcept = default;
  ~PodUid() = default;

  std::string str() const;
  operator std::string() const { return str(); }
  bool empty() const noexcept { return text_ == nullptr && bytes_ == Bytes{}; }

  friend bool operator==(const PodUid& a, const PodUid& b) noexcept;
  friend bool operator==(const PodUid& a, std::string_view b) noexcept;
  friend bool operator==(const PodUid& a, const std::string& b) noexcept {
    return a == std::string_view(b);
  }
  friend bool operator==(const PodUid& a, const char* b) noexcept {
    return a == std::string_view(b);
  }

  // A strict weak order without spelling the uid out: a PodUid keys an
  // ordered map (RunRecord::removed_pods) and a lookup costs 16 bytes'
  // comparison, not a string built per probe.
  friend bool operator<(const PodUid& a, const PodUid& b) noexcept;

  // Hidden friends, found only for a PodUid.
  friend std::string operator+(const std::string& a, const PodUid& b) { return a + b.str(); }
  friend std::ostream& operator<<(std::ostream& out, const PodUid& uid) { return out << uid.str(); }

 private:
  using Bytes = std::array<std::uint8_t, 16>;
  // A canonical UUID other than the nil one (all zero bytes and no text:
  // empty); else text_ holds the uid.
  Bytes bytes_{};
  std::unique_ptr<const std::string> text_;
};

}  // namespace cnimig::migrate
