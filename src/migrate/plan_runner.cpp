// The plan runner: the core and the effects model in turn, a slice of
// rounds at a time, until Halt or Done.

#include <algorithm>

#include "cnimig/migrate/planner.hpp"
#include "cnimig/migrate/simulated_effects.hpp"

#include "simulated_tracker.hpp"

namespace cnimig::migrate {

PlanRunner::PlanRunner(PlanState snapshot, const MigrationSettings& settings, const Budget& budget,
                       const Selection& selection, const SimulatedEffects& effects,
                       std::size_t max_rounds, const PlanObserver& observer)
    : snapshot_(std::move(snapshot)),
      settings_(settings),
      budget_(budget),
      selection_(selection),
      effects_(effects),
      max_rounds_(max_rounds),
      observer_(observer),
      tracker_(std::make_unique<SimulatedEffects::Tracker>(snapshot_)) {}

PlanRunner::~PlanRunner() = default;

bool PlanRunner::advance(std::size_t rounds) {
  for (std::size_t i = 0; i < rounds && !ended_; ++i) {
    if (run_.rounds >= max_rounds_) {
      ended_ = true;
      break;
    }
    ++run_.rounds;
    // The index catches up on the nodes the last round's actions touched.
    Decision d = next_actions(nodes_, snapshot_.cluster(), snapshot_.record(), settings_, budget_,
                              selection_);
    if (d.halted() || d.finished()) {
      --run_.rounds;  // counted as run_plan always has: the deciding round is not one
      run_.outcome = d.end();
      ended_ = true;
      break;
    }
    if (d.actions().empty() && !d.waits.empty() &&
        std::all_of(d.waits.begin(), d.waits.end(), [](const Action& w) {
          return std::get<WaitFor>(w.kind).gate == Gate::cut_off;
        })) {
      // Only time passing ends this wait: let the model's clock tick.
      snapshot_.now += 1;
      continue;
    }
    if (d.actions().empty()) {
      // Effects are immediate here, so a wait would never end.
      std::string what;
      for (const auto& w : d.waits)
        what += (what.empty() ? "" : "; ") + describe(w);
      --run_.rounds;
      run_.outcome =
          Halt{d.current_step.value_or(StepId::preflight), "plan cannot proceed: " + what};
      ended_ = true;
      break;
    }
    for (const auto& a : d.actions()) {
      effects_.apply(snapshot_, a, *tracker_);
      run_.actions.push_back(a);
      if (observer_)
        observer_(snapshot_, a);
    }
    nodes_.touch(tracker_->take_changed());
  }
  return ended_;
}

PlanRun PlanRunner::finish() {
  tracker_.reset();  // it points into the snapshot
  run_.final_snapshot = std::move(snapshot_);
  return std::move(run_);
}

PlanRun run_plan(PlanState snapshot, const MigrationSettings& settings, const Budget& budget,
                 const Selection& selection, const SimulatedEffects& effects,
                 std::size_t max_rounds, const PlanObserver& observer) {
  PlanRunner runner(std::move(snapshot), settings, budget, selection, effects, max_rounds,
                    observer);
  while (!runner.advance(max_rounds)) {
  }
  return runner.finish();
}

Decision next_actions(const PlanState& state, const MigrationSettings& settings,
                      const Budget& budget, const Selection& selection) {
  return next_actions(state.cluster(), state.record(), settings, budget, selection);
}

bool step_done(StepId step, const PlanState& state, const MigrationSettings& settings) {
  return step_done(step, state.cluster(), state.record(), settings);
}

}  // namespace cnimig::migrate
