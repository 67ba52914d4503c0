#pragma once
// What every benchmark prints and reads, with no dependency beyond Boost.JSON:
// the one-line figure format `metric_name value unit`, environment overrides
// and JSON numbers of any representation.

#include <algorithm>
#include <cstdint>
#include <cstdlib>
#include <iostream>
#include <string>
#include <vector>

#include <boost/json.hpp>

namespace cnimig::bench {

inline double env_double(const char* name, double dflt) {
  const char* v = std::getenv(name);
  return v ? std::atof(v) : dflt;
}

// One figure, one line: `metric_name value unit`.
inline void figure(const std::string& name, double value, const std::string& unit) {
  std::cout << name << ' ' << value << ' ' << unit << std::endl;
}

inline std::int64_t number(const boost::json::value& v) {
  if (v.is_int64())
    return v.get_int64();
  if (v.is_uint64())
    return static_cast<std::int64_t>(v.get_uint64());
  if (v.is_double())
    return static_cast<std::int64_t>(v.get_double());
  return 0;
}

inline double percentile(std::vector<double> v, double p) {
  if (v.empty())
    return 0;
  std::sort(v.begin(), v.end());
  const auto i = static_cast<std::size_t>(std::max(0.0, p * static_cast<double>(v.size()) - 1e-9));
  return v[std::min(i, v.size() - 1)];
}

}  // namespace cnimig::bench
