#include "cnimig/kube/client_config.hpp"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <system_error>

namespace cnimig::kube {
namespace {

namespace fs = std::filesystem;

Result<std::string> read_file(const fs::path& path, const std::string& what) {
  std::ifstream in(path, std::ios::binary);
  if (!in)
    return make_error(Errc::config, what + ": cannot read " + path.string());
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// "kubeconfig a.yaml" or "kubeconfig files a.yaml, b.yaml" (KUBECONFIG's merge).
std::string files_of(const Kubeconfig& c) {
  if (c.sources.empty())
    return "kubeconfig";
  std::string list;
  for (const auto& f : c.sources)
    list += (list.empty() ? "" : ", ") + f.string();
  return (c.sources.size() == 1 ? "kubeconfig " : "kubeconfig files ") + list;
}

std::string context_names(const Kubeconfig& c) {
  if (c.contexts.empty())
    return "it defines no contexts";
  std::string list;
  for (const auto& [name, ctx] : c.contexts)
    list += (list.empty() ? "" : ", ") + name;
  return "its contexts: " + list;
}

std::string origin_of(const Kubeconfig& c, const std::string& key) {
  auto it = c.origin.find(key);
  return it == c.origin.end() ? std::string("kubeconfig") : "kubeconfig " + it->second.string();
}

// The cluster's part of a context: server, TLS verification, CA.
// `where`: "<origin>: clusters[<name>].cluster." for errors.
Result<void> use_cluster(ClientConfig& out, const KubeconfigCluster& c, const std::string& where) {
  if (c.server.empty())
    return make_error(Errc::config, where + "server: missing");
  if (c.server.rfind("https://", 0) != 0)
    return make_error(Errc::config, where + "server: only https:// servers are supported");
  out.server = c.server;
  out.insecure_skip_tls_verify = c.insecure_skip_tls_verify;
  out.tls_server_name = c.tls_server_name;
  if (!c.certificate_authority_data.empty()) {
    out.ca_pem = c.certificate_authority_data;
  } else if (!c.certificate_authority.empty()) {
    auto ca = read_file(c.certificate_authority, where + "certificate-authority");
    if (!ca)
      return ca.error();
    out.ca_pem = std::move(*ca);
  }
  return {};
}

// The user's part of a context: client certificate, token, exec plugin.
// `where`: "<origin>: users[<name>].user." for errors.
Result<void> use_user(ClientConfig& out, const KubeconfigUser& u, const std::string& where) {
  if (u.has_auth_provider && u.token.empty() && u.token_file.empty() && !u.exec)
    return make_error(Errc::config, where + "auth-provider: not supported; use an exec plugin");
  if (!u.client_certificate_data.empty()) {
    out.client_cert_pem = u.client_certificate_data;
  } else if (!u.client_certificate.empty()) {
    auto r = read_file(u.client_certificate, where + "client-certificate");
    if (!r)
      return r.error();
    out.client_cert_pem = std::move(*r);
  }
  if (!u.client_key_data.empty()) {
    out.client_key_pem = u.client_key_data;
  } else if (!u.client_key.empty()) {
    auto r = read_file(u.client_key, where + "client-key");
    if (!r)
      return r.error();
    out.client_key_pem = std::move(*r);
  }
  if (out.client_cert_pem.empty() != out.client_key_pem.empty())
    return make_error(Errc::config,
                      where + "client-certificate/client-key: both or neither are required");
  out.token = u.token;
  out.token_file = u.token_file;
  if (out.token.empty() && !out.token_file.empty()) {
    // Fail early on an unreadable tokenFile; the credential source re-reads it later.
    auto r = read_file(out.token_file, where + "tokenFile");
    if (!r)
      return r.error();
  }
  out.exec = u.exec;
  return {};
}

}  // namespace

Result<ClientConfig> resolve_context(const Kubeconfig& config,
                                     const std::optional<std::string>& context) {
  std::string name = context.value_or(config.current_context);
  // Name the files and what to change: kubectl's own message ("current-context
  // is not set") leaves the user guessing which of KUBECONFIG's files it read.
  if (name.empty()) {
    return make_error(Errc::config, files_of(config) +
                                        ": no current-context set; set current-context in "
                                        "the file (kubectl config use-context NAME) or pass "
                                        "--context NAME (" +
                                        context_names(config) + ")");
  }
  auto ctx = config.contexts.find(name);
  if (ctx == config.contexts.end()) {
    return make_error(Errc::config, files_of(config) + ": context \"" + name + "\" not found (" +
                                        (context ? "from --context" : "from current-context") +
                                        "; " + context_names(config) + ")");
  }
  std::string ctx_origin = origin_of(config, "contexts/" + name);
  auto cl = config.clusters.find(ctx->second.cluster);
  if (cl == config.clusters.end())
    return make_error(Errc::config, ctx_origin + ": contexts[" + name +
                                        "].context.cluster: cluster \"" + ctx->second.cluster +
                                        "\" not found");
  std::string cl_origin = origin_of(config, "clusters/" + cl->first);
  std::string cl_where = cl_origin + ": clusters[" + cl->first + "].cluster.";

  ClientConfig out;
  out.context = name;
  out.description = "context \"" + name + "\" (" + ctx_origin + ")";
  out.namespace_ = ctx->second.namespace_.empty() ? "default" : ctx->second.namespace_;
  if (auto used = use_cluster(out, cl->second, cl_where); !used)
    return used.error();
  if (ctx->second.user.empty())
    return out;
  auto us = config.users.find(ctx->second.user);
  if (us == config.users.end())
    return make_error(Errc::config, ctx_origin + ": contexts[" + name + "].context.user: user \"" +
                                        ctx->second.user + "\" not found");
  std::string us_where =
      origin_of(config, "users/" + us->first) + ": users[" + us->first + "].user.";
  if (auto used = use_user(out, us->second, us_where); !used)
    return used.error();
  return out;
}

Result<ClientConfig> in_cluster_config(const std::string& host, const std::string& port,
                                       const fs::path& dir) {
  ClientConfig out;
  // An IPv6 service host needs brackets in the URL.
  std::string h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  out.server = "https://" + h + ":" + (port.empty() ? std::string("443") : port);
  out.token_file = dir / "token";
  auto tok = read_file(out.token_file, "in-cluster service account token");
  if (!tok)
    return tok.error();
  auto ca = read_file(dir / "ca.crt", "in-cluster service account CA");
  if (!ca)
    return ca.error();
  out.ca_pem = std::move(*ca);
  if (auto ns = read_file(dir / "namespace", "namespace"); ns && !ns->empty()) {
    std::string v = *ns;
    while (!v.empty() && (v.back() == '\n' || v.back() == ' '))
      v.pop_back();
    out.namespace_ = v;
  }
  out.context = "in-cluster";
  out.description = "in-cluster service account (" + dir.string() + ")";
  return out;
}

Result<ClientConfig> load_client_config(const LoadOptions& options) {
  auto getenv =
      options.getenv ? options.getenv : [](const std::string& k) -> std::optional<std::string> {
    const char* v = std::getenv(k.c_str());
    if (!v)
      return std::nullopt;
    return std::string(v);
  };
  auto load_one = [](const fs::path& p) -> Result<Kubeconfig> {
    auto text = read_file(p, "kubeconfig");
    if (!text)
      return text.error();
    return parse_kubeconfig(*text, p);
  };

  if (options.kubeconfig) {
    auto c = load_one(*options.kubeconfig);
    if (!c)
      return c.error();
    return resolve_context(*c, options.context);
  }
  if (auto env = getenv("KUBECONFIG"); env && !env->empty()) {
    Kubeconfig merged;
    bool any = false;
    std::size_t start = 0;
    while (start <= env->size()) {
      std::size_t end = env->find(':', start);
      if (end == std::string::npos)
        end = env->size();
      fs::path p = env->substr(start, end - start);
      start = end + 1;
      std::error_code ec;
      if (p.empty() || !fs::exists(p, ec))
        continue;  // kubectl skips missing KUBECONFIG entries
      auto c = load_one(p);
      if (!c)
        return c.error();
      merge_kubeconfig(merged, std::move(*c));
      any = true;
    }
    if (any)
      return resolve_context(merged, options.context);
  }
  if (auto home = getenv("HOME"); home && !home->empty()) {
    fs::path p = fs::path(*home) / ".kube" / "config";
    std::error_code ec;
    if (fs::exists(p, ec)) {
      auto c = load_one(p);
      if (!c)
        return c.error();
      return resolve_context(*c, options.context);
    }
  }
  auto host = getenv("KUBERNETES_SERVICE_HOST");
  auto port = getenv("KUBERNETES_SERVICE_PORT");
  if (host && !host->empty())
    return in_cluster_config(*host, port.value_or("443"), options.service_account_dir);
  return make_error(Errc::config,
                    "no kubeconfig: pass --kubeconfig, set KUBECONFIG, create ~/.kube/config or "
                    "run in a cluster");
}

}  // namespace cnimig::kube
