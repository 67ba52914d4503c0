#pragma once
// `--faults SPEC` (and the body of `PUT /sim/v1/faults`): comma-separated
// key=value pairs. The API half interprets error-rate, error-verbs,
// error-status, timeout-rate, watch-cut, watch-delay, gone-on-resume, latency,
// stop-at-write and stop-at-write-skip; the cluster faults (never-ready-node,
// blocking-pdb, and their other word orders node-never-ready, pdb-blocking)
// are kept in `extra` for the cluster model. Unknown keys are refused, so a
// typo cannot silently inject nothing.
//   error-rate=0.1,error-verbs=get|patch,watch-cut=2s,gone-on-resume=1,latency=20ms
//   watch-delay=500ms
//   stop-at-write=7,stop-at-write-skip=leases|events,never-ready-node=node-2
//   forbidden=list:nodes|get:pods/exec,forbidden=*:leases:2s,admission-denied=get:pods/exec

#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "cnimig/common/result.hpp"

namespace cnimig::sim {

// `forbidden=VERB:RESOURCE[:DURATION]`: requests authorized as VERB on
// RESOURCE are answered 403 Forbidden, and access reviews deny them, as a
// role without that rule would; with a DURATION only for that long after the
// spec took effect (an API server just restarted answers 403 until its
// authorization cache has synced, then 200).
// `admission-denied=VERB:RESOURCE[:DURATION]`: the same 403, from an
// admission webhook instead of RBAC, so access reviews (which ask only the
// authorizer) allow what the request is then refused.
struct ForbiddenRule {
  std::string verb;      // "get", "list", "watch", "create", ...; "*": every verb
  std::string resource;  // plural[/subresource], optionally plural.group: "nodes", "pods/exec",
                         // "leases.coordination.k8s.io"; "*": every resource
  std::chrono::milliseconds duration{0};  // 0: for as long as the spec holds
  bool admission = false;                 // refused by admission: access reviews allow it

  std::string to_string() const;  // VERB:RESOURCE[:DURATION]
  friend bool operator==(const ForbiddenRule&, const ForbiddenRule&) = default;
};

struct FaultSpec {
  double error_rate = 0;                   // fraction of matching requests answered with an error
  std::set<std::string> error_verbs;       // empty = every verb
  int error_status = 0;                    // 0 = alternate 429 and 500
  double timeout_rate = 0;                 // fraction held unanswered past any client deadline
  std::chrono::milliseconds watch_cut{0};  // close every watch stream after this long
  // Deliver each watch event this long after the change (a lagging watch
  // cache): a client's view trails its own writes' responses.
  std::chrono::milliseconds watch_delay{0};
  bool gone_on_resume = false;  // answer 410 to every watch that resumes from a resourceVersion
  std::chrono::milliseconds latency{0};
  // 0 = never; else hold (never answer, never apply) the k-th client write
  // request counted from when this spec took effect, and every write after it.
  // Only API clients' writes count (create/update/patch/delete/deletecollection,
  // evictions), never the simulator's own controllers, dry runs or access reviews.
  std::uint64_t stop_at_write = 0;
  // Resource plurals (e.g. leases, events) whose writes are not counted toward
  // stop-at-write; once stopped, their writes are held like any other.
  std::set<std::string> stop_at_write_skip;
  // `forbidden=A|B`, or several `forbidden=` keys.
  std::vector<ForbiddenRule> forbidden;
  std::map<std::string, std::string> extra;

  static Result<FaultSpec> parse(std::string_view text);
  // The spec in parse()'s syntax (canonical order; "" when no fault is set).
  std::string to_string() const;
};

// "2s", "150ms", "1m", or a bare number of seconds.
Result<std::chrono::milliseconds> parse_duration(std::string_view text);

}  // namespace cnimig::sim
