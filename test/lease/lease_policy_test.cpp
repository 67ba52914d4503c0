#include "cnimig/lease/lease_policy.hpp"

#include <filesystem>
#include <string>

#include <boost/test/unit_test.hpp>

#include "cnimig/lease/instance_lock.hpp"
#include "cnimig/lease/lease_keeper.hpp"

#include <unistd.h>

using namespace cnimig::lease;
using namespace std::chrono_literals;

const auto kNow = std::chrono::system_clock::time_point(1'800'000'000s);

BOOST_AUTO_TEST_SUITE(lease_policy)

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

// The previous run's release() leaves no holder: the next run acquires the
// Lease without taking it over from anyone (no "stale Lease" warning).
BOOST_AUTO_TEST_CASE(released_lease_is_acquired_not_taken_over) {
  auto d = decide_lease(LeaseRecord{"", kNow, 1s, 1}, "me", kNow);
  BOOST_TEST((d.verdict == LeaseVerdict::acquire));
  BOOST_TEST(d.holder.empty());
  BOOST_TEST((decide_lease(LeaseRecord{"", std::nullopt, 0s, 1}, "me", kNow).verdict ==
              LeaseVerdict::acquire));
}

BOOST_AUTO_TEST_CASE(malformed_lease_is_free) {
  BOOST_TEST((decide_lease(LeaseRecord{"other", std::nullopt, 30s, 1}, "me", kNow).verdict ==
              LeaseVerdict::take_over));
  BOOST_TEST((decide_lease(LeaseRecord{"other", kNow, 0s, 1}, "me", kNow).verdict ==
              LeaseVerdict::take_over));
}

BOOST_AUTO_TEST_SUITE_END()

BOOST_AUTO_TEST_SUITE(lease_identity)

// A restarted agent (SIGKILL, systemd restart) must find its predecessor's
// live Lease "ours": the identity depends on the host, not the process.
BOOST_AUTO_TEST_CASE(identity_is_stable_per_host_and_overridable) {
  BOOST_TEST(holder_identity("", "", "bastion-1") == "bastion-1");
  BOOST_TEST(holder_identity("", "cnimig-agent-x7k2p", "bastion-1") == "cnimig-agent-x7k2p");
  BOOST_TEST(holder_identity("ops-laptop", "pod", "bastion-1") == "ops-laptop");
  BOOST_TEST(!holder_identity("", "", "").empty());
  BOOST_TEST(default_identity() == default_identity());
  BOOST_TEST(default_identity().find(std::to_string(::getpid())) == std::string::npos);
}

BOOST_AUTO_TEST_CASE(restarted_agent_renews_its_live_lease_others_are_refused) {
  const auto me = holder_identity("", "", "bastion-1");
  LeaseRecord left_behind{me, kNow - 2s, 30s, 0};  // the killed agent renewed 2 s ago
  BOOST_TEST((decide_lease(left_behind, holder_identity("", "", "bastion-1"), kNow).verdict ==
              LeaseVerdict::renew));
  const auto other = decide_lease(left_behind, holder_identity("", "", "bastion-2"), kNow);
  BOOST_TEST((other.verdict == LeaseVerdict::refuse));
  BOOST_TEST(other.holder == "bastion-1");
}

BOOST_AUTO_TEST_CASE(instance_lock_keeps_a_second_agent_on_the_host_out) {
  const auto path = InstanceLock::path_for("https://127.0.0.1:" + std::to_string(::getpid()),
                                           "kube-system", "cnimig-agent");
  BOOST_TEST(path == InstanceLock::path_for("https://127.0.0.1:" + std::to_string(::getpid()),
                                            "kube-system", "cnimig-agent"));
  BOOST_TEST(path != InstanceLock::path_for("https://127.0.0.1:1", "kube-system", "cnimig-agent"));
  {
    auto first = InstanceLock::acquire(path);
    BOOST_TEST_REQUIRE(first.has_value());
    auto second = InstanceLock::acquire(path);  // flock: per open file description
    BOOST_TEST_REQUIRE(second.has_error());
    BOOST_TEST(second.error().reason == "LeaseHeld");
  }
  BOOST_TEST(InstanceLock::acquire(path).has_value(), "released with its holder");
  std::filesystem::remove(path);
}

BOOST_AUTO_TEST_SUITE_END()
