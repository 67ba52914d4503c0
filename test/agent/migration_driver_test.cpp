// MigrationDriver alone: no sockets, no simulator. A fake change source holds
// the cluster as the core's effects model changes it, and a fake executor
// applies each action to that model (or fails, or hangs) and reports the
// outcomes a real executor would. The tests check that the driver executes
// what the core asks, folds outcomes into its own record, ends on Halt and
// Done, reacts to a change of the cluster, and stops at a safe point.

#include "cnimig/agent/migration_driver.hpp"

#include <algorithm>
#include <chrono>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/test/unit_test.hpp>

#include "cnimig/agent/action_runner.hpp"
#include "cnimig/agent/change_source.hpp"
#include "cnimig/agent/node_write_batch.hpp"
#include "cnimig/kube/server_clock.hpp"
#include "cnimig/migrate/decision.hpp"
#include "cnimig/migrate/node_index.hpp"
#include "cnimig/migrate/node_phase.hpp"
#include "cnimig/migrate/simulated_effects.hpp"

#include "cluster_fixture.hpp"

namespace asio = boost::asio;
using namespace cnimig;
using namespace std::chrono_literals;
using agent::RunOutcome;

namespace {

std::int64_t system_seconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// The cluster as the effects model changes it. Its clock is this machine's,
// as the driver's is without a Date header: a pod re-created after a cut-off
// must not predate it.
class FakeCluster final : public agent::ChangeSource {
 public:
  FakeCluster(asio::any_io_executor ex, migrate::PlanState state)
      : state_(std::move(state)), changes_(ex) {
    state_.now = system_seconds();
  }

  const migrate::ClusterSnapshot& snapshot() const override { return state_; }
  agent::ChangeSignal& changes() override { return changes_; }
  void apply_written(std::string_view, const boost::json::object&) override {}

  // The only writer of the model: what a watch event would bring.
  migrate::PlanState& model() { return state_; }
  void changed() { changes_.notify_event(); }

 private:
  migrate::PlanState state_;
  agent::ChangeSignal changes_;
};

// Applies each write to the model at once (as a cooperative cluster would,
// seen through the watch), reports the outcomes a real executor reports,
// and records what it ran.
class FakeExecutor final : public agent::ActionRunner {
 public:
  FakeExecutor(FakeCluster& cluster, const migrate::MigrationSettings& settings)
      : cluster_(cluster), effects_(settings) {
    effects_.seconds_per_action = 0;  // the model's clock is the real one
  }

  asio::awaitable<Result<void>> execute(const migrate::Action& action,
                                        const migrate::RunRecord& run) override {
    executed.push_back(action);
    if (hang && hang(action)) {
      ++hangs_started;
      // Counts the hang's end, however it ends.
      struct Ended {
        std::size_t& count;
        ~Ended() { ++count; }
      } ended{hangs_ended};
      // Never finishes by itself: only a cancellation ends it.
      asio::steady_timer forever(co_await asio::this_coro::executor,
                                 std::chrono::steady_clock::time_point::max());
      co_await forever.async_wait(asio::use_awaitable);
    }
    if (on_execute)
      on_execute(action);
    if (fail && fail(action))
      co_return make_error(Errc::conflict, "refused by the fake API");
    if (std::holds_alternative<migrate::RunConnectivityCheck>(action.kind)) {
      const bool passed = !check_fails;
      auto result = migrate::check_starting(run);
      result.passed = passed;
      result.detail = passed ? "" : "pod-x down";
      outcome_(agent::CheckFinished{std::move(result)});
      co_return Result<void>{};
    }
    if (const auto* e = std::get_if<migrate::EvictPod>(&action.kind))
      outcome_(agent::PodRemoved{action.node, e->uid});
    if (const auto* d = std::get_if<migrate::DeletePod>(&action.kind))
      outcome_(agent::PodRemoved{action.node, d->uid});
    if (!run.removed_pods.empty())
      ++removals_recorded;  // folded into the driver's record before the watch shows them gone
    auto& model = cluster_.model();
    model.now = system_seconds();
    effects_.apply(model, action);
    cluster_.changed();
    co_return Result<void>{};
  }
  // Records each batch of node writes, then runs it as the default does.
  asio::awaitable<Result<void>> execute_node_writes(const std::vector<migrate::Action>& writes,
                                                    const migrate::RunRecord& run) override {
    batches.push_back(writes);
    co_return co_await ActionRunner::execute_node_writes(writes, run);
  }
  void on_outcome(OutcomeHandler handler) override { outcome_ = std::move(handler); }
  void on_written(WrittenHandler) override {}

