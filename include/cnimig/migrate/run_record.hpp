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
#include "cnimig/migrate/pod_uid.hpp"

namespace cnimig::migrate {

// The latest connectivity check of this run (src/migrate/README.md: every
// knet-stress instance reaches all its peers). The driver retries a failing
// check until its timeout and reports only the final outcome, so `passed ==
// false` is a failed gate.
struct CheckResult {
  bool passed = false;
  // RunRecord::write_generation when the check started: it proves nothing
  // about a write with a higher generation.
  std::uint64_t generation = 0;
  std::string detail;  // failing pods, for the Halt reason
  // The nodes with a write in flight when the check started, and whether a
  // cluster-wide write was: the check proves nothing about them either
  // (check_starting()).
  std::vector<std::string> unsettled_nodes;
  bool unsettled_cluster = false;
  // Every knet-stress pod was exec'd. Otherwise only those on `probed_nodes`
  // (a sampled check, RunConnectivityCheck::nodes): it vouches for those
  // nodes alone.
  bool full = true;
  std::vector<std::string> probed_nodes;

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
  // Incremented for every write issued (note_write()).
  std::uint64_t write_generation = 0;
  // The write_generation of the latest write issued to each node (its
  // object or its pods), and of the latest cluster-wide write: what a check
  // must have started after to serve that node's gate (check_covers()).
  std::map<std::string, std::uint64_t> node_written;
  std::uint64_t cluster_written = 0;
  // The generation at which the latest passing full check started: a
  // sampled check execs the pods of every node written since.
  std::uint64_t full_check_generation = 0;
  // Per node, the generation at which the latest passing sampled check that
  // probed it (and found it settled) started: a node written before that is
  // proved, and a later sampled check leaves it out.
  std::map<std::string, std::uint64_t> node_proved;
  std::optional<CheckResult> last_check;
  std::vector<BlockedEviction> blocked_evictions;
  std::vector<Failure> failures;
  // metadata.uid -> node of the pods this run evicted or deleted (the API
  // accepted it) that the watch still shows: the core treats them as
  // terminating, so no pod is evicted or deleted twice while its removal is
  // on the way. The driver forgets a uid once its node no longer shows it.
  // Keyed by PodUid: the check selector tests every knet-stress pod against
  // it on each re-selection, which at 5,000 nodes a string key made the
  // agent's hottest path.
  std::map<PodUid, std::string> removed_pods;
  // Actions issued and not yet finished; the core does not emit them again.
  std::vector<Action> in_flight;

  friend bool operator==(const RunRecord&, const RunRecord&) = default;
};

// Counts `write` (is_write()) as issued now: bumps write_generation and
// records whom it touches. The driver calls it before executing the write,
// while the write is in RunRecord::in_flight; the effects model likewise.
void note_write(RunRecord& run, const Action& write);

// Records a finished check: last_check, and what a passing one proved
// (full_check_generation, or node_proved for the nodes a sampled one probed).
void note_check(RunRecord& run, CheckResult result);

// The nodes written since a passing check proved them: what a sampled
// check must probe.
std::vector<std::string> unproved_nodes(const RunRecord& run);

// A write to `node` (a cluster-wide one, for an empty `node`) is in flight.
bool writing_to(const RunRecord& run, const std::string& node);

// What a connectivity check starting now can vouch for: the generation and
// the nodes (or cluster-wide writes) still in flight. The caller sets
// `passed` and `detail` once the check ends.
CheckResult check_starting(const RunRecord& run);

// The latest check passed and vouches for every write to `node` and every
// cluster-wide write: it started after they were issued, none was in
// flight then, and none is now, and it probed `node` (a full check probes
// every node). With an empty `node`, a full check after every write of the
// run: a whole-cluster gate. This is how one check serves all the nodes that
// reached their gate before it started (src/migrate/README.md "Gates").
bool check_covers(const RunRecord& run, const std::string& node);

}  // namespace cnimig::migrate
