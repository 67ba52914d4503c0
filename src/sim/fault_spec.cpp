#include "cnimig/sim/fault_spec.hpp"

#include <charconv>

namespace cnimig::sim {

Result<std::chrono::milliseconds> parse_duration(std::string_view text) {
  double value = 0;
  std::size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
    ++i;
  try {
    value = std::stod(std::string(text.substr(0, i)));
  } catch (const std::exception&) {
    return make_error(Errc::invalid_argument, "bad duration \"" + std::string(text) + "\"");
  }
  const auto unit = text.substr(i);
  double ms = 0;
  if (unit.empty() || unit == "s")
    ms = value * 1000;
  else if (unit == "ms")
    ms = value;
  else if (unit == "m")
    ms = value * 60000;
  else
    return make_error(Errc::invalid_argument, "bad duration unit \"" + std::string(unit) + "\"");
  return std::chrono::milliseconds(static_cast<std::int64_t>(ms));
}

Result<FaultSpec> FaultSpec::parse(std::string_view text) {
  FaultSpec spec;
  std::size_t start = 0;
  while (start < text.size()) {
    auto comma = text.find(',', start);
    auto item = text.substr(start, comma == text.npos ? text.npos : comma - start);
    start = comma == text.npos ? text.size() : comma + 1;
    if (item.empty())
      continue;
    auto eq = item.find('=');
    const std::string key(item.substr(0, eq));
    const std::string value(eq == item.npos ? "1" : item.substr(eq + 1));
    const auto bad = [&] {
      return make_error(Errc::invalid_argument, "--faults: bad value for " + key + ": " + value);
    };
    try {
      if (key == "error-rate") {
        spec.error_rate = std::stod(value);
      } else if (key == "error-verbs") {
        std::size_t s = 0;
        while (s <= value.size()) {
          auto bar = value.find('|', s);
          spec.error_verbs.insert(value.substr(s, bar == value.npos ? value.npos : bar - s));
          if (bar == value.npos)
            break;
          s = bar + 1;
        }
      } else if (key == "error-status") {
        spec.error_status = std::stoi(value);
      } else if (key == "timeout-rate") {
        spec.timeout_rate = std::stod(value);
      } else if (key == "watch-cut") {
        auto d = parse_duration(value);
        if (!d)
          return d.error();
        spec.watch_cut = *d;
      } else if (key == "gone-on-resume") {
        spec.gone_on_resume = value != "0" && value != "false";
      } else if (key == "latency") {
        auto d = parse_duration(value);
        if (!d)
          return d.error();
        spec.latency = *d;
      } else if (key == "stop-at-write") {
        spec.stop_at_write = std::stoull(value);
      } else {
        spec.extra[key] = value;
      }
    } catch (const std::exception&) {
      return bad();
    }
  }
  if (spec.error_rate < 0 || spec.error_rate > 1 || spec.timeout_rate < 0 || spec.timeout_rate > 1)
    return make_error(Errc::invalid_argument, "--faults: rates must be within [0, 1]");
  return spec;
}

}  // namespace cnimig::sim
