#pragma once
// The run's own record, kept by the driver beside the watch-fed
// ClusterSnapshot and passed to the core as its second input: what this
// process did and learnt (writes issued and running, checks, failures,
// evictions a PodDisruptionBudget blocks, pods it removed) and the server's
// clock as it reads it. A new process starts with an empty record: the core
// derives everything else from the cluster (src/migrate/README.md "Calling
// the core").

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cnimig/migrate/action.hpp"

namespace cnimig::migrate {

// The latest connectivity check of this run (src/migrate/README.md: every
// knet-stress instance reaches all its peers). The driver retries a failing
// check until its timeout and reports only the final outcome, so `passed ==
// false` is a failed gate.
struct CheckResult {
  bool passed = false;
  // RunRecord::write_generation when the check started. A check counts
  // for a gate only if no write happened since (generation == current).
  std::uint64_t generation = 0;
  std::string detail;  // failing pods, for the Halt reason

  friend bool operator==(const CheckResult&, const CheckResult&) = default;
};

// An eviction answered 429 because a PodDisruptionBudget allows no disruption.
// The driver retries it with backoff; the core only reports it in its waits.
struct BlockedEviction {
  std::string ns;
  std::string name;
  std::string pdb;

  friend bool operator==(const BlockedEviction&, const BlockedEviction&) = default;
};

// Something the driver gave up on (a gate or drain timeout, a PDB that never
// allowed the eviction). Any failure stops new nodes from starting.
struct Failure {
  std::string node;  // empty when not about one node
  std::string reason;

  friend bool operator==(const Failure&, const Failure&) = default;
};

struct RunRecord {
  // API server time in Unix seconds, a second the server's clock has
  // certainly reached (the driver learns the server's clock from the Date
  // headers of its responses, kube::ServerClock): it is compared with pods'
  // creationTimestamp, which the server's clock wrote. Never this machine's
  // clock: the two may be seconds apart.
  std::int64_t now = 0;
  // Incremented by the driver for every write it issues.
  std::uint64_t write_generation = 0;
  std::optional<CheckResult> last_check;
  std::vector<BlockedEviction> blocked_evictions;
  std::vector<Failure> failures;
  // metadata.uid -> node of the pods this run evicted or deleted (the API
  // accepted it) that the watch still shows: the core treats them as
  // terminating, so no pod is evicted or deleted twice while its removal is
  // on the way. The driver forgets a uid once its node no longer shows it.
  std::map<std::string, std::string> removed_pods;
  // Actions issued and not yet finished; the core does not emit them again.
  std::vector<Action> in_flight;

  friend bool operator==(const RunRecord&, const RunRecord&) = default;
};

}  // namespace cnimig::migrate
