#pragma once
// The connectivity check's exec, through the Kubernetes client (WebSocket exec).

#include "cnimig/kube/client.hpp"
#include "cnimig/probe/pod_executor.hpp"

namespace cnimig::agent {

class KubePodExecutor final : public probe::PodExecutor {
 public:
  explicit KubePodExecutor(kube::Client& client) : client_(client) {}

  boost::asio::awaitable<Result<probe::ExecOutcome>> exec(
      const probe::ProbeTarget& target, const std::vector<std::string>& command,
      std::chrono::milliseconds timeout) override;

 private:
  kube::Client& client_;
};

}  // namespace cnimig::agent
