#pragma once
// The API permissions the migration needs, checked with
// SelfSubjectAccessReviews before the first write. What a request needs can
// depend on the server's version: a WebSocket pod exec (the knet-stress
// probes) is authorized differently before and from Kubernetes 1.35
// (kube::websocket_exec_verbs).

#include <optional>
#include <string>
#include <vector>

#include <boost/asio/awaitable.hpp>

#include "cnimig/common/result.hpp"
#include "cnimig/config/strategy.hpp"
#include "cnimig/kube/client.hpp"
#include "cnimig/kube/server_version.hpp"

namespace cnimig::agent {

// Every verb on every resource the agent will use against `server` with
// `strategy` (cilium-native also writes its CiliumNodeConfig).
std::vector<kube::AccessCheck> required_permissions(
    const std::optional<kube::ServerVersion>& server,
    config::Strategy strategy = config::Strategy::multus);

// "patch nodes", "get pods/exec", "watch apps/daemonsets".
std::string describe(const kube::AccessCheck& check);

// What the knet-stress probes' exec needs on `server`, e.g. "get pods/exec"
// or "get and create pods/exec".
std::string exec_permission(const std::optional<kube::ServerVersion>& server);

// The checks the credentials fail, described (empty: every one is granted).
// An error when a review itself could not be made.
boost::asio::awaitable<Result<std::vector<std::string>>> missing_permissions(
    kube::Client& client, const std::vector<kube::AccessCheck>& checks);

}  // namespace cnimig::agent
