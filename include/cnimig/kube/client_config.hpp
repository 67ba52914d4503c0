#pragma once
// Where the agent connects and how it authenticates, resolved from a
// kubeconfig context or the in-cluster service account with kubectl's
// loading rules:
//   1. an explicit --kubeconfig path (must exist),
//   2. else $KUBECONFIG, a ':'-separated list merged (missing files skipped),
//   3. else ~/.kube/config if it exists,
//   4. else in-cluster: KUBERNETES_SERVICE_HOST/PORT and the service account
//      directory (token re-read when it rotates, ca.crt, namespace).
// --context overrides current-context.

#include <filesystem>
#include <functional>
#include <optional>
#include <string>

#include "cnimig/common/result.hpp"
#include "cnimig/kube/kubeconfig.hpp"

namespace cnimig::kube {

struct ClientConfig {
  std::string server;  // https://host[:port][/prefix]
  std::string ca_pem;  // empty: the system trust store
  bool insecure_skip_tls_verify = false;
  std::string tls_server_name;  // overrides the host for SNI and verification
  std::string client_cert_pem;
  std::string client_key_pem;  // secret
  std::string token;           // secret
  std::filesystem::path token_file;
  std::optional<ExecPluginConfig> exec;
  std::string namespace_ = "default";
  std::string context;      // context name, or "in-cluster"
  std::string description;  // where it came from, for messages (no secrets)
};

struct LoadOptions {
  std::optional<std::filesystem::path> kubeconfig;  // --kubeconfig
  std::optional<std::string> context;               // --context
  // Environment lookup; defaults to ::getenv. Tests inject their own.
  std::function<std::optional<std::string>(const std::string&)> getenv;
  std::filesystem::path service_account_dir = "/var/run/secrets/kubernetes.io/serviceaccount";
};

Result<ClientConfig> load_client_config(const LoadOptions& options);

// Resolves one context of an already merged kubeconfig (reads the files it names).
Result<ClientConfig> resolve_context(const Kubeconfig& config,
                                     const std::optional<std::string>& context);

// The in-cluster configuration from a service account directory.
Result<ClientConfig> in_cluster_config(const std::string& host, const std::string& port,
                                       const std::filesystem::path& service_account_dir);

}  // namespace cnimig::kube
