#include "cnimig/agent/migration_inputs.hpp"

#include "cnimig/agent/cilium_native_bundle.hpp"

namespace cnimig::agent {
namespace {

migrate::ResourceSet to_resource_set(const config::ResourceSet& in) {
  migrate::ResourceSet out;
  for (const auto& [ns, names] : in.daemonsets)
    out[migrate::kDaemonSet][ns] = names;
  for (const auto& [ns, names] : in.deployments)
    out[migrate::kDeployment][ns] = names;
  for (const auto& [ns, names] : in.statefulsets)
    out[migrate::kStatefulSet][ns] = names;
  return out;
}

}  // namespace

migrate::MigrationSettings migration_settings(const config::Config& c) {
  auto s = migrate::MigrationSettings::defaults();
  s.strategy = c.strategy;
  s.labels = c.labels;
  s.source_cni = {migrate::kDaemonSet, c.source_cni.namespace_, c.source_cni.daemonset};
  s.knet_stress_namespace = c.connectivity.namespace_;
  s.knet_stress_daemon_sets = c.connectivity.daemonsets;
  s.preflight_resources = to_resource_set(c.preflight_resources);
  s.watched_resources = to_resource_set(c.watched_resources);
  s.cleanup_resources = to_resource_set(c.cleanup_resources);
  s.delete_unmanaged_pods = c.drain.delete_unmanaged_pods;
  s.delete_empty_dir_data = c.drain.delete_empty_dir_data;
  s.remove_node_leftovers = c.cleanup.node_leftovers;
  s.hold_before_cleanup = c.cleanup.hold;
  s.check_sample_nodes = c.connectivity.sample_nodes;
  return s;
}

std::set<migrate::ObjectRef> workloads_of_interest(
    const migrate::MigrationSettings& s, const std::map<std::string, ManifestBundle>& bundles) {
  std::set<migrate::ObjectRef> out;
  for (const auto* set : {&s.preflight_resources, &s.watched_resources, &s.cleanup_resources}) {
    for (auto& ref : migrate::flatten(*set))
      out.insert(ref);
  }
  out.insert(s.source_cni);
  for (auto ref : {s.cilium(), s.cilium_migrated(), s.multus_calico(), s.multus_cilium()})
    out.insert(ref);
  for (auto& ref : s.knet_stress())
    out.insert(ref);
  for (const auto& [id, bundle] : bundles) {
    for (const auto& o : bundle.objects()) {
      if (o.info.group == "apps")
        out.insert({o.kind, o.namespace_, o.name});
    }
  }
  return out;
}

void detect_applied_bundles(migrate::ClusterSnapshot& snap,
                            const std::map<std::string, ManifestBundle>& bundles,
                            const std::set<std::string>& present) {
  snap.applied_bundles.clear();
  for (const auto& [id, bundle] : bundles) {
    bool all = true;
    bool workloads = false;
    for (const auto& o : bundle.objects()) {
      if (o.info.group != "apps")
        continue;
      workloads = true;
      if (!snap.exists({o.kind, o.namespace_, o.name}))
        all = false;
    }
    if (workloads ? all : present.contains(id))
      snap.applied_bundles.insert(id);
  }
}

migrate::MigrationSettings migration_settings(
    const config::Config& c, const std::map<std::string, ManifestBundle>& bundles) {
  auto s = migration_settings(c);
  if (auto it = bundles.find(s.bundles.cilium_native); it != bundles.end()) {
    if (auto cidr = cilium_pool_cidr(it->second); !cidr.empty())
      s.cilium_pod_cidr = std::move(cidr);
  }
  return s;
}

}  // namespace cnimig::agent
