#pragma once
// Cilium's operator, as far as the migration meets it: once a pod of the
// Deployment kube-system/cilium-operator is Ready, it registers the
// CustomResourceDefinition ciliumnodeconfigs.cilium.io (cilium-operator
// creates or updates Cilium's CRDs at start, `--skip-crd-creation` unset), so
// a CiliumNodeConfig can be created only after the operator runs. The served
// versions follow the operator image's tag, as Cilium's releases ship them:
// v2alpha1 only below 1.16; v2 (storage) beside v2alpha1 from 1.16 to 1.19;
// v2 only from 1.20 (v2alpha1 removed).

#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include <boost/json/object.hpp>

#include "controller_context.hpp"

namespace cnimig::sim {

inline constexpr std::string_view node_config_crd_name = "ciliumnodeconfigs.cilium.io";

// The CiliumNodeConfig versions an operator image serves, storage first
// ("quay.io/cilium/operator-generic:v1.18.9@sha256:..." -> {v2, v2alpha1}). A
// tag that names no release (latest, a digest only) counts as the newest
// release this model knows, 1.18.
std::vector<std::string> node_config_versions(std::string_view image);

// The CustomResourceDefinition the operator registers for those versions.
boost::json::object node_config_crd(const std::vector<std::string>& versions);

class CiliumOperator {
 public:
  explicit CiliumOperator(ControllerContext& ctx) : ctx_(ctx) {}
  void observe(const Change& change);
  bool pending() const { return pending_; }
  void reconcile();

 private:
  // The image of a Ready pod of Deployment kube-system/cilium-operator.
  std::optional<std::string> ready_operator_image();

  ControllerContext& ctx_;
  bool pending_ = false;
  std::set<std::string> candidates_;  // keys of the operator's pods
};

}  // namespace cnimig::sim
