#pragma once
// The coroutine driver (src/migrate/README.md): on every change of the watch
// caches or of an action's outcome it asks the I/O-free core what to do,
// starts what is not already running (each node's actions in order, nodes in
// parallel), turns waits that outlive their timeout into failures (the core
// then brings in-flight nodes to a safe point and halts), and reports events.

#include <chrono>
#include <list>
#include <map>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/cancellation_signal.hpp>

#include "cnimig/agent/action_runner.hpp"
#include "cnimig/agent/change_source.hpp"
#include "cnimig/config/config.hpp"
#include "cnimig/events/event_sink.hpp"
#include "cnimig/events/metrics_registry.hpp"
#include "cnimig/events/progress_line.hpp"
#include "cnimig/kube/server_clock.hpp"
#include "cnimig/migrate/budget.hpp"
#include "cnimig/migrate/decision.hpp"
#include "cnimig/migrate/migration_settings.hpp"
#include "cnimig/migrate/node_index.hpp"
#include "cnimig/migrate/run_record.hpp"
#include "cnimig/migrate/selection.hpp"

namespace cnimig::agent {

struct DriverSettings {
  migrate::MigrationSettings migration;
  migrate::Selection selection;
  unsigned max_parallel_nodes = 1;
  config::MaxUnavailable max_unavailable{};
  config::Timeouts timeouts;
};

// denied: the API server refused a request of the preflight step with 403
// (a probe's exec, say): a permission the credentials lack, reported as
// `preflight.failed` (exit 2) rather than as a halted gate.
// held: every node migrated, cleanup.hold ended the run before cleanup.
enum class RunOutcome { completed, held, halted, interrupted, denied };

struct RunResult {
  RunOutcome outcome = RunOutcome::completed;
  std::string reason;
};

// Reports the driver's progress to whoever watches: systemd, the terminal,
// Kubernetes Events. All optional.
struct ProgressHooks {
  std::function<void(const std::string& status)> status;  // systemd STATUS=
  std::function<void()> preflight_passed;                 // systemd READY=1
  std::function<void(const std::string& node, const std::string& reason, const std::string& message,
                     bool warning)>
      node_milestone;  // Kubernetes Event on the Node
  std::shared_ptr<events::ProgressLine> progress_line;
  // Optional: the driver's reaction time (a watch event that led to new
  // writes -> the first of those writes issued) goes to the histogram
  // kReactionHistogram. The same figure is the `reaction_ms` field of that
  // write's event.
  events::MetricsRegistry* metrics = nullptr;
};

inline constexpr const char* kReactionHistogram = "cnimig_reaction_seconds";

class MigrationDriver {
 public:
  // `cache`: the watch-fed view (ClusterCache); `executor`: runs the
  // actions (ActionExecutor). `clock`: the API server's (the client's), for
  // RunRecord::now.
  MigrationDriver(ChangeSource& cache, ActionRunner& executor, const kube::ServerClock& clock,
                  DriverSettings settings, events::EventSink& events, ProgressHooks hooks = {});

  // Runs until every selected step is done, the core halts, or a stop request
  // is honoured. The cache must be synced. Cancelled (or ended by an
  // exception), it cancels the actions still running and returns only once
  // they ended: the driver may be destroyed as soon as run() returns.
  boost::asio::awaitable<RunResult> run();

  // First call: start nothing new, let nodes in progress reach a safe point.
  // Second call: cancel what is running now (the cluster stays resumable).
  void request_stop();
  bool stop_requested() const noexcept { return stop_requests_ > 0; }

  // The run's own record (the core's second input), owned by the driver.
  const migrate::RunRecord& record() const noexcept { return record_; }

 private:
  // The watch event a group of writes reacts to; the first group to issue
  // a write records the reaction time and clears it.
  using Trigger = std::shared_ptr<std::optional<std::chrono::steady_clock::time_point>>;
  boost::asio::awaitable<RunResult> drive();
  // Cancels the groups still running and waits until they ended.
  boost::asio::awaitable<void> settle_groups();
  void begin();
  // The run's result once the decision ends it (nothing running).
  std::optional<RunResult> ended(const migrate::Decision& decision);
  void start_actions(const migrate::Decision& decision,
                     std::optional<std::chrono::steady_clock::time_point> event_at);
  // The next timeout of a wait, or the next server second for a cut-off.
  std::chrono::steady_clock::time_point wake_at(const migrate::Decision& decision) const;
  void start(std::vector<migrate::Action> group, Trigger trigger);
  boost::asio::awaitable<void> run_group(std::vector<migrate::Action> group, Trigger trigger);
  // Bumps the write generation for each write of `batch`; the reaction time
  // when the batch is the first to issue a write for its trigger.
  std::optional<double> count_writes(const std::vector<migrate::Action>& batch, Trigger& trigger);
  void report_failure(const std::vector<migrate::Action>& batch, const Error& error,
                      std::chrono::steady_clock::time_point began);
  void track_waits(const migrate::Decision& d);
  std::chrono::steady_clock::time_point next_deadline() const;
  void report(const migrate::Decision& d);
  // nullopt: a wait bounded by the timeouts of what it waits for.
  std::optional<std::chrono::milliseconds> timeout_for(migrate::Gate gate) const;
  // The server's time in whole seconds, one it has certainly reached.
  std::int64_t server_now();
  // When server_now() will next move on (to wake a "cut-off" wait).
  std::chrono::steady_clock::time_point next_server_second() const;

  ChangeSource& cache_;
  ActionRunner& executor_;
  migrate::RunRecord record_;
  // Each node's derived facts between decisions: a decision re-derives only
  // the nodes the cache saw change.
  migrate::NodeIndex nodes_;
  const kube::ServerClock& clock_;
  bool clock_warned_ = false;
  DriverSettings settings_;
  events::EventSink& events_;
  ProgressHooks hooks_;
  migrate::Budget budget_;
  std::size_t running_ = 0;
  int stop_requests_ = 0;
  std::list<boost::asio::cancellation_signal> cancels_;
  std::vector<std::list<boost::asio::cancellation_signal>::iterator> finished_;
  struct Waiting {
    std::chrono::steady_clock::time_point since;
    std::string node;
    migrate::Gate gate;
  };
  std::map<std::string, Waiting> waiting_;  // by describe(WaitFor)
  std::optional<migrate::StepId> current_step_;
  std::array<migrate::StepState, 6> step_states_{};
  std::map<std::string, migrate::NodePhase> phases_;
  std::chrono::steady_clock::time_point started_at_;
  std::chrono::steady_clock::time_point step_started_at_;
  bool preflight_reported_ = false;
  std::optional<Error> denied_;  // the first action the API server refused with 403
  std::string logged_progress_;  // step and node count last written as a log line
};

}  // namespace cnimig::agent
