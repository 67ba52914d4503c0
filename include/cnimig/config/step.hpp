#pragma once
// The migration's steps, in order (src/migrate/README.md). Used by `--steps`,
// the engine and the event stream, so the names live in one place.

#include <array>
#include <optional>
#include <string_view>

namespace cnimig::config {

enum class Step { preflight = 0, prepare = 1, roll = 2, priority = 3, migrate = 4, cleanup = 5 };

inline constexpr std::array<Step, 6> kAllSteps = {Step::preflight, Step::prepare, Step::roll,
                                                  Step::priority,  Step::migrate, Step::cleanup};

std::string_view to_string(Step step) noexcept;

// Accepts a step's name ("roll") or its number ("2").
std::optional<Step> parse_step(std::string_view text) noexcept;

// An inclusive range of steps; `--steps 2-4`, `--steps migrate`, `--steps roll-cleanup`.
struct StepRange {
  Step first = Step::preflight;
  Step last = Step::cleanup;

  bool contains(Step s) const noexcept {
    return static_cast<int>(s) >= static_cast<int>(first) &&
           static_cast<int>(s) <= static_cast<int>(last);
  }
  friend bool operator==(const StepRange&, const StepRange&) = default;
};

std::optional<StepRange> parse_step_range(std::string_view text) noexcept;

}  // namespace cnimig::config
