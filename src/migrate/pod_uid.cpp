#include "cnimig/migrate/pod_uid.hpp"

#include <cstddef>

namespace cnimig::migrate {
namespace {

constexpr std::size_t kUuidLength = 36;
constexpr char kDigits[] = "0123456789abcdef";

bool hyphen_at(std::size_t i) {
  return i == 8 || i == 13 || i == 18 || i == 23;
}

int digit(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  if (c >= 'a' && c <= 'f')
    return c - 'a' + 10;
  return -1;  // upper case too: only the canonical spelling round-trips
}

// The 16 bytes of a canonical UUID, false for any other text.
template <class Bytes>
bool parse_uuid(std::string_view text, Bytes& out) {
  if (text.size() != kUuidLength)
    return false;
  std::size_t byte = 0;
  for (std::size_t i = 0; i < kUuidLength;) {
    if (hyphen_at(i)) {
      if (text[i] != '-')
        return false;
      ++i;
      continue;
    }
    const int high = digit(text[i]);
    const int low = digit(text[i + 1]);
    if (high < 0 || low < 0)
      return false;
    out[byte++] = static_cast<std::uint8_t>(high * 16 + low);
    i += 2;
  }
  return true;
}

}  // namespace

PodUid::PodUid(std::string_view text) {
  if (text.empty())
    return;
  if (!parse_uuid(text, bytes_) || bytes_ == Bytes{}) {
    bytes_ = Bytes{};
    text_ = std::make_unique<const std::string>(text);
  }
}

PodUid::PodUid(const PodUid& other)
    : bytes_(other.bytes_),
      text_(other.text_ ? std::make_unique<const std::string>(*other.text_) : nullptr) {}

PodUid& PodUid::operator=(const PodUid& other) {
  if (this != &other) {
    bytes_ = other.bytes_;
    text_ = other.text_ ? std::make_unique<const std::string>(*other.text_) : nullptr;
  }
  return *this;
}

std::string PodUid::str() const {
  if (text_)
    return *text_;
  if (empty())
    return {};
  std::string out;
  out.reserve(kUuidLength);
  for (std::size_t i = 0; i < bytes_.size(); ++i) {
    if (i == 4 || i == 6 || i == 8 || i == 10)
      out += '-';
    out += kDigits[bytes_[i] >> 4];
    out += kDigits[bytes_[i] & 0x0f];
  }
  return out;
}

// The texts are compared as string_views: PodUid converts from a string,
// so a plain `*a.text_ == b` would call these operators again.
bool operator==(const PodUid& a, const PodUid& b) noexcept {
  if (a.text_ || b.text_)
    return a.text_ && b.text_ && std::string_view(*a.text_) == std::string_view(*b.text_);
  return a.bytes_ == b.bytes_;
}

// Canonical UUIDs (bytes) order before other texts; each kind in its own
// order.
bool operator<(const PodUid& a, const PodUid& b) noexcept {
  if (a.text_ || b.text_) {
    if (!a.text_ || !b.text_)
      return !a.text_;
    return std::string_view(*a.text_) < std::string_view(*b.text_);
  }
  return a.bytes_ < b.bytes_;
}

bool operator==(const PodUid& a, std::string_view b) noexcept {
  if (a.text_)
    return std::string_view(*a.text_) == b;
  if (b.empty())
    return a.empty();
  PodUid::Bytes bytes{};
  return parse_uuid(b, bytes) && bytes == a.bytes_ && !a.empty();
}

}  // namespace cnimig::migrate
