#pragma once
// `--faults SPEC`: comma-separated key=value pairs. The API half interprets
// error-rate, error-verbs, error-status, timeout-rate, watch-cut, gone-on-resume,
// latency and stop-at-write; every other key (node and PDB faults) is kept in
// `extra` for the cluster model.
//   error-rate=0.1,error-verbs=get|patch,watch-cut=2s,gone-on-resume=1,latency=20ms

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
  bool gone_on_resume = false;  // answer 410 to every watch that resumes from a resourceVersion
  std::chrono::milliseconds latency{0};
  std::uint64_t stop_at_write =
      0;  // 0 = never; else refuse (and stop answering) from this write on
  std::map<std::string, std::string> extra;

  static Result<FaultSpec> parse(std::string_view text);
};

// "2s", "150ms", "1m", or a bare number of seconds.
Result<std::chrono::milliseconds> parse_duration(std::string_view text);

}  // namespace cnimig::sim