  std::vector<std::vector<migrate::Action>> batches;  // execute_node_writes calls
  std::vector<migrate::Action> executed;
  std::size_t removals_recorded = 0;
  std::size_t hangs_started = 0;
  std::size_t hangs_ended = 0;
  bool check_fails = false;
  std::function<bool(const migrate::Action&)> fail;
  std::function<bool(const migrate::Action&)> hang;
  std::function<void(const migrate::Action&)> on_execute;

  std::size_t writes() const {
    return static_cast<std::size_t>(
        std::count_if(executed.begin(), executed.end(), migrate::is_write));
  }

 private:
  FakeCluster& cluster_;
  migrate::SimulatedEffects effects_;
  OutcomeHandler outcome_;
};

class RecordingSink final : public events::EventSink {
 public:
  void emit(const events::Event& event) override {
    names.push_back(event.name());
    if (on_event)
      on_event(event);
  }
  std::vector<std::string> names;
  std::function<void(const events::Event&)> on_event;
};

struct Harness {
  migrate::MigrationSettings settings = migrate::MigrationSettings::defaults();
  asio::io_context io;
  FakeCluster cluster;
  FakeExecutor executor;
  kube::ServerClock clock;  // never observed: the driver falls back to this machine's
  RecordingSink sink;
  std::optional<agent::MigrationDriver> driver;
  std::optional<agent::RunResult> result;

  explicit Harness(std::size_t nodes = 2)
      : cluster(io.get_executor(), make(settings, nodes)), executor(cluster, settings) {
    agent::DriverSettings d;
    d.migration = settings;
    d.max_parallel_nodes = 1;
    driver.emplace(cluster, executor, clock, d, sink);
  }

  static migrate::PlanState make(const migrate::MigrationSettings& s, std::size_t nodes) {
    migrate::test::FixtureOptions o;
    o.nodes = nodes;
    o.knet_stress_installed = true;
    return migrate::test::make_cluster(s, o);
  }

  agent::RunResult run(std::chrono::seconds limit = 60s) {
    asio::co_spawn(io, driver->run(), [this](std::exception_ptr e, agent::RunResult r) {
      if (e)
        std::rethrow_exception(e);
      result = std::move(r);
      io.stop();  // what is left (a cancelled timer, say) is not the driver's
    });
    io.run_for(limit);
    BOOST_TEST_REQUIRE(result.has_value(), "the driver did not end");
    return *result;
  }

  bool emitted(const std::string& name) const {
    return std::find(sink.names.begin(), sink.names.end(), name) != sink.names.end();
  }
};

}  // namespace

BOOST_AUTO_TEST_SUITE(migration_driver)

BOOST_AUTO_TEST_CASE(executes_the_cores_actions_to_done_and_folds_their_outcomes) {
  Harness h;
  const auto r = h.run();
  BOOST_TEST((r.outcome == RunOutcome::completed), r.reason);
  for (auto step : migrate::kAllSteps)
    BOOST_TEST(migrate::step_done(step, h.cluster.snapshot(), h.settings), to_string(step));
  // Every write it executed counted in the record; none left running.
  const auto& record = h.driver->record();
  BOOST_TEST(record.write_generation == h.executor.writes());
  BOOST_TEST(record.in_flight.empty());
  BOOST_TEST(record.failures.empty());
  // The checks' outcomes were folded in, the last one at the last write.
  BOOST_TEST_REQUIRE(record.last_check.has_value());
  BOOST_TEST(record.last_check->passed);
  BOOST_TEST(record.last_check->generation == record.write_generation);
  // Removed pods were recorded while the watch showed them, and forgotten
  // once it no longer did.
  BOOST_TEST(h.executor.removals_recorded > 0u);
  BOOST_TEST(record.removed_pods.empty());
  BOOST_TEST(h.emitted("migration.completed"));
}

