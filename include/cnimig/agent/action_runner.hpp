#pragma once
// What the driver runs the core's actions with. ActionExecutor is the real
// one (against the API); the driver's unit test has its own.

#include <functional>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include "cnimig/agent/action_outcome.hpp"
#include "cnimig/agent/change_signal.hpp"
#include "cnimig/common/result.hpp"
#include "cnimig/migrate/action.hpp"
#include "cnimig/migrate/run_record.hpp"

namespace cnimig::agent {

class ActionRunner {
 public:
  virtual ~ActionRunner() = default;

  // Runs one action to completion; a write that fails for good is an error.
  // `run` is the driver's record while the action runs.
  virtual boost::asio::awaitable<Result<void>> execute(const migrate::Action& action,
                                                       const migrate::RunRecord& run) = 0;

  // Runs consecutive writes to one Node object (node_write_batch.hpp's
  // batch_node_writes) as one request. The default runs them one by one,
  // for runners that have no such request.
  virtual boost::asio::awaitable<Result<void>> execute_node_writes(
      const std::vector<migrate::Action>& writes, const migrate::RunRecord& run);

  // Called with every outcome as it happens (action_outcome.hpp).
  using OutcomeHandler = std::function<void(const ActionOutcome&)>;
  virtual void on_outcome(OutcomeHandler handler) = 0;

  // Called with the API's answer to every write of a Node or workload (its
  // kind, the object as stored).
  using WrittenHandler =
      std::function<void(std::string_view kind, const boost::json::object& object)>;
  virtual void on_written(WrittenHandler handler) = 0;

  // Wakes on every change of the snapshot the runner reads, so what waits
  // for the cluster (a check whose pods are being re-created) reacts to the
  // watch instead of backing off. Runners that never wait ignore it.
  virtual void on_snapshot_changes(ChangeSignal& /*signal*/) {}
};

}  // namespace cnimig::agent
