#pragma once
// client.authentication.k8s.io exec credential plugins (v1 and v1beta1):
// the plugin prints an ExecCredential whose status carries a bearer token and
// an optional expirationTimestamp. The parser is pure; the runner starts the
// plugin with its args and env, no stdin (interactiveMode Never semantics),
// KUBERNETES_EXEC_INFO set, and a time limit.

#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include <boost/asio/awaitable.hpp>

#include "cnimig/common/result.hpp"
#include "cnimig/kube/kubeconfig.hpp"

namespace cnimig::kube {

struct ExecCredential {
  std::string token;  // secret
  std::optional<std::chrono::system_clock::time_point> expiration;
};

// Parses the plugin's stdout; the apiVersion must match the configured one.
Result<ExecCredential> parse_exec_credential(std::string_view json,
                                             std::string_view expected_api_version);

// How long a plugin may run before it is killed.
inline constexpr std::chrono::milliseconds kExecPluginTimeout = std::chrono::seconds(30);

// Runs the plugin without blocking the io_context (its stdout is read through
// the reactor; the deadline kills it). Called at start, on expiry and on 401.
// No defaulted parameter: it is a coroutine (see Client's verbs).
boost::asio::awaitable<Result<ExecCredential>> run_exec_plugin(const ExecPluginConfig& config,
                                                               std::chrono::milliseconds timeout);

}  // namespace cnimig::kube
