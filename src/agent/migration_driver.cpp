#include "cnimig/agent/migration_driver.hpp"

#include <algorithm>
#include <limits>

#include <boost/asio/bind_cancellation_slot.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>
#include <spdlog/spdlog.h>

#include "cnimig/agent/node_write_batch.hpp"
#include "cnimig/common/error.hpp"
#include "cnimig/events/event_catalogue.hpp"
#include "cnimig/migrate/node_phase.hpp"
#include "cnimig/migrate/planner.hpp"

namespace cnimig::agent {
namespace {

namespace asio = boost::asio;
using Clock = std::chrono::steady_clock;

std::chrono::milliseconds since(Clock::time_point t) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(Clock::now() - t);
}

}  // namespace

MigrationDriver::MigrationDriver(ChangeSource& cache, ActionRunner& executor,
                                 const kube::ServerClock& clock, DriverSettings settings,
                                 events::EventSink& events, ProgressHooks hooks)
    : cache_(cache),
      executor_(executor),
      clock_(clock),
      settings_(std::move(settings)),
      events_(events),
      hooks_(std::move(hooks)) {
  // Read-your-writes: once a write returns, the next decision must see it.
  // The watch may deliver it later than that (after a connectivity check,
  // say), and a decision on the older snapshot would start a node again or
  // one too many, or repeat the write.
  executor_.on_written([this](std::string_view kind, const boost::json::object& object) {
    cache_.apply_written(kind, object);
  });
  executor_.on_snapshot_changes(cache_.changes());
  // What an action finds out goes into the run's record, and wakes the loop.
  executor_.on_outcome([this](const ActionOutcome& outcome) {
    if (const auto* c = std::get_if<CutoffOrdered>(&outcome)) {
      cache_.note_cutoff_order(c->node, c->annotation, c->order);
      return;
    }
    fold(record_, outcome, cache_.snapshot());
    cache_.changes().notify();
  });
  if (hooks_.metrics) {
    hooks_.metrics->define_histogram(
        kReactionHistogram,
        "Time from a watch event that led to new writes to the first of them being issued.",
        {0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1});
  }
}

void MigrationDriver::request_stop() {
  ++stop_requests_;
  if (stop_requests_ > 1) {
    for (auto& c : cancels_)
      c.emit(asio::cancellation_type::terminal);
  }
  cache_.changes().notify();
}

std::optional<std::chrono::milliseconds> MigrationDriver::timeout_for(migrate::Gate gate) const {
  return settings_.timeouts.for_gate(gate);
}

std::optional<double> MigrationDriver::count_writes(const std::vector<migrate::Action>& batch,
                                                    Trigger& trigger) {
  std::optional<double> reaction_ms;
  for (const auto& action : batch) {
    if (!migrate::is_write(action))
      continue;
    migrate::note_write(record_, action);
    if (trigger && *trigger) {
      reaction_ms = std::chrono::duration<double, std::milli>(Clock::now() - **trigger).count();
      trigger->reset();
      if (hooks_.metrics)
        hooks_.metrics->observe(kReactionHistogram, {}, *reaction_ms / 1000.0);
    }
  }
  return reaction_ms;
}

// Every write of the batch failed with it (one patch carried them all); the
// record gets one failure naming them.
void MigrationDriver::report_failure(const std::vector<migrate::Action>& batch, const Error& error,
                                     Clock::time_point began) {
  if (error.code == Errc::forbidden && !denied_)
    denied_ = error;
  std::string what;
  for (const auto& action : batch) {
    auto event = events::Event(events::catalogued("action.failed"))
                     .step(migrate::to_string(action.step))
                     .duration(since(began))
                     .field("action", migrate::describe(action))
                     .error(error.describe());
    if (!action.node.empty())
      event.node(action.node);
    events_.emit(event);
    what += (what.empty() ? "" : ", ") + migrate::describe(action);
  }
  record_.failures.push_back({batch.front().node, what + ": " + error.describe()});
}