// A node's consecutive writes to its object in one decision go out as one
// request (one merge patch with the real executor), each with its own event.
BOOST_AUTO_TEST_CASE(a_nodes_consecutive_writes_go_out_as_one_batch_with_an_event_each) {
  Harness h;
  const auto r = h.run();
  BOOST_TEST((r.outcome == RunOutcome::completed), r.reason);
  // The roll's start: intent, drain-since, cordon.
  const auto start = std::find_if(h.executor.batches.begin(), h.executor.batches.end(),
                                  [](const std::vector<migrate::Action>& b) {
                                    return b.size() == 3 && b[0].step == migrate::StepId::roll &&
                                           std::holds_alternative<migrate::SetCordon>(b[2].kind);
                                  });
  BOOST_TEST((start != h.executor.batches.end()), "the roll's start went out as one batch");
  std::size_t node_writes = 0;
  std::size_t requests = h.executor.batches.size();
  std::size_t in_batches = 0;
  for (const auto& b : h.executor.batches)
    in_batches += b.size();
  std::map<std::string, std::size_t> expected;
  for (const auto& a : h.executor.executed) {
    if (!agent::is_node_object_write(a))
      continue;
    ++node_writes;
    ++expected[std::string(migrate::event_name(a))];
  }
  requests += node_writes - in_batches;  // the node writes that ran alone
  BOOST_TEST(requests < node_writes);
  for (const auto& [name, count] : expected) {
    BOOST_TEST(std::count(h.sink.names.begin(), h.sink.names.end(), name) ==
                   static_cast<std::ptrdiff_t>(count),
               name);
  }
}

BOOST_AUTO_TEST_CASE(a_halt_ends_the_run_with_its_reason_and_nothing_written) {
  Harness h;
  h.executor.check_fails = true;
  const auto r = h.run();
  BOOST_TEST((r.outcome == RunOutcome::halted));
  BOOST_TEST(r.reason.find("connectivity check failed: pod-x down") != std::string::npos, r.reason);
  BOOST_TEST(h.executor.writes() == 0u);
  BOOST_TEST_REQUIRE(!h.executor.executed.empty());
  BOOST_TEST(std::holds_alternative<migrate::RunConnectivityCheck>(h.executor.executed[0].kind));
  BOOST_TEST(h.emitted("migration.halted"));
}

BOOST_AUTO_TEST_CASE(a_failed_write_becomes_a_failure_in_its_record_and_halts) {
  Harness h;
  h.executor.fail = [](const migrate::Action& a) {
    return std::holds_alternative<migrate::SetCordon>(a.kind);
  };
  const auto r = h.run();
  BOOST_TEST((r.outcome == RunOutcome::halted));
  BOOST_TEST(r.reason.find("refused by the fake API") != std::string::npos, r.reason);
  // The cordon went in one batch with the roll's two annotations: one
  // failure names the three writes, each of which gets an action.failed.
  BOOST_TEST_REQUIRE(h.driver->record().failures.size() == 1u);
  const auto& reason = h.driver->record().failures[0].reason;
  BOOST_TEST(reason.find("cordon") != std::string::npos, reason);
  BOOST_TEST(reason.find("annotate") < reason.find("cordon"), reason);
  BOOST_TEST(std::count(h.sink.names.begin(), h.sink.names.end(), "action.failed") == 3);
  BOOST_TEST(h.driver->record().in_flight.empty());
}

