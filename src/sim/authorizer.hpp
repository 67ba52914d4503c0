#pragma once
// Who may do what on cnimig-sim's API. Its one bearer token is a cluster
// admin: everything is allowed except what the fault spec's `forbidden`
// rules deny, for as long as each lasts. Requests and SelfSubjectAccessReviews
// ask the same rules, so a review tells the truth about the request, as RBAC's
// does. The version the server claims decides how a WebSocket pod exec is
// authorized, as kube-apiserver's does.

#include <chrono>
#include <string>
#include <string_view>
#include <vector>

#include "cnimig/common/error.hpp"
#include "cnimig/sim/fault_spec.hpp"

namespace cnimig::sim {

// What one request asks for, as RBAC sees it.
struct AccessRequest {
  std::string verb;
  std::string group;  // "" for the core group
  std::string resource;
  std::string subresource;
  std::string ns;
  std::string name;
};

class Authorizer {
 public:
  using Clock = std::chrono::steady_clock;

  // The rules of a new fault spec, in force from `since`.
  void set_rules(std::vector<ForbiddenRule> rules, Clock::time_point since);
  // The rule in force that refuses `request`, or null when it may go ahead.
  const ForbiddenRule* refusal(const AccessRequest& request, Clock::time_point now) const;
  // What a SelfSubjectAccessReview answers: RBAC's view, blind to admission.
  bool review_allows(const AccessRequest& request, Clock::time_point now) const;

  // The Kubernetes release served (GET /version), MAJOR.MINOR.
  void set_version(int major, int minor) {
    major_ = major;
    minor_ = minor;
  }
  int major() const noexcept { return major_; }
  int minor() const noexcept { return minor_; }
  // The verbs a WebSocket exec (an HTTP GET upgrade) is authorized as: `get
  // pods/exec`, and from 1.35 also `create` (the
  // AuthorizePodWebsocketUpgradeCreatePermission feature gate, beta and on
  // by default from 1.35; kubernetes/kubernetes#133515).
  std::vector<std::string> websocket_exec_verbs() const;

 private:
  std::vector<ForbiddenRule> rules_;
  Clock::time_point since_{};
  int major_ = 1;
  int minor_ = 32;
};

// kube-apiserver's 403 for `request`, worded as its RBAC authorizer words it
//   nodes is forbidden: User "cnimig-sim-admin" cannot list resource "nodes"
//   in API group "" at the cluster scope
// or, for an admission rule, as a webhook's refusal is:
//   admission webhook "deny.cnimig-sim.io" denied the request: ...
Error forbidden_error(const AccessRequest& request, const ForbiddenRule& rule);

}  // namespace cnimig::sim
