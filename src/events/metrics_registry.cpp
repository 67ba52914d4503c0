#include "cnimig/events/metrics_registry.hpp"

#include <algorithm>
#include <cmath>
#include <sstream>

#include "cnimig/common/error.hpp"

namespace cnimig::events {
namespace {

std::string escape_label(const std::string& value) {
  std::string out;
  for (char c : value) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '"') {
      out += "\\\"";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string escape_help(const std::string& text) {
  std::string out;
  for (char c : text) {
    if (c == '\\') {
      out += "\\\\";
    } else if (c == '\n') {
      out += "\\n";
    } else {
      out.push_back(c);
    }
  }
  return out;
}

std::string format_number(double v) {
  if (std::isinf(v))
    return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v))
    return "NaN";
  std::ostringstream out;
  out.precision(17);
  out << v;
  return out.str();
}

std::string label_text(const Labels& labels,
                       const std::pair<std::string, std::string>* extra = nullptr) {
  if (labels.empty() && extra == nullptr)
    return {};
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    out += (first ? "" : ",") + k + "=\"" + escape_label(v) + "\"";
    first = false;
  }
  if (extra != nullptr)
    out += (first ? "" : ",") + extra->first + "=\"" + extra->second + "\"";
  return out + "}";
}

}  // namespace

MetricsRegistry::Family& MetricsRegistry::family(const std::string& name, Type type) {
  auto it = families_.find(name);
  if (it == families_.end() || it->second.type != type) {
    throw ErrorException(
        make_error(Errc::internal, "metric " + name + " is not defined with that type"));
  }
  return it->second;
}

void MetricsRegistry::define_counter(std::string name, std::string help) {
  std::lock_guard lock(mutex_);
  families_.try_emplace(std::move(name), Family{Type::counter, std::move(help), {}, {}, {}});
}

void MetricsRegistry::define_gauge(std::string name, std::string help) {
  std::lock_guard lock(mutex_);
  families_.try_emplace(std::move(name), Family{Type::gauge, std::move(help), {}, {}, {}});
}

void MetricsRegistry::define_histogram(std::string name, std::string help,
                                       std::vector<double> bounds) {
  std::sort(bounds.begin(), bounds.end());
  std::lock_guard lock(mutex_);
  families_.try_emplace(std::move(name),
                        Family{Type::histogram, std::move(help), std::move(bounds), {}, {}});
}

void MetricsRegistry::increment(const std::string& name, const Labels& labels, double delta) {
  std::lock_guard lock(mutex_);
  family(name, Type::counter).values[labels] += delta;
}

void MetricsRegistry::set(const std::string& name, const Labels& labels, double value) {
  std::lock_guard lock(mutex_);
  family(name, Type::gauge).values[labels] = value;
}

void MetricsRegistry::observe(const std::string& name, const Labels& labels, double value) {
  std::lock_guard lock(mutex_);
  auto& f = family(name, Type::histogram);
  auto& h = f.histograms[labels];
  h.buckets.resize(f.bounds.size(), 0);
  for (std::size_t i = 0; i < f.bounds.size(); ++i) {
    if (value <= f.bounds[i]) {
      ++h.buckets[i];
      break;
    }
  }
  ++h.count;
  h.sum += value;
}

void MetricsRegistry::clear(const std::string& name) {
  std::lock_guard lock(mutex_);
  family(name, Type::gauge).values.clear();
}

double MetricsRegistry::value(const std::string& name, const Labels& labels) const {
  std::lock_guard lock(mutex_);
  auto it = families_.find(name);
  if (it == families_.end())
    return 0;
  auto v = it->second.values.find(labels);
  return v == it->second.values.end() ? 0 : v->second;
}

std::string MetricsRegistry::render() const {
  std::lock_guard lock(mutex_);
  std::string out;
  for (const auto& [name, f] : families_) {
    static const char* kTypes[] = {"counter", "gauge", "histogram"};
    out += "# HELP " + name + " " + escape_help(f.help) + "\n";
    out += "# TYPE " + name + " " + kTypes[static_cast<int>(f.type)] + "\n";
    for (const auto& [labels, v] : f.values)
      out += name + label_text(labels) + " " + format_number(v) + "\n";
    for (const auto& [labels, h] : f.histograms) {
      std::uint64_t cumulative = 0;
      for (std::size_t i = 0; i < f.bounds.size(); ++i) {
        cumulative += h.buckets[i];
        const std::pair<std::string, std::string> le{"le", format_number(f.bounds[i])};
        out += name + "_bucket" + label_text(labels, &le) + " " + std::to_string(cumulative) + "\n";
      }
      const std::pair<std::string, std::string> inf{"le", "+Inf"};
      out += name + "_bucket" + label_text(labels, &inf) + " " + std::to_string(h.count) + "\n";
      out += name + "_sum" + label_text(labels) + " " + format_number(h.sum) + "\n";
      out += name + "_count" + label_text(labels) + " " + std::to_string(h.count) + "\n";
    }
  }
  return out;
}

}  // namespace cnimig::events
