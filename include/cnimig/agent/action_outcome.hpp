#pragma once
// What executing an action found out that the next decision must see. The
// executor reports these as values while it runs an action (an eviction a
// PodDisruptionBudget blocks is known long before the eviction ends); the
// driver folds them into its migrate::RunRecord. Neither the executor nor
// the watch cache edits the record.

#include <string>
#include <variant>

#include "cnimig/migrate/cluster_snapshot.hpp"
#include "cnimig/migrate/run_record.hpp"

namespace cnimig::agent {

// An eviction answered 429: the executor retries it until the drain timeout.
struct EvictionBlocked {
  migrate::BlockedEviction eviction;
  friend bool operator==(const EvictionBlocked&, const EvictionBlocked&) = default;
};
// The eviction of ns/name is no longer retried (it went through, failed or
// gave up).
struct EvictionSettled {
  std::string ns;
  std::string name;
  friend bool operator==(const EvictionSettled&, const EvictionSettled&) = default;
};
// The API accepted the eviction or deletion of the pod with this uid on `node`.
struct PodRemoved {
  std::string node;
  std::string uid;
  friend bool operator==(const PodRemoved&, const PodRemoved&) = default;
};
// A connectivity check's final result (failing rounds are retried until
// timeouts.connectivity first), with the write generation its last attempt
// started at.
struct CheckFinished {
  migrate::CheckResult result;
  friend bool operator==(const CheckFinished&, const CheckFinished&) = default;
};

// A cut-off annotation the run just wrote on `node`, placed in the pods'
// resourceVersion order: for the watch cache (ChangeSource::
// note_cutoff_order), not the record.
struct CutoffOrdered {
  std::string node;
  std::string annotation;
  migrate::CutoffOrder order;
  friend bool operator==(const CutoffOrdered&, const CutoffOrdered&) = default;
};

using ActionOutcome =
    std::variant<EvictionBlocked, EvictionSettled, PodRemoved, CheckFinished, CutoffOrdered>;

// Folds one outcome into the run's record. A removed pod is recorded only
// while `cluster` still shows it: the watch may have delivered the deletion
// before the API's answer, and then there is nothing left to guard (the uid
// would stay for ever).
void fold(migrate::RunRecord& record, const ActionOutcome& outcome,
          const migrate::ClusterSnapshot& cluster);

// Forgets the removed pods whose node no longer shows them (their removal is
// complete, or the name holds a new incarnation): what the core must not
// remove twice is only what the watch still shows.
void forget_gone_pods(migrate::RunRecord& record, const migrate::ClusterSnapshot& cluster);

}  // namespace cnimig::agent
