#include "cnimig/agent/kube_pod_executor.hpp"

namespace cnimig::agent {

boost::asio::awaitable<Result<probe::ExecOutcome>> KubePodExecutor::exec(
    const probe::ProbeTarget& target, const std::vector<std::string>& command,
    std::chrono::milliseconds timeout) {
  kube::ExecRequest request;
  request.namespace_ = target.namespace_;
  request.pod = target.pod;
  request.command = command;
  request.timeout = timeout;
  auto result = co_await client_.exec(request);
  if (!result)
    co_return result.error();
  co_return probe::ExecOutcome{result->exit_code, std::move(result->stdout_text),
                               std::move(result->stderr_text)};
}

}  // namespace cnimig::agent
