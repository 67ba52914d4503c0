#include "authorizer.hpp"

namespace cnimig::sim {
namespace {

// The user cnimig-sim's bearer token authenticates as.
constexpr const char* kUser = "cnimig-sim-admin";

bool matches(const ForbiddenRule& rule, const AccessRequest& r) {
  if (rule.verb != "*" && rule.verb != r.verb)
    return false;
  if (rule.resource == "*")
    return true;
  // "leases" or "leases.coordination.k8s.io", each with an optional "/sub".
  const auto sub = r.subresource.empty() ? std::string() : "/" + r.subresource;
  return rule.resource == r.resource + sub ||
         (!r.group.empty() && rule.resource == r.resource + "." + r.group + sub);
}

}  // namespace

void Authorizer::set_rules(std::vector<ForbiddenRule> rules, Clock::time_point since) {
  rules_ = std::move(rules);
  since_ = since;
}

const ForbiddenRule* Authorizer::refusal(const AccessRequest& request,
                                         Clock::time_point now) const {
  for (const auto& rule : rules_) {
    if (rule.duration.count() > 0 && now >= since_ + rule.duration)
      continue;  // that window has passed
    if (matches(rule, request))
      return &rule;
  }
  return nullptr;
}

bool Authorizer::review_allows(const AccessRequest& request, Clock::time_point now) const {
  for (const auto& rule : rules_) {
    if (rule.admission || (rule.duration.count() > 0 && now >= since_ + rule.duration))
      continue;
    if (matches(rule, request))
      return false;
  }
  return true;
}

std::vector<std::string> Authorizer::websocket_exec_verbs() const {
  if (major_ > 1 || (major_ == 1 && minor_ >= 35))
    return {"get", "create"};
  return {"get"};
}

Error forbidden_error(const AccessRequest& r, const ForbiddenRule& rule) {
  const auto resource = r.subresource.empty() ? r.resource : r.resource + "/" + r.subresource;
  const auto qualified = r.group.empty() ? r.resource : r.resource + "." + r.group;
  std::string message = qualified;
  if (!r.name.empty())
    message += " \"" + r.name + "\"";
  message += " is forbidden: User \"" + std::string(kUser) + "\" cannot " + r.verb +
             " resource \"" + resource + "\" in API group \"" + r.group + "\"";
  message += r.ns.empty() ? " at the cluster scope" : " in the namespace \"" + r.ns + "\"";
  if (rule.admission) {
    message = "admission webhook \"deny.cnimig-sim.io\" denied the request: " + r.verb + " " +
              resource + " is refused by cnimig-sim's admission-denied fault";
  }
  return make_error(Errc::forbidden, 403, "Forbidden", std::move(message));
}

}  // namespace cnimig::sim