// A member coroutine, not a capturing lambda: the coroutine frame would
// refer to the closure, which dies when start() returns. Consecutive writes
// to the node's object go out as one merge patch (node_write_batch.hpp);
// each keeps its own event, emitted once the patch succeeded.
asio::awaitable<void> MigrationDriver::run_group(std::vector<migrate::Action> group,
                                                 Trigger trigger) {
  auto& record = record_;
  for (const auto& batch : batch_node_writes(group)) {
    const auto began = Clock::now();
    auto reaction_ms = count_writes(batch, trigger);
    Result<void> result;
    if (batch.size() == 1) {
      result = co_await executor_.execute(batch.front(), record_);
    } else {
      result = co_await executor_.execute_node_writes(batch, record_);
    }
    for (const auto& action : batch)
      std::erase(record.in_flight, action);
    const auto& first = batch.front();
    if (!result && result.error().code == Errc::not_found && !first.node.empty()) {
      // A node's writes patch the Node (a pod already gone counts as
      // evicted): 404 means the node was deleted (scaled down, replaced),
      // perhaps before its watch event arrived. What was left to do on it
      // has nothing to act on, and must not hold the run.
      spdlog::info("node {} was deleted; dropping its remaining actions ({})", first.node,
                   migrate::describe(first));
      for (const auto& rest : group)
        std::erase(record.in_flight, rest);
      cache_.changes().notify();
      co_return;
    }
    if (!result) {
      report_failure(batch, result.error(), began);
      // The rest of this node's group depends on what failed: drop it.
      for (const auto& rest : group)
        std::erase(record.in_flight, rest);
      cache_.changes().notify();
      co_return;
    }
    for (const auto& action : batch) {
      if (std::holds_alternative<migrate::RunConnectivityCheck>(action.kind))
        continue;
      auto event = events::Event(migrate::event_name(action))
                       .step(migrate::to_string(action.step))
                       .duration(since(began))
                       .field("action", migrate::describe(action));
      if (!action.node.empty())
        event.node(action.node);
      if (reaction_ms)
        event.field("reaction_ms", *reaction_ms);
      reaction_ms.reset();  // the first write of the batch issued the request
      events_.emit(event);
    }
    cache_.changes().notify();
  }
}

void MigrationDriver::start(std::vector<migrate::Action> group, Trigger trigger) {
  for (const auto& a : group)
    record_.in_flight.push_back(a);
  ++running_;
  auto& cancel = cancels_.emplace_back();
  auto it = std::prev(cancels_.end());
  asio::co_spawn(
      cache_.changes().executor(), run_group(group, std::move(trigger)),
      asio::bind_cancellation_slot(cancel.slot(), [this, it, group](std::exception_ptr e) {
        if (e) {
          // Cancelled by a second stop request, or a bug: the
          // actions are no longer running either way.
          for (const auto& a : group)
            std::erase(record_.in_flight, a);
        }
        finished_.push_back(it);  // erased by run(): Asio clears the bound slot after this returns
        --running_;
        cache_.changes().notify();
      }));
}

void MigrationDriver::track_waits(const migrate::Decision& d) {
  std::map<std::string, Waiting> now;
  for (const auto& w : d.waits) {
    const auto* wait = std::get_if<migrate::WaitFor>(&w.kind);
    if (wait == nullptr)
      continue;
    const auto key = w.node + "|" + std::string(migrate::to_string(wait->gate));
    auto previous = waiting_.find(key);
    if (previous != waiting_.end()) {
      now.emplace(key, previous->second);
      continue;
    }
    now.emplace(key, Waiting{Clock::now(), w.node, wait->gate});
    std::string pending;
    for (const auto& p : wait->pending)
      pending += (pending.empty() ? "" : ", ") + p;
    auto event = events::Event(events::catalogued("gate.waiting"))
                     .step(migrate::to_string(w.step))
                     .field("gate", migrate::to_string(wait->gate));
    if (!w.node.empty())
      event.node(w.node);
    if (!pending.empty())
      event.field("pending", pending);
    events_.emit(event);
  }
  for (const auto& [key, w] : waiting_) {
    if (!now.contains(key)) {
      auto event = events::Event(events::catalogued("gate.passed"))
                       .field("gate", migrate::to_string(w.gate))
                       .duration(since(w.since));
      if (current_step_)
        event.step(migrate::to_string(*current_step_));
      if (!w.node.empty())
        event.node(w.node);
      events_.emit(event);
    }
  }
  // A wait past its timeout becomes a failure: the core stops new nodes and halts.
  for (auto& [key, w] : now) {
    const auto limit = timeout_for(w.gate);
    if (limit && Clock::now() - w.since >= *limit) {
      auto& failures = record_.failures;
      const auto reason = "timed out after " + std::to_string(limit->count() / 1000) +
                          "s waiting for " + std::string(migrate::to_string(w.gate));
      if (std::none_of(failures.begin(), failures.end(), [&](const migrate::Failure& f) {
            return f.node == w.node && f.reason == reason;
          })) {
        failures.push_back({w.node, reason});
        cache_.changes().notify();
      }
    }
  }
  waiting_ = std::move(now);
}

