#include "cnimig/agent/lease_policy.hpp"

#include <boost/test/unit_test.hpp>

using namespace cnimig::agent;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_SUITE(lease_policy)

const auto kNow = std::chrono::system_clock::time_point(1'800'000'000s);

BOOST_AUTO_TEST_CASE(absent_lease_is_created) {
  BOOST_TEST((decide_lease(std::nullopt, "me", kNow).verdict == LeaseVerdict::create));
}

BOOST_AUTO_TEST_CASE(our_lease_is_renewed_even_when_stale) {
  LeaseRecord r{"me", kNow - 1h, 30s, 2};
  BOOST_TEST((decide_lease(r, "me", kNow).verdict == LeaseVerdict::renew));
}

BOOST_AUTO_TEST_CASE(live_lease_of_another_agent_is_refused_with_expiry) {
  LeaseRecord r{"bastion-1/1234", kNow - 10s, 30s, 0};
  auto d = decide_lease(r, "me", kNow);
  BOOST_TEST((d.verdict == LeaseVerdict::refuse));
  BOOST_TEST(d.holder == "bastion-1/1234");
  BOOST_TEST_REQUIRE(d.expires.has_value());
  BOOST_TEST((*d.expires == kNow + 20s));
}

BOOST_AUTO_TEST_CASE(stale_lease_is_taken_over_at_exactly_its_duration) {
  LeaseRecord r{"other", kNow - 30s, 30s, 0};
  BOOST_TEST((decide_lease(r, "me", kNow).verdict == LeaseVerdict::take_over));
  r.renew_time = kNow - 29s;
  BOOST_TEST((decide_lease(r, "me", kNow).verdict == LeaseVerdict::refuse));
}

BOOST_AUTO_TEST_CASE(released_or_malformed_lease_is_free) {
  BOOST_TEST(
      (decide_lease(LeaseRecord{"", kNow, 30s, 1}, "me", kNow).verdict == LeaseVerdict::take_over));
  BOOST_TEST((decide_lease(LeaseRecord{"other", std::nullopt, 30s, 1}, "me", kNow).verdict ==
              LeaseVerdict::take_over));
  BOOST_TEST((decide_lease(LeaseRecord{"other", kNow, 0s, 1}, "me", kNow).verdict ==
              LeaseVerdict::take_over));
}

BOOST_AUTO_TEST_SUITE_END()
