#pragma once
// One connectivity check: exec the knet-stress status command in every
// knet-stress pod, at most `parallelism` at a time, each bounded by its own
// timeout. It passes only when every pod exits 0; a check with no pods fails,
// because proving nothing is not proof of connectivity.

#include <chrono>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "cnimig/common/error.hpp"
#include "cnimig/probe/pod_executor.hpp"

namespace cnimig::probe {

struct PodProbeResult {
  ProbeTarget target;
  bool passed = false;
  int exit_code = -1;  // -1 when the exec itself failed or timed out
  std::string detail;  // stderr of the probe or the exec error, trimmed
  // The exec's own error (a 403, a dropped stream), when it did not run:
  // such a failure says nothing about connectivity.
  std::optional<Error> exec_error;
  std::chrono::milliseconds duration{0};
};

struct ConnectivityReport {
  bool passed = false;
  std::size_t probed = 0;
  std::vector<PodProbeResult> failures;  // in target order
  std::chrono::milliseconds duration{0};
  std::size_t peak_in_flight = 0;  // the fan-out actually reached
};

struct CheckSettings {
  std::vector<std::string> command = {"/knet-stress", "status"};
  unsigned parallelism = 32;
  std::chrono::milliseconds probe_timeout{std::chrono::seconds(30)};
};

boost::asio::awaitable<ConnectivityReport> run_connectivity_check(PodExecutor& executor,
                                                                  std::vector<ProbeTarget> targets,
                                                                  const CheckSettings& settings);

}  // namespace cnimig::probe
