#pragma once
// What the connectivity check needs from the cluster: run a command in a pod
// and get its exit status. The agent adapts the Kubernetes client's exec to
// it; tests use a fake with simulated latency.

#include <chrono>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "cnimig/common/result.hpp"

namespace cnimig::probe {

struct ProbeTarget {
  std::string namespace_;
  std::string pod;
  std::string node;
};

struct ExecOutcome {
  int exit_code = 0;
  std::string stdout_text;
  std::string stderr_text;
};

class PodExecutor {
 public:
  virtual ~PodExecutor() = default;
  virtual boost::asio::awaitable<Result<ExecOutcome>> exec(const ProbeTarget& target,
                                                           const std::vector<std::string>& command,
                                                           std::chrono::milliseconds timeout) = 0;
};

}  // namespace cnimig::probe
