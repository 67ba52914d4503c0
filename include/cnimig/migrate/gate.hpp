#pragma once
// What a wait waits for (src/migrate/README.md "Gates, budget and failures")
// is config's Gate: the core names it, the driver gives it its timeout
// (config::Timeouts::for_gate) and `timeouts.gates` spells it the same way.

#include "cnimig/config/gate.hpp"

namespace cnimig::migrate {

using config::Gate;
using config::kAllGates;
using config::parse_gate;
using config::to_string;

}  // namespace cnimig::migrate