BOOST_AUTO_TEST_CASE(waits_for_the_cluster_and_reacts_when_it_changes) {
  Harness h;
  const migrate::ObjectRef knet{migrate::kDaemonSet, "knet-stress", "knet-stress"};
  h.cluster.model().workloads[knet].ready = false;
  h.executor.check_fails = true;  // ends the run at the first check
  std::size_t executed_while_waiting = 0;
  bool waited = false;
  h.sink.on_event = [&](const events::Event& e) {
    if (e.name() != "gate.waiting" || waited)
      return;
    waited = true;
    executed_while_waiting = h.executor.executed.size();
    // The watch brings the DaemonSet Ready: after this event, not inside it.
    asio::post(h.io, [&] {
      h.cluster.model().workloads[knet].ready = true;
      h.cluster.changed();
    });
  };
  const auto r = h.run();
  BOOST_TEST(waited);
  BOOST_TEST(executed_while_waiting == 0u, "nothing runs while knet-stress is not Ready");
  BOOST_TEST_REQUIRE(!h.executor.executed.empty());
  BOOST_TEST(std::holds_alternative<migrate::RunConnectivityCheck>(h.executor.executed[0].kind));
  BOOST_TEST((r.outcome == RunOutcome::halted));
}

BOOST_AUTO_TEST_CASE(a_stop_request_lets_nodes_in_flight_reach_a_safe_point) {
  Harness h;
  bool asked = false;
  h.executor.on_execute = [&](const migrate::Action& a) {
    const auto* c = std::get_if<migrate::SetCordon>(&a.kind);
    if (c != nullptr && c->unschedulable && !asked) {
      asked = true;
      h.driver->request_stop();  // SIGTERM while the first node is being cordoned
    }
  };
  const auto r = h.run();
  BOOST_TEST_REQUIRE(asked);
  BOOST_TEST((r.outcome == RunOutcome::interrupted), r.reason);
  const auto& snap = h.cluster.snapshot();
  for (const auto& [name, node] : snap.nodes) {
    const auto phase = migrate::node_phase(node, snap, h.settings);
    BOOST_TEST(migrate::at_safe_point(phase), name << " stopped in " << to_string(phase));
    BOOST_TEST(!node.unschedulable, name << " left cordoned");
  }
  BOOST_TEST(h.driver->record().in_flight.empty());
  BOOST_TEST(h.emitted("migration.interrupted"));
}

BOOST_AUTO_TEST_CASE(a_second_stop_request_cancels_what_runs) {
  Harness h;
  bool asked = false;
  h.executor.hang = [&](const migrate::Action& a) {
    if (!std::holds_alternative<migrate::EvictPod>(a.kind))
      return false;
    if (!asked) {
      // The first eviction hangs: stop twice while it runs.
      asked = true;
      asio::post(h.io, [&] {
        h.driver->request_stop();
        h.driver->request_stop();
      });
    }
    return true;
  };
  const auto r = h.run();
  BOOST_TEST_REQUIRE(asked);
  BOOST_TEST((r.outcome == RunOutcome::interrupted), r.reason);
  BOOST_TEST(h.driver->record().in_flight.empty());
  // Nothing started after the stop: the hanging eviction was the last action.
  BOOST_TEST(std::holds_alternative<migrate::EvictPod>(h.executor.executed.back().kind));
}

// apply() runs the driver `||` the Lease's renewal: a lost Lease cancels
// run() from outside while actions run, and apply() destroys the driver as
// soon as run() returns. run() must therefore return only once the groups it
// started have ended; one finishing later resumed into the freed driver.
BOOST_AUTO_TEST_CASE(cancelled_from_outside_it_returns_once_its_actions_ended) {
  using namespace asio::experimental::awaitable_operators;
  Harness h;
  asio::steady_timer lease_lost(h.io, std::chrono::steady_clock::time_point::max());
  h.executor.hang = [&](const migrate::Action& a) {
    if (!std::holds_alternative<migrate::EvictPod>(a.kind))
      return false;
    // The "Lease" ends while this eviction runs. An expiry, not cancel():
    // the fake runs actions inline, so this may come before the wait starts.
    lease_lost.expires_at(std::chrono::steady_clock::now());
    return true;
  };
  std::optional<std::size_t> index;
  std::size_t started = 0;
  std::size_t ended = 0;
  std::size_t in_flight = 0;
  auto apply = [&]() -> asio::awaitable<void> {
    constexpr auto token = asio::as_tuple(asio::use_awaitable);
    auto outcome = co_await (h.driver->run() || lease_lost.async_wait(token));
    // What apply() sees before it destroys the driver.
    index = outcome.index();
    started = h.executor.hangs_started;
    ended = h.executor.hangs_ended;
    in_flight = h.driver->record().in_flight.size();
  };
  asio::co_spawn(h.io, apply, [&](std::exception_ptr e) {
    if (e)
      std::rethrow_exception(e);
    h.io.stop();
  });
  h.io.run_for(60s);
  BOOST_TEST_REQUIRE(index.has_value(), "the outside wait did not end the run");
  BOOST_TEST(*index == 1u);
  BOOST_TEST(started > 0u);
  BOOST_TEST(ended == started);
  BOOST_TEST(in_flight == 0u);
}

