#include "cnimig/config/step.hpp"

#include <charconv>

namespace cnimig::config {

std::string_view to_string(Step step) noexcept {
  switch (step) {
    case Step::preflight:
      return "preflight";
    case Step::prepare:
      return "prepare";
    case Step::roll:
      return "roll";
    case Step::priority:
      return "priority";
    case Step::migrate:
      return "migrate";
    case Step::cleanup:
      return "cleanup";
  }
  return "unknown";
}

std::optional<Step> parse_step(std::string_view text) noexcept {
  for (Step s : kAllSteps) {
    if (text == to_string(s))
      return s;
  }
  int number = -1;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), number);
  if (ec != std::errc{} || end != text.data() + text.size())
    return std::nullopt;
  if (number < 0 || number >= static_cast<int>(kAllSteps.size()))
    return std::nullopt;
  return static_cast<Step>(number);
}

std::optional<StepRange> parse_step_range(std::string_view text) noexcept {
  const auto dash = text.find('-');
  if (dash == std::string_view::npos) {
    auto step = parse_step(text);
    if (!step)
      return std::nullopt;
    return StepRange{*step, *step};
  }
  auto first = parse_step(text.substr(0, dash));
  auto last = parse_step(text.substr(dash + 1));
  if (!first || !last || static_cast<int>(*first) > static_cast<int>(*last))
    return std::nullopt;
  return StepRange{*first, *last};
}

}  // namespace cnimig::config
