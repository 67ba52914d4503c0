#include "cnimig/config/duration.hpp"

#include <boost/test/unit_test.hpp>

using namespace cnimig::config;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(duration)

BOOST_AUTO_TEST_CASE(go_style_durations_parse) {
  BOOST_TEST(parse_duration("30s").value().count() == 30000);
  BOOST_TEST(parse_duration("250ms").value().count() == 250);
  BOOST_TEST(parse_duration("15m").value().count() == 900000);
  BOOST_TEST(parse_duration("1h30m").value().count() == 5400000);
  BOOST_TEST(parse_duration("1m30s500ms").value().count() == 90500);
}

BOOST_AUTO_TEST_CASE(malformed_durations_fail) {
  for (const char* bad : {"", "30", "s", "1d", "-5s", "0s", "1.5h", "5 s", "99999999999s"}) {
    BOOST_TEST(parse_duration(bad).has_error(), bad);
  }
}

BOOST_AUTO_TEST_CASE(format_round_trips) {
  for (auto d : {250ms, std::chrono::milliseconds(30s), std::chrono::milliseconds(90min),
                 std::chrono::milliseconds(1h + 1s)}) {
    BOOST_TEST(parse_duration(format_duration(d)).value().count() == d.count());
  }
  BOOST_TEST(format_duration(90min) == "1h30m");
}

BOOST_AUTO_TEST_CASE(max_unavailable_counts_and_percentages) {
  auto count = parse_max_unavailable("3").value();
  BOOST_TEST(!count.percent);
  BOOST_TEST(count.resolve(100) == 3u);
  auto pct = parse_max_unavailable("25%").value();
  BOOST_TEST(pct.percent);
  BOOST_TEST(pct.resolve(10) == 2u);  // rounds down
  BOOST_TEST(pct.resolve(3) == 1u);   // never below one
  BOOST_TEST(pct.resolve(100) == 25u);
  for (const char* bad : {"0", "0%", "101%", "-1", "x", "%", "3.5", ""}) {
    BOOST_TEST(parse_max_unavailable(bad).has_error(), bad);
  }
}

BOOST_AUTO_TEST_SUITE_END()
