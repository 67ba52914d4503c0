#pragma once
// The migration's steps in order (DESIGN.md section 1). The numbering matches
// cnimig::config::Step so the driver maps one onto the other with a cast; this
// module does not include config (it depends on nothing that does I/O or parsing).

#include <array>
#include <string_view>

#include "cnimig/common/result.hpp"

namespace cnimig::migrate {

enum class StepId : int {
  preflight = 0,
  prepare = 1,
  roll = 2,
  priority = 3,
  migrate = 4,
  cleanup = 5
};

inline constexpr std::array<StepId, 6> kAllSteps = {StepId::preflight, StepId::prepare,
                                                    StepId::roll,      StepId::priority,
                                                    StepId::migrate,   StepId::cleanup};

std::string_view to_string(StepId step) noexcept;

// A step's name ("roll") or number ("2").
Result<StepId> parse_step(std::string_view text);

}  // namespace cnimig::migrate
