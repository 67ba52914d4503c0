// The default settings and resource-set helpers.

#include "cnimig/migrate/migration_settings.hpp"

namespace cnimig::migrate {

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
