#include "cnimig/common/rfc3339.hpp"

#include <boost/test/unit_test.hpp>

using namespace cnimig;
using namespace std::chrono;

BOOST_AUTO_TEST_SUITE(rfc3339)

const auto kT =
    system_clock::time_point(microseconds(1795595400123456));  // 2026-11-25T08:30:00.123456Z

BOOST_AUTO_TEST_CASE(formats_each_precision) {
  BOOST_TEST(format_rfc3339(kT, TimePrecision::seconds) == "2026-11-25T08:30:00Z");
  BOOST_TEST(format_rfc3339(kT) == "2026-11-25T08:30:00.123Z");
  BOOST_TEST(format_rfc3339(kT, TimePrecision::microseconds) == "2026-11-25T08:30:00.123456Z");
  BOOST_TEST(format_rfc3339(system_clock::time_point{}) == "1970-01-01T00:00:00.000Z");
}

BOOST_AUTO_TEST_CASE(parses_what_the_api_server_writes) {
  BOOST_TEST((parse_rfc3339("2026-11-25T08:30:00.123456Z") == kT));
  BOOST_TEST(
      (parse_rfc3339("2026-11-25T08:30:00Z") ==
       time_point_cast<system_clock::duration>(system_clock::time_point(seconds(1795595400)))));
  BOOST_TEST((parse_rfc3339("2026-11-25T09:30:00.123456+01:00") == kT));
  BOOST_TEST((parse_rfc3339("2026-11-25T08:30:00.123456789Z") == kT));  // nanoseconds truncated
  for (auto t : {kT, system_clock::time_point{}}) {
    for (auto p :
         {TimePrecision::seconds, TimePrecision::milliseconds, TimePrecision::microseconds}) {
      auto back = parse_rfc3339(format_rfc3339(t, p));
      BOOST_TEST_REQUIRE(back.has_value());
      BOOST_TEST(format_rfc3339(*back, p) == format_rfc3339(t, p));
    }
  }
}

BOOST_AUTO_TEST_CASE(rejects_malformed_text) {
  for (const char* bad :
       {"", "2026-11-25", "2026-11-25T08:30:00", "2026-13-25T08:30:00Z", "2026-11-25T08:30:00.Z",
        "2026-11-25 08:30:00Z", "2026-11-25T08:30:00Zjunk", "2026-11-25T08:30:00+0100"}) {
    BOOST_TEST(!parse_rfc3339(bad).has_value(), bad);
  }
}

BOOST_AUTO_TEST_SUITE_END()
