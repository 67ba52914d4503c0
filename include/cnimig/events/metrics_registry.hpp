#pragma once
// Counters, gauges and histograms rendered in the Prometheus text exposition
// format (version 0.0.4), served by `--metrics-addr`. Families are declared
// once with their help text; samples are keyed by label values.

#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace cnimig::events {

using Labels = std::vector<std::pair<std::string, std::string>>;

class MetricsRegistry {
 public:
  void define_counter(std::string name, std::string help);
  void define_gauge(std::string name, std::string help);
  // `bounds` are the upper bounds of the buckets, ascending; +Inf is implied.
  void define_histogram(std::string name, std::string help, std::vector<double> bounds);

  void increment(const std::string& name, const Labels& labels = {}, double delta = 1.0);
  void set(const std::string& name, const Labels& labels, double value);
  void observe(const std::string& name, const Labels& labels, double value);
  // Drops every sample of a gauge family (e.g. before re-publishing nodes by phase).
  void clear(const std::string& name);

  double value(const std::string& name,
               const Labels& labels = {}) const;  // counters and gauges; 0 if absent

  std::string render() const;

 private:
  enum class Type { counter, gauge, histogram };
  struct Histogram {
    std::vector<std::uint64_t> buckets;  // cumulative counts are computed when rendering
    std::uint64_t count = 0;
    double sum = 0;
  };
  struct Family {
    Type type;
    std::string help;
    std::vector<double> bounds;
    std::map<Labels, double> values;
    std::map<Labels, Histogram> histograms;
  };
  Family& family(const std::string& name, Type type);

  mutable std::mutex mutex_;
  std::map<std::string, Family> families_;
};

}  // namespace cnimig::events
