// Plain-value helpers: step names, --steps ranges, the unavailability budget
// and the default settings.

#include <charconv>
#include <string>

#include "cnimig/migrate/budget.hpp"
#include "cnimig/migrate/migration_settings.hpp"
#include "cnimig/migrate/selection.hpp"
#include "cnimig/migrate/step_id.hpp"

namespace cnimig::migrate {

std::string_view to_string(StepId step) noexcept {
  switch (step) {
    case StepId::preflight:
      return "preflight";
    case StepId::prepare:
      return "prepare";
    case StepId::roll:
      return "roll";
    case StepId::priority:
      return "priority";
    case StepId::migrate:
      return "migrate";
    case StepId::cleanup:
      return "cleanup";
  }
  return "unknown";
}

Result<StepId> parse_step(std::string_view text) {
  for (StepId step : kAllSteps) {
    if (text == to_string(step) ||
        (text.size() == 1 && text[0] == static_cast<char>('0' + static_cast<int>(step)))) {
      return step;
    }
  }
  return make_error(Errc::invalid_argument, "unknown step '" + std::string(text) +
                                                "' (expected 0-5 or preflight, prepare, roll, "
                                                "priority, migrate, cleanup)");
}

Result<Selection> parse_step_range(std::string_view text) {
  Selection selection;
  auto dash = text.find('-');
  if (dash == std::string_view::npos) {
    auto step = parse_step(text);
    if (!step)
      return step.error();
    selection.first = selection.last = *step;
    return selection;
  }
  auto first = parse_step(text.substr(0, dash));
  if (!first)
    return first.error();
  auto last = parse_step(text.substr(dash + 1));
  if (!last)
    return last.error();
  if (static_cast<int>(*first) > static_cast<int>(*last)) {
    return make_error(Errc::invalid_argument,
                      "step range '" + std::string(text) + "' runs backwards");
  }
  selection.first = *first;
  selection.last = *last;
  return selection;
}

Result<std::size_t> resolve_max_unavailable(std::string_view spec, std::size_t node_count) {
  bool percent = !spec.empty() && spec.back() == '%';
  std::string_view digits = percent ? spec.substr(0, spec.size() - 1) : spec;
  std::size_t value = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(), value);
  if (digits.empty() || ec != std::errc{} || ptr != digits.data() + digits.size()) {
    return make_error(Errc::invalid_argument, "--max-unavailable '" + std::string(spec) +
                                                  "' is neither a count nor a percentage");
  }
  if (!percent) {
    if (value == 0) {
      return make_error(Errc::invalid_argument, "--max-unavailable must be at least 1");
    }
    return value;
  }
  if (value == 0 || value > 100) {
    return make_error(Errc::invalid_argument,
                      "--max-unavailable percentage must be within 1%..100%");
  }
  std::size_t count = node_count * value / 100;  // rounds down
  return count == 0 ? std::size_t{1} : count;
}

std::vector<ObjectRef> flatten(const ResourceSet& set) {
  std::vector<ObjectRef> refs;
  for (const auto& [kind, namespaces] : set) {
    for (const auto& [ns, names] : namespaces) {
      for (const auto& name : names)
        refs.push_back(ObjectRef{kind, ns, name});
    }
  }
  return refs;
}

std::vector<ObjectRef> MigrationSettings::knet_stress() const {
  std::vector<ObjectRef> refs;
  for (const auto& name : knet_stress_daemon_sets) {
    refs.push_back(ObjectRef{kDaemonSet, knet_stress_namespace, name});
  }
  return refs;
}

MigrationSettings MigrationSettings::defaults() {
  MigrationSettings s;
  s.preflight_resources[kDaemonSet]["knet-stress"] = {"knet-stress", "knet-stress-2"};
  s.watched_resources[kDaemonSet]["kube-system"] = {"canal", "cilium", "cilium-migrated",
                                                    "kube-multus-calico", "kube-multus-cilium"};
  s.watched_resources[kDaemonSet]["knet-stress"] = {"knet-stress", "knet-stress-2"};
  s.cleanup_resources[kDaemonSet]["kube-system"] = {"canal", "cilium", "kube-multus-calico",
                                                    "kube-multus-cilium"};
  return s;
}

}  // namespace cnimig::migrate
