#include "cnimig/sim/fault_spec.hpp"

#include <charconv>
#include <cmath>
#include <sstream>

#include "cnimig/common/split.hpp"

namespace cnimig::sim {

namespace {

std::set<std::string> split_bars(const std::string& value) {
  std::set<std::string> out;
  for (const auto item : split(value, '|')) {
    if (!item.empty())
      out.emplace(item);
  }
  return out;
}

std::string join_bars(const std::set<std::string>& items) {
  std::string out;
  for (const auto& i : items)
    out += (out.empty() ? "" : "|") + i;
  return out;
}

std::string number(double v) {
  std::ostringstream o;
  o << v;
  return o.str();
}

// VERB:RESOURCE[:DURATION]
Result<ForbiddenRule> parse_forbidden(const std::string& text) {
  const auto bad = [&] {
    return make_error(
        Errc::invalid_argument,
        "--faults: forbidden and admission-denied want VERB:RESOURCE[:DURATION], got \"" + text +
            "\"");
  };
  const auto first = text.find(':');
  if (first == std::string::npos || first == 0)
    return bad();
  ForbiddenRule rule;
  rule.verb = text.substr(0, first);
  const auto second = text.find(':', first + 1);
  rule.resource =
      text.substr(first + 1, second == std::string::npos ? std::string::npos : second - first - 1);
  if (rule.resource.empty())
    return bad();
  if (second != std::string::npos) {
    auto d = parse_duration(text.substr(second + 1));
    if (!d || d->count() <= 0)
      return bad();
    rule.duration = *d;
  }
  return rule;
}

}  // namespace

std::string ForbiddenRule::to_string() const {
  return verb + ":" + resource +
         (duration.count() > 0 ? ":" + std::to_string(duration.count()) + "ms" : "");
}

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
  for (const auto item : split(text, ',')) {
    if (item.empty())
      continue;
    const auto [key_text, value_text] = split_once(item, '=');
    const std::string key(key_text);
    // A bare key switches its fault on.
    const std::string value(key_text.size() == item.size() ? "1" : value_text);
    const auto bad = [&] {
      return make_error(Errc::invalid_argument, "--faults: bad value for " + key + ": " + value);
    };
    try {
      if (key == "error-rate") {
        spec.error_rate = std::stod(value);
      } else if (key == "error-verbs") {
        spec.error_verbs = split_bars(value);
      } else if (key == "stop-at-write-skip") {
        spec.stop_at_write_skip = split_bars(value);
      } else if (key == "forbidden" || key == "admission-denied") {
        for (const auto& text : split_bars(value)) {
          auto rule = parse_forbidden(text);
          if (!rule)
            return rule.error();
          rule->admission = key == "admission-denied";
          spec.forbidden.push_back(std::move(*rule));
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
      } else if (key == "watch-delay") {
        auto d = parse_duration(value);
        if (!d)
          return d.error();
        spec.watch_delay = *d;
      } else if (key == "gone-on-resume") {
        spec.gone_on_resume = value != "0" && value != "false";
      } else if (key == "latency") {
        auto d = parse_duration(value);
        if (!d)
          return d.error();
        spec.latency = *d;
      } else if (key == "stop-at-write") {
        spec.stop_at_write = std::stoull(value);
      } else if (key == "never-ready-node" || key == "node-never-ready" || key == "blocking-pdb" ||
                 key == "pdb-blocking") {
        spec.extra[key] = value;
      } else {
        return make_error(Errc::invalid_argument, "--faults: unknown fault \"" + key + "\"");
      }
    } catch (const std::exception&) {
      return bad();
    }
  }
  if (spec.error_rate < 0 || spec.error_rate > 1 || spec.timeout_rate < 0 || spec.timeout_rate > 1)
    return make_error(Errc::invalid_argument, "--faults: rates must be within [0, 1]");
  return spec;
}

std::string FaultSpec::to_string() const {
  std::string out;
  const auto add = [&](const std::string& key, const std::string& value) {
    out += (out.empty() ? "" : ",") + key + "=" + value;
  };
  if (error_rate > 0)
    add("error-rate", number(error_rate));
  if (!error_verbs.empty())
    add("error-verbs", join_bars(error_verbs));
  if (error_status != 0)
    add("error-status", std::to_string(error_status));
  if (timeout_rate > 0)
    add("timeout-rate", number(timeout_rate));
  if (watch_cut.count() > 0)
    add("watch-cut", std::to_string(watch_cut.count()) + "ms");
  if (watch_delay.count() > 0)
    add("watch-delay", std::to_string(watch_delay.count()) + "ms");
  if (gone_on_resume)
    add("gone-on-resume", "1");
  if (latency.count() > 0)
    add("latency", std::to_string(latency.count()) + "ms");
  if (stop_at_write > 0)
    add("stop-at-write", std::to_string(stop_at_write));
  if (!stop_at_write_skip.empty())
    add("stop-at-write-skip", join_bars(stop_at_write_skip));
  for (const bool admission : {false, true}) {
    std::string rules;
    for (const auto& r : forbidden) {
      if (r.admission == admission)
        rules += (rules.empty() ? "" : "|") + r.to_string();
    }
    if (!rules.empty())
      add(admission ? "admission-denied" : "forbidden", rules);
  }
  for (const auto& [k, v] : extra)
    add(k, v);
  return out;
}

}  // namespace cnimig::sim
