#pragma once
// The kubeconfig file model and its pure parser (no I/O besides what the
// caller hands in), so fuzzers can reach it. Field names follow
// k8s.io/client-go/tools/clientcmd/api/v1. Secrets it holds (token,
// *-data keys) never reach a log line or an error message.

#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cnimig/common/result.hpp"

namespace cnimig::kube {

// users[].user.exec: a client.authentication.k8s.io credential plugin.
struct ExecPluginConfig {
  std::string api_version;  // client.authentication.k8s.io/v1 or /v1beta1
  std::string command;      // relative commands with a '/' resolve against the kubeconfig's dir
  std::vector<std::string> args;
  std::vector<std::pair<std::string, std::string>> env;
  std::string interactive_mode = "IfAvailable";  // Never | IfAvailable | Always
};

struct KubeconfigCluster {
  std::string server;
  std::filesystem::path certificate_authority;  // absolute (resolved against the file's dir)
  std::string certificate_authority_data;       // decoded PEM
  bool insecure_skip_tls_verify = false;
  std::string tls_server_name;
};

struct KubeconfigUser {
  std::filesystem::path client_certificate;
  std::string client_certificate_data;  // decoded PEM
  std::filesystem::path client_key;
  std::string client_key_data;  // decoded PEM; secret
  std::string token;            // secret
  std::filesystem::path token_file;
  std::optional<ExecPluginConfig> exec;
  bool has_auth_provider = false;  // legacy auth-provider: unsupported, reported at use
};

struct KubeconfigContext {
  std::string cluster;
  std::string user;
  std::string namespace_;
};

struct Kubeconfig {
  std::map<std::string, KubeconfigCluster> clusters;
  std::map<std::string, KubeconfigUser> users;
  std::map<std::string, KubeconfigContext> contexts;
  std::string current_context;
  // Which file each entry came from, for error messages ("clusters/NAME" -> file).
  std::map<std::string, std::filesystem::path> origin;
  // The files read, in order (KUBECONFIG merges several): an error that no
  // single entry explains, such as a missing current-context, names them.
  std::vector<std::filesystem::path> sources;
};

// Parses one kubeconfig document. `source` names the file in error messages
// and is the base for relative paths, as kubectl resolves them.
Result<Kubeconfig> parse_kubeconfig(std::string_view yaml, const std::filesystem::path& source);

// kubectl's KUBECONFIG merge: the first file to set a map key (a cluster, user
// or context name) wins as a whole entry, and the first non-empty
// current-context wins. Call in KUBECONFIG order.
void merge_kubeconfig(Kubeconfig& into, Kubeconfig from);

}  // namespace cnimig::kube
