#include "cnimig/common/rfc3339.hpp"

#include <charconv>
#include <cstdio>
#include <ctime>

namespace cnimig {

std::string format_rfc3339(std::chrono::system_clock::time_point t, TimePrecision precision) {
  using namespace std::chrono;
  const auto us = duration_cast<microseconds>(t.time_since_epoch()).count();
  std::int64_t seconds = us / 1'000'000;
  std::int64_t fraction = us % 1'000'000;
  if (fraction < 0) {
    fraction += 1'000'000;
    --seconds;
  }
  const std::time_t tt = static_cast<std::time_t>(seconds);
  std::tm tm{};
  gmtime_r(&tt, &tm);
  char buf[64];
  int n = std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d", tm.tm_year + 1900,
                        tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
  if (precision == TimePrecision::milliseconds) {
    n += std::snprintf(buf + n, sizeof buf - static_cast<std::size_t>(n), ".%03d",
                       static_cast<int>(fraction / 1000));
  } else if (precision == TimePrecision::microseconds) {
    n += std::snprintf(buf + n, sizeof buf - static_cast<std::size_t>(n), ".%06d",
                       static_cast<int>(fraction));
  }
  return std::string(buf, static_cast<std::size_t>(n)) + "Z";
}

std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view s) {
  const auto number = [&](std::size_t pos, std::size_t len, int& out) {
    if (pos + len > s.size())
      return false;
    auto [end, ec] = std::from_chars(s.data() + pos, s.data() + pos + len, out);
    return ec == std::errc{} && end == s.data() + pos + len;
  };
  int year, month, day, hour, minute, second;
  if (s.size() < 20 || s[4] != '-' || s[7] != '-' || (s[10] != 'T' && s[10] != 't') ||
      s[13] != ':' || s[16] != ':' || !number(0, 4, year) || !number(5, 2, month) ||
      !number(8, 2, day) || !number(11, 2, hour) || !number(14, 2, minute) ||
      !number(17, 2, second)) {
    return std::nullopt;
  }
  if (month < 1 || month > 12 || day < 1 || day > 31 || hour > 23 || minute > 59 || second > 60)
    return std::nullopt;
  std::size_t pos = 19;
  std::int64_t micros = 0;
  if (pos < s.size() && s[pos] == '.') {
    ++pos;
    int digits = 0;
    while (pos < s.size() && s[pos] >= '0' && s[pos] <= '9') {
      if (digits < 6)
        micros = micros * 10 + (s[pos] - '0');
      ++digits;
      ++pos;
    }
    if (digits == 0)
      return std::nullopt;
    for (int d = digits; d < 6; ++d)
      micros *= 10;
  }
  std::int64_t offset_seconds = 0;
  if (pos < s.size() && (s[pos] == 'Z' || s[pos] == 'z')) {
    ++pos;
  } else if (pos < s.size() && (s[pos] == '+' || s[pos] == '-')) {
    int oh, om;
    if (pos + 6 != s.size() || s[pos + 3] != ':' || !number(pos + 1, 2, oh) ||
        !number(pos + 4, 2, om)) {
      return std::nullopt;
    }
    offset_seconds = (s[pos] == '+' ? 1 : -1) * (oh * 3600 + om * 60);
    pos += 6;
  } else {
    return std::nullopt;
  }
  if (pos != s.size())
    return std::nullopt;
  using namespace std::chrono;
  const auto days = sys_days(year_month_day(std::chrono::year(year),
                                            std::chrono::month(static_cast<unsigned>(month)),
                                            std::chrono::day(static_cast<unsigned>(day))));
  return time_point_cast<system_clock::duration>(
      days + hours(hour) + minutes(minute) + std::chrono::seconds(second) -
      std::chrono::seconds(offset_seconds) + microseconds(micros));
}

}  // namespace cnimig
