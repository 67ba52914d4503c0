#pragma once
// multus's delegates for the configured source CNI. The multus bundle's
// ConfigMap kube-system/multus-daemon-config holds, under `source-<file>`, the
// conflist each source CNI installs on its nodes (source-10-canal.conflist,
// source-10-calico.conflist, source-10-flannel.conflist); before the bundle is
// applied, the one named by sourceCNI.cniConfig becomes the source network's
// delegate in calico-primary.conflist (primary), cilium-primary.conflist and
// source-sbr.conflist (attached, chained with sbr). Without this, multus would
// delegate to a CNI that does not run on the nodes (Canal's config on a
// Calico or Flannel cluster) and no pod would start beside it.

#include <string>

#include "cnimig/agent/manifest_bundle.hpp"
#include "cnimig/common/result.hpp"

namespace cnimig::agent {

inline constexpr const char* kMultusConfigMap = "multus-daemon-config";

// Rewrites the multus bundle's conflists for `cni_config` ("10-calico.conflist");
// an error naming `source` (the bundle's file) and the missing key when the
// bundle carries no conflist for it.
Result<void> select_multus_delegate(ManifestBundle& multus, const std::string& cni_config,
                                    const std::string& source);

}  // namespace cnimig::agent
