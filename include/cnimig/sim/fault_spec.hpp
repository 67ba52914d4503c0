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

#include <chrono>
#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <string_view>

#include "cnimig/common/result.hpp"

namespace cnimig::sim {

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
  std::map<std::string, std::string> extra;

  static Result<FaultSpec> parse(std::string_view text);
  // The spec in parse()'s syntax (canonical order; "" when no fault is set).
  std::string to_string() const;
};

// "2s", "150ms", "1m", or a bare number of seconds.
Result<std::chrono::milliseconds> parse_duration(std::string_view text);

}  // namespace cnimig::sim
