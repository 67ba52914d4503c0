#pragma once
// Who may hold the coordination.k8s.io/v1 Lease that keeps two agents from
// migrating one cluster at once. Pure: the driver reads the Lease, asks
// decide(), and writes what it says with the Lease's resourceVersion as a
// precondition, so two agents racing for a stale Lease cannot both win (the
// loser gets 409 Conflict and asks again). The rules are client-go's
// leaderelection: a Lease is free when absent, held by us, or not renewed
// within its leaseDurationSeconds.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <boost/json/object.hpp>

namespace cnimig::lease {

struct LeaseRecord {
  std::string holder_identity;  // spec.holderIdentity, empty when released
  std::optional<std::chrono::system_clock::time_point>
      renew_time;                    // spec.renewTime (or acquireTime)
  std::chrono::seconds duration{0};  // spec.leaseDurationSeconds
  int transitions = 0;               // spec.leaseTransitions
};

// The record of a coordination.k8s.io/v1 Lease object (renewTime, or
// acquireTime when it was never renewed); absent or mistyped fields stay
// empty, which decide_lease() treats as a stale Lease.
LeaseRecord lease_record(const boost::json::object& lease);

enum class LeaseVerdict {
  create,     // no Lease: create it, held by us
  renew,      // ours: bump renewTime
  acquire,    // released (no holder, as release() leaves it): take it (leaseTransitions + 1)
  take_over,  // someone else's, expired or malformed: take it (leaseTransitions + 1)
  refuse,     // someone else's and live: do not start
};

struct LeaseDecision {
  LeaseVerdict verdict;
  std::string holder;  // current holder, for the refusal message
  std::optional<std::chrono::system_clock::time_point> expires;  // when a refused Lease goes stale
};

// The holder identity this agent writes into the Lease. It is stable per
// host (per installation), not per process, so that an agent restarted after
// a crash, a SIGKILL or a systemd restart finds the Lease its predecessor left
// "ours" and renews it at once instead of waiting out leaseDurationSeconds;
// an agent elsewhere still finds it live and is refused. In order: an explicit
// identity (CNIMIG_LEASE_IDENTITY), the pod name in-cluster (CNIMIG_POD_NAME),
// the hostname. Two agents on one host are kept apart by InstanceLock instead.
std::string holder_identity(std::string_view explicit_identity, std::string_view pod_name,
                            std::string_view hostname);

LeaseDecision decide_lease(const std::optional<LeaseRecord>& current, const std::string& identity,
                           std::chrono::system_clock::time_point now);

}  // namespace cnimig::lease
