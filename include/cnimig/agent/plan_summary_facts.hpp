#pragma once
// What the plan summary reads from the cluster before planning: nodes an
// administrator cordoned and pods no controller re-creates (from the
// snapshot the plan starts from), and PodDisruptionBudgets that allow no
// disruption now (listed once: the watches do not follow them).

#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/json/object.hpp>

#include "cnimig/agent/plan_summary.hpp"
#include "cnimig/kube/client.hpp"

namespace cnimig::agent {

PlanFacts plan_facts(const migrate::ClusterSnapshot& snapshot,
                     const migrate::MigrationSettings& settings);

// A warning when the PodDisruptionBudget allows no disruption now (its
// status.disruptionsAllowed is 0 while it covers pods): a drain of a node
// running one of its pods waits for it up to timeouts.drain, then halts.
std::optional<std::string> pdb_warning(const boost::json::object& pdb);

// pdb_warning over every PodDisruptionBudget of the cluster; a failed list is
// itself a warning (the plan is still worth reading).
boost::asio::awaitable<std::vector<std::string>> pdb_warnings(kube::Client& client);

}  // namespace cnimig::agent
