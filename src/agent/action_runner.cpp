#include "cnimig/agent/action_runner.hpp"

namespace cnimig::agent {

boost::asio::awaitable<Result<void>> ActionRunner::execute_node_writes(
    const std::vector<migrate::Action>& writes, const migrate::RunRecord& run) {
  for (const auto& action : writes) {
    auto r = co_await execute(action, run);
    if (!r)
      co_return r;
  }
  co_return Result<void>{};
}

}  // namespace cnimig::agent