// What the driver reports, checked at every report against the first
// algorithm (a fresh index of the cluster, walked node by node): the
// node.phase events so far show every node's phase, and the progress line
// counts the done and selected nodes and lists those in flight, in name
// order. The driver reads only the phases that changed and the index's
// sets by phase; this fails if either misses a node.
void check_reports_against_a_walk(const std::set<std::string>& nodes) {
  Harness h(4);
  agent::DriverSettings d;
  d.migration = h.settings;
  d.max_parallel_nodes = 1;
  d.selection.nodes = nodes;
  std::map<std::string, std::string> mirrored;  // node -> phase, from node.phase events
  h.sink.on_event = [&](const events::Event& e) {
    if (e.name() == "node.phase")
      mirrored[std::string(e.fields().at("node").as_string())] =
          std::string(e.fields().at("phase").as_string());
  };
  std::size_t reports = 0;
  std::size_t in_flight_seen = 0;
  agent::ProgressHooks hooks;
  hooks.status = [&](const std::string& status) {
    ++reports;
    migrate::NodeIndex fresh;
    fresh.refresh(h.cluster.snapshot(), h.settings);
    for (const auto& [node, phase] : fresh.phases()) {
      BOOST_TEST((mirrored.contains(node) && mirrored.at(node) == migrate::to_string(phase)),
                 node << " at report " << reports);
    }
    const auto close = status.find("] ");
    BOOST_TEST_REQUIRE(close != std::string::npos, status);
    const auto step = status.substr(1, close - 1);
    std::optional<migrate::NodePhase> target;
    for (auto s : migrate::kAllSteps) {
      if (migrate::to_string(s) == step)
        target = migrate::done_phase(s);
    }
    std::size_t done = 0;
    std::size_t total = 0;
    std::string flying;
    for (const auto& [node, phase] : fresh.phases()) {
      if (!d.selection.includes_node(node))
        continue;
      ++total;
      if (target && static_cast<int>(phase) >= static_cast<int>(*target))
        ++done;
      if (!migrate::at_safe_point(phase)) {
        flying +=
            (flying.empty() ? "" : ", ") + node + " " + std::string(migrate::to_string(phase));
        ++in_flight_seen;
      }
    }
    const auto expected = std::to_string(done) + "/" + std::to_string(total) + " nodes" +
                          (flying.empty() ? "" : " | " + flying) + " | ";
    BOOST_TEST(status.compare(close + 2, expected.size(), expected) == 0,
               status << " (expected " << expected << ")");
  };
  h.driver.emplace(h.cluster, h.executor, h.clock, d, h.sink, hooks);
  h.run();
  BOOST_TEST(reports > 10u);
  BOOST_TEST(in_flight_seen > 0u);
}

BOOST_AUTO_TEST_CASE(phase_events_and_progress_match_a_walk_of_every_node) {
  check_reports_against_a_walk({});
}

BOOST_AUTO_TEST_CASE(progress_of_a_node_selection_matches_a_walk_of_every_node) {
  Harness probe(4);
  std::set<std::string> two;
  for (const auto& [name, node] : probe.cluster.snapshot().nodes) {
    if (two.size() < 2)
      two.insert(name);
  }
  check_reports_against_a_walk(two);
}

BOOST_AUTO_TEST_SUITE_END()
