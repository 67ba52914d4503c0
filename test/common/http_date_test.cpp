#include "cnimig/common/http_date.hpp"

#include <boost/test/unit_test.hpp>

using namespace cnimig;
using namespace std::chrono;

BOOST_AUTO_TEST_SUITE(http_date)

BOOST_AUTO_TEST_CASE(round_trips_imf_fixdate) {
  const auto t = system_clock::time_point(milliseconds(1795595400123));  // 2026-11-25T08:30:00.123Z
  BOOST_TEST(format_http_date(t) == "Wed, 25 Nov 2026 08:30:00 GMT");
  auto parsed = parse_http_date("Wed, 25 Nov 2026 08:30:00 GMT");
  BOOST_REQUIRE(parsed.has_value());
  BOOST_TEST(parsed->time_since_epoch().count() == 1795595400);
  BOOST_TEST(format_http_date(sys_seconds{}) == "Thu, 01 Jan 1970 00:00:00 GMT");
  BOOST_TEST(parse_http_date("Sun, 06 Nov 1994 08:49:37 GMT")->time_since_epoch().count() ==
             784111777);
}

BOOST_AUTO_TEST_CASE(rejects_malformed_dates) {
  for (const char* bad : {"", "Wed, 25 Nov 2026 08:30:00 UTC", "Wed, 25 Foo 2026 08:30:00 GMT",
                          "Wed, 31 Nov 2026 08:30:00 GMT", "Wed, 25 Nov 2026 24:30:00 GMT",
                          "Wednesday, 25-Nov-26 08:30:00 GMT", "Wed Nov 25 08:30:00 2026",
                          "Wed, 25 Nov 2026 08:30:0x GMT"}) {
    BOOST_TEST(!parse_http_date(bad).has_value(), bad);
  }
}

BOOST_AUTO_TEST_SUITE_END()
