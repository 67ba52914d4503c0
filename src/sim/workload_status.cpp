#include "workload_status.hpp"

#include <algorithm>

#include "controller_context.hpp"
#include "json_fields.hpp"

namespace cnimig::sim {

namespace json = boost::json;
using namespace fields;

json::object pdb_status(const json::object& pdb, const PdbCounts& counts, bool blocked) {
  const auto* s = spec(pdb);
  std::int64_t desired = 0;
  if (s && s->contains("minAvailable"))
    desired = int_or_percent(s->if_contains("minAvailable"), counts.expected_pods, 0, true);
  else if (s && s->contains("maxUnavailable"))
    desired = std::max<std::int64_t>(
        0, counts.expected_pods -
               int_or_percent(s->if_contains("maxUnavailable"), counts.expected_pods, 0, true));
  else
    desired = counts.expected_pods;  // neither: no disruption allowed beyond... (API requires one)
  const auto allowed = blocked ? 0 : std::max<std::int64_t>(0, counts.current_healthy - desired);
  json::object st{{"observedGeneration", generation_of(pdb)},
                  {"expectedPods", counts.expected_pods},
                  {"currentHealthy", counts.current_healthy},
                  {"desiredHealthy", desired},
                  {"disruptionsAllowed", allowed}};
  const bool ok = allowed > 0;
  st["conditions"] =
      json::array{json::object{{"type", "DisruptionAllowed"},
                               {"status", ok ? "True" : "False"},
                               {"reason", ok ? "SufficientPods" : "InsufficientPods"},
                               {"message", ""},
                               {"observedGeneration", generation_of(pdb)},
                               {"lastTransitionTime", rfc3339_now()}}};
  // Keep the transition time while the condition holds (no write churn).
  if (const auto* old = arr(status(pdb), "conditions"))
    for (const auto& c : *old)
      if (c.is_object() && str(&c.get_object(), "type") == "DisruptionAllowed" &&
          str(&c.get_object(), "status") == (ok ? "True" : "False"))
        if (const auto* t = c.get_object().if_contains("lastTransitionTime"))
          st["conditions"].as_array()[0].as_object()["lastTransitionTime"] = *t;
  return st;
}

}  // namespace cnimig::sim
