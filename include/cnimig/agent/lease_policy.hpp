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

namespace cnimig::agent {

struct LeaseRecord {
  std::string holder_identity;  // spec.holderIdentity, empty when released
  std::optional<std::chrono::system_clock::time_point>
      renew_time;                    // spec.renewTime (or acquireTime)
  std::chrono::seconds duration{0};  // spec.leaseDurationSeconds
  int transitions = 0;               // spec.leaseTransitions
};

enum class LeaseVerdict {
  create,     // no Lease: create it, held by us
  renew,      // ours: bump renewTime
  take_over,  // someone else's, expired: take it (leaseTransitions + 1)
  refuse,     // someone else's and live: do not start
};

struct LeaseDecision {
  LeaseVerdict verdict;
  std::string holder;  // current holder, for the refusal message
  std::optional<std::chrono::system_clock::time_point> expires;  // when a refused Lease goes stale
};

LeaseDecision decide_lease(const std::optional<LeaseRecord>& current, const std::string& identity,
                           std::chrono::system_clock::time_point now);

}  // namespace cnimig::agent
