#include "cnimig/config/strategy.hpp"

namespace cnimig::config {

std::string_view to_string(Strategy strategy) noexcept {
  switch (strategy) {
    case Strategy::multus:
      return "multus";
    case Strategy::cilium_native:
      return "cilium-native";
  }
  return "unknown";
}

std::optional<Strategy> parse_strategy(std::string_view text) noexcept {
  for (Strategy s : {Strategy::multus, Strategy::cilium_native}) {
    if (text == to_string(s))
      return s;
  }
  return std::nullopt;
}

bool has_step(Strategy strategy, Step step) noexcept {
  return strategy == Strategy::multus || (step != Step::roll && step != Step::priority);
}

std::string steps_refusal(Strategy strategy, StepRange steps) {
  for (Step end : {steps.first, steps.last}) {
    if (!has_step(strategy, end)) {
      return "--steps " + std::string(to_string(end)) + ": strategy " +
             std::string(to_string(strategy)) + " has no " + std::string(to_string(end)) +
             " step (its steps: preflight, prepare, migrate, cleanup)";
    }
  }
  return {};
}

}  // namespace cnimig::config
