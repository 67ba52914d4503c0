#pragma once
// The migration's steps in order (src/migrate/README.md) are config's: `--steps`,
// the event stream and the core name them the same way. config's step header
// is pure (no I/O, no parsing library), so the core may use it.

#include "cnimig/config/step.hpp"

namespace cnimig::migrate {

using StepId = config::Step;
using config::kAllSteps;
using config::to_string;

}  // namespace cnimig::migrate
