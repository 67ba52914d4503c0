#pragma once
// What the Cilium release the agent applies needs from the cluster: the
// Kubernetes minors it supports and the oldest Linux kernel it runs on. Known
// releases come from a table of Cilium's own system requirements and
// Kubernetes compatibility pages; any other release needs the configuration's
// `ciliumRequirements:` (src/migrate/README.md, "Preflight").

#include <optional>
#include <string>
#include <string_view>

#include "cnimig/common/result.hpp"
#include "cnimig/config/config.hpp"

namespace cnimig::migrate {

struct CiliumRequirements {
  std::string version = "1.18.9";      // the release, as its image tag names it
  unsigned kubernetes_min_minor = 30;  // Kubernetes 1.30 ...
  unsigned kubernetes_max_minor = 33;  // ... to 1.33, e2e tested
  unsigned kernel_major = 5;           // Linux >= 5.10
  unsigned kernel_minor = 10;
};

// The release in a Cilium image reference: "repo/cilium:v1.18.9" or
// "repo/cilium:v1.19.0-rc.1@sha256:..." -> "1.18.9" / "1.19.0-rc.1"; nullopt
// when the tag is no vM.N release (a digest alone, "latest", a branch build).
std::optional<std::string> cilium_release(std::string_view image);

// The minor of a release ("1.18.9" -> 18); nullopt unless it starts with
// "1.<digits>".
std::optional<unsigned> cilium_minor(std::string_view release);

// The table's requirements for `release` ("1.18.9"), by its minor; nullopt
// for a release the table does not list.
std::optional<CiliumRequirements> known_cilium_requirements(std::string_view release);

// The requirements preflight judges the cluster by: the configuration's
// `ciliumRequirements` when set, else the table's for the release of
// `image`. The error says which image could not be judged and what to set.
Result<CiliumRequirements> cilium_requirements(
    std::string_view image, const std::optional<config::CiliumRequirements>& configured);

}  // namespace cnimig::migrate
