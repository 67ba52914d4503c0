#include "cnimig/config/duration.hpp"

#include <cctype>
#include <charconv>

namespace cnimig::config {

Result<std::chrono::milliseconds> parse_duration(std::string_view text) {
  const auto invalid = [&] {
    return make_error(Errc::config,
                      "invalid duration '" + std::string(text) +
                          "' (expected a positive duration such as 500ms, 30s, 15m or 1h30m)");
  };
  if (text.empty())
    return invalid();
  std::chrono::milliseconds total{0};
  std::size_t i = 0;
  while (i < text.size()) {
    std::uint64_t number = 0;
    const auto [end, ec] = std::from_chars(text.data() + i, text.data() + text.size(), number);
    if (ec != std::errc{} || number > 1'000'000'000)
      return invalid();
    i = static_cast<std::size_t>(end - text.data());
    std::size_t unit_end = i;
    while (unit_end < text.size() && std::isalpha(static_cast<unsigned char>(text[unit_end])))
      ++unit_end;
    const auto unit = text.substr(i, unit_end - i);
    i = unit_end;
    const auto n = static_cast<std::int64_t>(number);
    if (unit == "ms") {
      total += std::chrono::milliseconds(n);
    } else if (unit == "s") {
      total += std::chrono::seconds(n);
    } else if (unit == "m") {
      total += std::chrono::minutes(n);
    } else if (unit == "h") {
      total += std::chrono::hours(n);
    } else {
      return invalid();
    }
  }
  if (total.count() <= 0)
    return invalid();
  return total;
}

std::string format_duration(std::chrono::milliseconds d) {
  const auto ms = d.count();
  if (ms % 1000 != 0)
    return std::to_string(ms) + "ms";
  auto s = ms / 1000;
  std::string out;
  if (s >= 3600) {
    out += std::to_string(s / 3600) + "h";
    s %= 3600;
  }
  if (s >= 60) {
    out += std::to_string(s / 60) + "m";
    s %= 60;
  }
  if (s > 0 || out.empty())
    out += std::to_string(s) + "s";
  return out;
}

Result<MaxUnavailable> parse_max_unavailable(std::string_view text) {
  MaxUnavailable out;
  std::string_view digits = text;
  if (text.ends_with('%')) {
    out.percent = true;
    digits.remove_suffix(1);
  }
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || ec != std::errc{} || end != digits.data() + digits.size() || value == 0 ||
      (out.percent && value > 100)) {
    return make_error(
        Errc::config,
        "invalid maxUnavailable '" + std::string(text) +
            "' (expected a node count of at least 1 or a percentage from 1% to 100%)");
  }
  out.value = value;
  return out;
}

}  // namespace cnimig::config

namespace cnimig::config {

unsigned MaxUnavailable::resolve(std::size_t nodes) const {
  if (!percent)
    return value;
  const auto count = static_cast<unsigned>((nodes * value) / 100);
  return count == 0 ? 1 : count;
}

}  // namespace cnimig::config
