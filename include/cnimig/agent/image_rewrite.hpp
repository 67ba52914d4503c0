#pragma once
// The configuration's `images:` applied to manifest bundles: a container
// (or init container) of a workload whose image has a shipped image's
// repository gets the configured reference instead, so a cluster that pulls
// through a private registry runs the same manifests.

#include <map>
#include <string>

#include <boost/json/object.hpp>

#include "cnimig/config/config.hpp"

namespace cnimig::agent {

struct ImageRewrite {
  std::map<std::string, std::string> by_repository;  // shipped repository -> configured image

  // Only the images the configuration changes.
  static ImageRewrite from(const config::Images& configured);
  // Rewrites spec.template.spec's containers and initContainers of `object`.
  void apply(boost::json::object& object) const;
};

}  // namespace cnimig::agent
