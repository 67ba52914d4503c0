#include "cnimig/common/http_date.hpp"

#include <array>
#include <charconv>
#include <cstdio>

namespace cnimig {
namespace {

constexpr std::array<std::string_view, 7> kDays = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
constexpr std::array<std::string_view, 12> kMonths = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

bool number(std::string_view s, std::size_t pos, std::size_t len, int& out) {
  if (pos + len > s.size())
    return false;
  auto [end, ec] = std::from_chars(s.data() + pos, s.data() + pos + len, out);
  return ec == std::errc{} && end == s.data() + pos + len;
}

}  // namespace

std::string format_http_date(std::chrono::system_clock::time_point t) {
  using namespace std::chrono;
  const auto secs = floor<seconds>(t);
  const auto day = floor<days>(secs);
  const year_month_day ymd{day};
  const hh_mm_ss hms{secs - day};
  const weekday wd{day};
  char buf[40];
  const int n = std::snprintf(
      buf, sizeof buf, "%s, %02u %s %04d %02d:%02d:%02d GMT", kDays[wd.c_encoding()].data(),
      static_cast<unsigned>(ymd.day()), kMonths[static_cast<unsigned>(ymd.month()) - 1].data(),
      static_cast<int>(ymd.year()), static_cast<int>(hms.hours().count()),
      static_cast<int>(hms.minutes().count()), static_cast<int>(hms.seconds().count()));
  return std::string(buf, static_cast<std::size_t>(n));
}

// "Sun, 06 Nov 1994 08:49:37 GMT": fixed positions.
std::optional<std::chrono::sys_seconds> parse_http_date(std::string_view s) {
  using namespace std::chrono;
  if (s.size() != 29 || s.substr(3, 2) != ", " || s[7] != ' ' || s[11] != ' ' || s[16] != ' ' ||
      s[19] != ':' || s[22] != ':' || s.substr(25) != " GMT") {
    return std::nullopt;
  }
  bool day_name = false;
  for (auto d : kDays)
    day_name = day_name || s.substr(0, 3) == d;
  unsigned month = 0;
  for (unsigned i = 0; i < kMonths.size(); ++i) {
    if (s.substr(8, 3) == kMonths[i])
      month = i + 1;
  }
  int dd = 0, yyyy = 0, hh = 0, mm = 0, ss = 0;
  if (!day_name || month == 0 || !number(s, 5, 2, dd) || !number(s, 12, 4, yyyy) ||
      !number(s, 17, 2, hh) || !number(s, 20, 2, mm) || !number(s, 23, 2, ss)) {
    return std::nullopt;
  }
  const year_month_day ymd{year{yyyy}, std::chrono::month{month},
                           std::chrono::day{static_cast<unsigned>(dd)}};
  // 60 is a leap second, which the Unix clock folds into the next minute.
  if (!ymd.ok() || hh > 23 || mm > 59 || ss > 60)
    return std::nullopt;
  return sys_days{ymd} + hours{hh} + minutes{mm} + seconds{ss};
}

}  // namespace cnimig
