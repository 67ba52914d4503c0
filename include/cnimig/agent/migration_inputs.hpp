#pragma once
// What the core is given, derived from the config and the manifest bundles:
// shared by the agent's run and by test-only drivers (the polling baseline of
// test/bench) so they decide exactly as the agent does.

#include <map>
#include <set>
#include <string>

#include "cnimig/agent/manifest_bundle.hpp"
#include "cnimig/config/config.hpp"
#include "cnimig/migrate/cluster_snapshot.hpp"
#include "cnimig/migrate/migration_settings.hpp"

namespace cnimig::agent {

migrate::MigrationSettings migration_settings(const config::Config& c);
// The same with what the bundles decide: cilium-native's pod CIDR (the
// cluster pool in its cilium-config).
migrate::MigrationSettings migration_settings(const config::Config& c,
                                              const std::map<std::string, ManifestBundle>& bundles);

// Every workload the core reads: the configured sets, the CNI DaemonSets and
// the bundles' own workloads (a bundle counts as applied when they exist).
std::set<migrate::ObjectRef> workloads_of_interest(
    const migrate::MigrationSettings& s, const std::map<std::string, ManifestBundle>& bundles);

// A bundle is applied when every workload it defines exists; one without
// workloads (cilium-native's CiliumNodeConfig) when `present` names it (the
// cache learns it from preflight's read and from the run's own writes).
void detect_applied_bundles(migrate::ClusterSnapshot& snap,
                            const std::map<std::string, ManifestBundle>& bundles,
                            const std::set<std::string>& present = {});

}  // namespace cnimig::agent
