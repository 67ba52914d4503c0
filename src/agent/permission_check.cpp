#include "cnimig/agent/permission_check.hpp"

namespace cnimig::agent {

std::vector<kube::AccessCheck> required_permissions(
    const std::optional<kube::ServerVersion>& server, config::Strategy strategy) {
  std::vector<kube::AccessCheck> checks = {
      {"patch", "", "nodes", "", "", ""},
      {"delete", "", "pods", "", "", ""},
      {"create", "", "pods", "eviction", "", ""},
      {"patch", "apps", "daemonsets", "", "", ""},
      {"delete", "apps", "daemonsets", "", "", ""},
      // Cleanup restores Cilium's defaults (RestoreCiliumDefaults).
      {"patch", "", "configmaps", "", "", ""},
      {"patch", "apps", "deployments", "", "", ""},
      {"create", "coordination.k8s.io", "leases", "", "", ""},
      {"update", "coordination.k8s.io", "leases", "", "", ""},
      {"create", "", "events", "", "", ""},
  };
  // The watch caches: a list, then a watch, of each (the budgets: blocked
  // evictions wait for them).
  for (const auto& [group, resource] :
       std::vector<std::pair<std::string, std::string>>{{"", "nodes"},
                                                        {"", "pods"},
                                                        {"apps", "daemonsets"},
                                                        {"apps", "deployments"},
                                                        {"apps", "statefulsets"},
                                                        {"policy", "poddisruptionbudgets"}}) {
    for (const char* verb : {"list", "watch"})
      checks.push_back({verb, group, resource, "", "", ""});
  }
  for (const auto& verb : kube::websocket_exec_verbs(server))
    checks.push_back({verb, "", "pods", "exec", "", ""});
  if (strategy == config::Strategy::cilium_native) {
    for (const char* verb : {"get", "create", "patch", "delete"})
      checks.push_back({verb, "cilium.io", "ciliumnodeconfigs", "", "", ""});
  }
  return checks;
}

std::string describe(const kube::AccessCheck& check) {
  return check.verb + " " + (check.group.empty() ? "" : check.group + "/") + check.resource +
         (check.subresource.empty() ? "" : "/" + check.subresource);
}

std::string exec_permission(const std::optional<kube::ServerVersion>& server) {
  std::string verbs;
  for (const auto& verb : kube::websocket_exec_verbs(server))
    verbs += (verbs.empty() ? "" : " and ") + verb;
  return verbs + " pods/exec";
}

boost::asio::awaitable<Result<std::vector<std::string>>> missing_permissions(
    kube::Client& client, const std::vector<kube::AccessCheck>& checks) {
  std::vector<std::string> denied;
  for (const auto& check : checks) {
    auto allowed = co_await client.can_i(check, kube::RequestOptions());
    if (!allowed)
      co_return allowed.error();
    if (!*allowed)
      denied.push_back(describe(check));
  }
  co_return denied;
}

}  // namespace cnimig::agent