std::int64_t MigrationDriver::server_now() {
  using std::chrono::floor;
  using std::chrono::seconds;
  if (auto t = clock_.earliest(Clock::now()))
    return floor<seconds>(t->time_since_epoch()).count();
  if (!clock_warned_) {
    clock_warned_ = true;
    spdlog::warn(
        "the API server sent no Date header: comparing pod creation times with this machine's "
        "clock, which may differ from the server's");
  }
  return floor<seconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

Clock::time_point MigrationDriver::next_server_second() const {
  using std::chrono::seconds;
  const auto now = Clock::now();
  const auto t = clock_.earliest(now);
  if (!t)
    return now + seconds(1);
  const auto next = std::chrono::floor<seconds>(*t) + seconds(1);
  return clock_.when_reached(next).value_or(now + seconds(1));
}

Clock::time_point MigrationDriver::next_deadline() const {
  auto deadline = Clock::time_point::max();
  for (const auto& [key, w] : waiting_) {
    if (const auto limit = timeout_for(w.gate))
      deadline = std::min(deadline, w.since + *limit);
  }
  return deadline;
}

void MigrationDriver::report(const migrate::Decision& d) {
  // Steps.
  for (std::size_t i = 0; i < d.steps.size(); ++i) {
    const auto step = static_cast<migrate::StepId>(i);
    if (d.steps[i] == migrate::StepState::running &&
        step_states_[i] != migrate::StepState::running) {
      step_started_at_ = Clock::now();
      events_.emit(
          events::Event(events::catalogued("step.started")).step(migrate::to_string(step)));
    }
    if (d.steps[i] == migrate::StepState::done && step_states_[i] == migrate::StepState::running) {
      events_.emit(events::Event(events::catalogued("step.completed"))
                       .step(migrate::to_string(step))
                       .duration(since(step_started_at_)));
      if (step == migrate::StepId::preflight && hooks_.preflight_passed && !preflight_reported_) {
        preflight_reported_ = true;
        hooks_.preflight_passed();
      }
    }
  }
  step_states_ = d.steps;
  current_step_ = d.current_step;
  // Node phases: only those the index derived anew since the last report
  // (at 5,000 nodes a walk of all of them on every watch event was most of
  // what reporting cost).
  const auto& phases = nodes_.phases();
  for (const auto& node : nodes_.take_phase_changes()) {
    auto now = phases.find(node);
    if (now == phases.end())
      continue;  // went again before this report
    const auto phase = now->second;
    auto it = phases_.find(node);
    if (it != phases_.end() && it->second == phase)
      continue;
    auto event = events::Event(events::catalogued("node.phase"))
                     .node(node)
                     .field("phase", migrate::to_string(phase));
    if (d.current_step)
      event.step(migrate::to_string(*d.current_step));
    events_.emit(event);
    if (it != phases_.end()) {
      if (auto m = migrate::milestone(phase); m && hooks_.node_milestone)
        hooks_.node_milestone(node, m->reason, m->message, false);
      // A reverse step recorded its completion on the node.
      if (migrate::is_rollback_phase(it->second) && !migrate::is_rollback_phase(phase)) {
        events_.emit(events::Event(events::catalogued("node.rolled_back"))
                         .node(node)
                         .field("phase", migrate::to_string(phase)));
      }
    }
    phases_[node] = phase;
  }
  // Progress for people.
  events::ProgressSnapshot p;
  p.step = d.current_step ? std::string(migrate::to_string(*d.current_step)) : "done";
  if (settings_.selection.rollback && !d.finished())
    p.step = "rollback " + p.step;
  p.elapsed = since(step_started_at_);
  const auto target = d.current_step && !settings_.selection.rollback
                          ? migrate::done_phase(*d.current_step)
                          : std::nullopt;
  // Counted by phase from the index's sets, not node by node: the cost is
  // the phases, the nodes in flight and the selected nodes, whatever the
  // cluster's size.
  const auto& selected = settings_.selection.nodes;
  // No target: no node counts as done.
  const int done_from = target ? static_cast<int>(*target) : std::numeric_limits<int>::max();
  const auto done = [&](migrate::NodePhase phase) { return static_cast<int>(phase) >= done_from; };
  for (const auto& [phase, names] : nodes_.by_phase()) {
    if (selected.empty()) {
      p.nodes_total += names.size();
      if (done(phase))
        p.nodes_done += names.size();
    }
    if (migrate::at_safe_point(phase))
      continue;
    for (const auto& node : names) {
      if (settings_.selection.includes_node(node))
        p.in_flight.emplace_back(node, migrate::to_string(phase));
    }
  }
  for (const auto& node : selected) {
    auto it = phases.find(node);
    if (it == phases.end())
      continue;
    ++p.nodes_total;
    if (done(it->second))
      ++p.nodes_done;
  }
  // In name order, as a walk of the nodes listed them.
  std::sort(p.in_flight.begin(), p.in_flight.end());
  if (hooks_.progress_line)
    hooks_.progress_line->update(p);
  // Off a terminal (or with --log-format json) there is no live line: the
  // progress becomes a log line whenever the step or the count of done
  // nodes changes.
  const auto milestone_key = p.step + " " + std::to_string(p.nodes_done);
  if ((!hooks_.progress_line || !hooks_.progress_line->terminal()) && d.current_step &&
      milestone_key != logged_progress_) {
    logged_progress_ = milestone_key;
    spdlog::info("{}", events::format_progress(p));
  }
  if (hooks_.status)
    hooks_.status(events::format_progress(p, 200));
}

void MigrationDriver::begin() {
  started_at_ = step_started_at_ = Clock::now();
  const auto& snap = cache_.snapshot();
  budget_.max_parallel_nodes = settings_.max_parallel_nodes;
  budget_.max_unavailable = settings_.max_unavailable.resolve(snap.nodes.size());
  if (budget_.max_parallel_nodes > budget_.max_unavailable) {
    spdlog::warn("--max-parallel-nodes {} exceeds the unavailability budget of {} nodes; using {}",
                 budget_.max_parallel_nodes, budget_.max_unavailable, budget_.max_unavailable);
    budget_.max_parallel_nodes = budget_.max_unavailable;
  }
  const bool rollback = settings_.selection.rollback;
  auto started =
      events::Event(rollback ? events::catalogued("rollback.started")
                             : events::catalogued("migration.started"))
          .field("nodes", static_cast<std::int64_t>(snap.nodes.size()))
          .field("max_parallel_nodes", static_cast<std::int64_t>(budget_.max_parallel_nodes))
          .field("max_unavailable", static_cast<std::int64_t>(budget_.max_unavailable));
  if (!rollback)
    started.field("strategy", std::string(config::to_string(settings_.migration.strategy)));
  events_.emit(std::move(started));
}

std::optional<RunResult> MigrationDriver::ended(const migrate::Decision& decision) {
  if (running_ != 0)
    return std::nullopt;
  if (decision.finished() && std::get<migrate::Done>(decision.next).held) {
    events_.emit(events::Event(events::catalogued("cleanup.held")).duration(since(started_at_)));
    return RunResult{RunOutcome::held, {}};
  }
  if (decision.finished()) {
    const bool rollback = settings_.selection.rollback;
    events_.emit(events::Event(rollback ? events::catalogued("rollback.completed")
                                        : events::catalogued("migration.completed"))
                     .duration(since(started_at_)));
    return RunResult{RunOutcome::completed, {}};
  }
  if (decision.halted() && denied_ && decision.current_step == migrate::StepId::preflight) {
    // Nothing but the knet-stress install can have been written yet.
    const auto reason = "missing permissions: " + denied_->message;
    events_.emit(events::Event(events::catalogued("preflight.failed")).error(reason));
    spdlog::error("the agent's credentials lack permissions the migration needs: {}",
                  denied_->message);
    return RunResult{RunOutcome::denied, reason};
  }
  if (decision.halted()) {
    const auto reason = *decision.halt_reason();
    auto event = events::Event(events::catalogued("migration.halted"))
                     .error(reason)
                     .duration(since(started_at_));
    if (decision.current_step)
      event.step(migrate::to_string(*decision.current_step));
    events_.emit(event);
    return RunResult{RunOutcome::halted, reason};
  }
  // A stop waits for every node to reach a safe point; a second request
  // stops as soon as nothing runs.
  if (stop_requested() && (migrate::all_at_safe_point(nodes_.phases()) || stop_requests_ > 1)) {
    events_.emit(
        events::Event(events::catalogued("migration.interrupted")).duration(since(started_at_)));
    return RunResult{RunOutcome::interrupted, "stopped by signal"};
  }
  return std::nullopt;
}

void MigrationDriver::start_actions(const migrate::Decision& decision,
                                    std::optional<Clock::time_point> event_at) {
  const auto running = [&](const migrate::Action& action) {
    return std::find(record_.in_flight.begin(), record_.in_flight.end(), action) !=
           record_.in_flight.end();
  };
  // Group the writes by node, keeping their order; a node already busy
  // gets nothing new until its running group ends.
  std::map<std::string, std::vector<migrate::Action>> groups;
  for (const auto& action : decision.actions()) {
    if (running(action))
      continue;
    // After a stop request only what brings a node in progress to its next
    // safe point; after a second one, nothing.
    if (stop_requested() &&
        (stop_requests_ > 1 || !migrate::continues_a_node(nodes_.phases(), action)))
      continue;
    groups[action.node].push_back(action);
  }
  auto trigger =
      event_at ? std::make_shared<std::optional<Clock::time_point>>(event_at) : Trigger();
  for (auto& [node, group] : groups) {
    const bool busy = std::any_of(record_.in_flight.begin(), record_.in_flight.end(),
                                  [&](const migrate::Action& a) { return a.node == node; });
    if (!busy)
      start(std::move(group), trigger);
  }
}

Clock::time_point MigrationDriver::wake_at(const migrate::Decision& decision) const {
  auto deadline = next_deadline();
  const bool clock_wait =
      std::any_of(decision.waits.begin(), decision.waits.end(), [](const migrate::Action& w) {
        const auto* wait = std::get_if<migrate::WaitFor>(&w.kind);
        return wait != nullptr && wait->gate == migrate::Gate::cut_off;
      });
  if (clock_wait)
    deadline = std::min(deadline, next_server_second());  // only time ends this wait
  return deadline;
}

asio::awaitable<RunResult> MigrationDriver::run() {
  // Cancelled from outside (apply() runs it `||` the Lease's renewal, which
  // ends when the Lease is lost) or ended by an exception, the loop leaves
  // groups running that refer to this driver and to its cancellation
  // signals. They must end before it does: the caller destroys the driver
  // next, and a group finishing after that resumed into freed memory (a
  // SIGSEGV at shutdown after losing the Lease with the API server
  // unreachable).
  std::exception_ptr ended_by;
  try {
    co_return co_await drive();
  } catch (...) {
    ended_by = std::current_exception();
  }
  // The loop's cancellation is over: what follows must be able to wait
  // (a cancelled coroutine throws at its next co_await, even of a coroutine).
  co_await asio::this_coro::reset_cancellation_state();
  co_await settle_groups();
  std::rethrow_exception(ended_by);
}

asio::awaitable<void> MigrationDriver::settle_groups() {
  if (running_ == 0)
    co_return;
  spdlog::info("cancelling {} action group(s) still running before the driver stops", running_);
  for (auto& c : cancels_)
    c.emit(asio::cancellation_type::terminal);
  // A cancelled request ends within its own timeout at the latest; the
  // deadline only bounds each wait between their completions.
  while (running_ != 0) {
    const auto seen = cache_.changes().version();
    co_await cache_.changes().wait(seen, Clock::now() + std::chrono::seconds(1));
  }
}

asio::awaitable<RunResult> MigrationDriver::drive() {
  begin();
  const auto& snap = cache_.snapshot();
  for (;;) {
    for (auto done : finished_)
      cancels_.erase(done);
    finished_.clear();
    // A failure about a node that no longer exists holds nothing: its gate
    // and its pods went with it.
    std::erase_if(record_.failures, [&](const migrate::Failure& f) {
      return !f.node.empty() && !snap.nodes.contains(f.node);
    });
    forget_gone_pods(record_, snap);
    const auto seen = cache_.changes().version();
    // The first watch event since the last decision: the one this decision
    // reacts to at the latest (an upper bound when several arrived).
    const auto event_at = cache_.changes().take_event_time();
    // The server's clock, not ours: the core compares it with
    // creationTimestamps the server wrote.
    record_.now = server_now();
    nodes_.touch(cache_.take_touched_nodes());
    const auto decision = migrate::next_actions(nodes_, snap, record_, settings_.migration, budget_,
                                                settings_.selection);
    report(decision);
    if (auto result = ended(decision))
      co_return *result;
    start_actions(decision, event_at);
    track_waits(decision);
    co_await cache_.changes().wait(seen, wake_at(decision));
  }
}

}  // namespace cnimig::agent
