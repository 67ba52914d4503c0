// Facts for the plan summary, read before the plan runs.

#include "cnimig/agent/plan_summary_facts.hpp"

namespace cnimig::agent {
namespace {

namespace json = boost::json;

std::int64_t status_int(const json::object& pdb, std::string_view key) {
  const auto* status = pdb.if_contains("status");
  if (status == nullptr || !status->is_object())
    return -1;
  const auto* v = status->get_object().if_contains(key);
  return v != nullptr && v->is_int64() ? v->get_int64() : -1;
}

std::string metadata_string(const json::object& o, std::string_view key) {
  const auto* meta = o.if_contains("metadata");
  if (meta == nullptr || !meta->is_object())
    return {};
  const auto* v = meta->get_object().if_contains(key);
  return v != nullptr && v->is_string() ? std::string(v->get_string()) : std::string();
}

// An administrator's cordon: unschedulable with no step of ours in flight on
// it, or recorded as such when a step started (src/migrate/README.md
// "Annotations").
bool cordoned_by_administrator(const migrate::NodeState& node,
                               const migrate::MigrationSettings& s) {
  if (!node.unschedulable)
    return false;
  if (const auto* was =
          s.find_annotation(node.annotations, migrate::annotation_names::kWasCordoned))
    return *was == "true";
  for (auto step : {migrate::annotation_names::kRoll, migrate::annotation_names::kPriority,
                    migrate::annotation_names::kMigrate}) {
    if (s.find_annotation(node.annotations, step) != nullptr)
      return false;
  }
  return true;
}

}  // namespace

PlanFacts plan_facts(const migrate::ClusterSnapshot& snapshot,
                     const migrate::MigrationSettings& settings) {
  PlanFacts facts;
  for (const auto& [name, node] : snapshot.nodes) {
    if (cordoned_by_administrator(node, settings))
      facts.cordoned_by_administrator.push_back(name);
    for (const auto& pod : node.pods) {
      // A mirror pod belongs to its kubelet, which the migration never evicts.
      if (pod.unmanaged() && !pod.uid.empty())
        facts.unmanaged_pods.emplace(pod.uid, pod.ns + "/" + pod.name);
    }
  }
  return facts;
}

std::optional<std::string> pdb_warning(const json::object& pdb) {
  const auto allowed = status_int(pdb, "disruptionsAllowed");
  const auto expected = status_int(pdb, "expectedPods");
  if (allowed != 0 || expected == 0)
    return std::nullopt;
  return "PodDisruptionBudget " + metadata_string(pdb, "namespace") + "/" +
         metadata_string(pdb, "name") +
         " allows no disruption now: draining a node that runs one of its pods waits up to "
         "timeouts.drain, then halts";
}

boost::asio::awaitable<std::vector<std::string>> pdb_warnings(kube::Client& client) {
  std::vector<std::string> warnings;
  const auto path = kube::ResourcePath::of("policy", "v1", "poddisruptionbudgets");
  auto pdbs = co_await client.list(path, kube::ListOptions());
  if (!pdbs) {
    warnings.push_back("could not list PodDisruptionBudgets (" + pdbs.error().describe() +
                       "): a budget that allows no disruption would hold a drain");
    co_return warnings;
  }
  for (const auto& pdb : pdbs->items) {
    if (auto w = pdb_warning(pdb))
      warnings.push_back(std::move(*w));
  }
  co_return warnings;
}

}  // namespace cnimig::agent
