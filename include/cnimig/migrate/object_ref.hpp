#pragma once
// A namespaced Kubernetes object by kind ("DaemonSet", "Deployment", ...).

#include <compare>
#include <string>

namespace cnimig::migrate {

inline constexpr const char* kDaemonSet = "DaemonSet";
inline constexpr const char* kDeployment = "Deployment";
inline constexpr const char* kStatefulSet = "StatefulSet";

struct ObjectRef {
  std::string kind;
  std::string ns;
  std::string name;

  friend auto operator<=>(const ObjectRef&, const ObjectRef&) = default;
  friend bool operator==(const ObjectRef&, const ObjectRef&) = default;
  // "DaemonSet kube-system/cilium"
  std::string describe() const { return kind + " " + ns + "/" + name; }
};

}  // namespace cnimig::migrate
