#include "cnimig/kube/kubeconfig.hpp"

#include <yaml-cpp/yaml.h>

#include "cnimig/net/base64.hpp"

namespace cnimig::kube {
namespace {

namespace fs = std::filesystem;

// Error naming the file and the field, never the value (values may be secrets).
Error field_error(const fs::path& file, const std::string& field, const std::string& what) {
  return make_error(Errc::config, "kubeconfig " + file.string() + ": " + field + ": " + what);
}

Result<std::string> scalar(const YAML::Node& node, const char* key, const fs::path& file,
                           const std::string& where) {
  YAML::Node v = node[key];
  if (!v || v.IsNull())
    return std::string{};
  if (!v.IsScalar())
    return field_error(file, where + "." + key, "expected a string");
  return v.as<std::string>();
}

Result<bool> boolean(const YAML::Node& node, const char* key, const fs::path& file,
                     const std::string& where) {
  YAML::Node v = node[key];
  if (!v || v.IsNull())
    return false;
  bool out = false;
  if (!v.IsScalar() || !YAML::convert<bool>::decode(v, out))
    return field_error(file, where + "." + key, "expected true or false");
  return out;
}

Result<std::string> data(const YAML::Node& node, const char* key, const fs::path& file,
                         const std::string& where) {
  auto text = scalar(node, key, file, where);
  if (!text)
    return text.error();
  if (text->empty())
    return std::string{};
  auto decoded = net::base64_decode(*text);
  if (!decoded)
    return field_error(file, where + "." + key, "invalid base64");
  return std::move(*decoded);
}

// kubectl resolves relative file references against the kubeconfig's directory.
fs::path resolve(const fs::path& file, const std::string& value) {
  if (value.empty())
    return {};
  fs::path p(value);
  if (p.is_absolute())
    return p;
  return file.parent_path() / p;
}

// Walks a named list (clusters, users, contexts): [{name: x, <inner>: {...}}].
template <class F>
Result<void> each_named(const YAML::Node& root, const char* list, const char* inner,
                        const fs::path& file, F&& f) {
  YAML::Node items = root[list];
  if (!items || items.IsNull())
    return {};
  if (!items.IsSequence())
    return field_error(file, list, "expected a list");
  for (std::size_t i = 0; i < items.size(); ++i) {
    const YAML::Node& item = items[i];
    std::string where = std::string(list) + "[" + std::to_string(i) + "]";
    if (!item.IsMap())
      return field_error(file, where, "expected a mapping");
    auto name = scalar(item, "name", file, where);
    if (!name)
      return name.error();
    if (name->empty())
      return field_error(file, where + ".name", "missing");
    where = std::string(list) + "[" + *name + "]";
    YAML::Node body = item[inner];
    if (body && !body.IsNull() && !body.IsMap())
      return field_error(file, where + "." + inner, "expected a mapping");
    auto r = f(*name, body ? body : YAML::Node(YAML::NodeType::Map), where + "." + inner);
    if (!r)
      return r.error();
  }
  return {};
}

Result<ExecPluginConfig> parse_exec(const YAML::Node& node, const fs::path& file,
                                    const std::string& where) {
  ExecPluginConfig e;
  auto api = scalar(node, "apiVersion", file, where);
  if (!api)
    return api.error();
  e.api_version = *api;
  if (e.api_version != "client.authentication.k8s.io/v1" &&
      e.api_version != "client.authentication.k8s.io/v1beta1")
    return field_error(file, where + ".apiVersion",
                       "expected client.authentication.k8s.io/v1 or v1beta1");
  auto cmd = scalar(node, "command", file, where);
  if (!cmd)
    return cmd.error();
  if (cmd->empty())
    return field_error(file, where + ".command", "missing");
  // client-go: a command with a path separator is relative to the kubeconfig.
  e.command = (cmd->find('/') != std::string::npos) ? resolve(file, *cmd).string() : *cmd;
  if (YAML::Node args = node["args"]; args && !args.IsNull()) {
    if (!args.IsSequence())
      return field_error(file, where + ".args", "expected a list");
    for (const auto& a : args) {
      if (!a.IsScalar())
        return field_error(file, where + ".args", "expected strings");
      e.args.push_back(a.as<std::string>());
    }
  }
  if (YAML::Node env = node["env"]; env && !env.IsNull()) {
    if (!env.IsSequence())
      return field_error(file, where + ".env", "expected a list");
    for (const auto& kv : env) {
      if (!kv.IsMap() || !kv["name"] || !kv["name"].IsScalar())
        return field_error(file, where + ".env", "expected {name, value} entries");
      std::string value =
          (kv["value"] && kv["value"].IsScalar()) ? kv["value"].as<std::string>() : "";
      e.env.emplace_back(kv["name"].as<std::string>(), value);
    }
  }
  auto mode = scalar(node, "interactiveMode", file, where);
  if (!mode)
    return mode.error();
  if (!mode->empty()) {
    if (*mode != "Never" && *mode != "IfAvailable" && *mode != "Always")
      return field_error(file, where + ".interactiveMode", "expected Never, IfAvailable or Always");
    e.interactive_mode = *mode;
  } else if (e.api_version == "client.authentication.k8s.io/v1") {
    // client-go requires interactiveMode in v1.
    return field_error(file, where + ".interactiveMode",
                       "required for client.authentication.k8s.io/v1");
  }
  return e;
}

Result<KubeconfigCluster> parse_cluster(const YAML::Node& n, const fs::path& file,
                                        const std::string& w) {
  KubeconfigCluster c;
  auto server = scalar(n, "server", file, w);
  if (!server)
    return server.error();
  c.server = *server;
  auto ca = scalar(n, "certificate-authority", file, w);
  if (!ca)
    return ca.error();
  c.certificate_authority = resolve(file, *ca);
  auto cad = data(n, "certificate-authority-data", file, w);
  if (!cad)
    return cad.error();
  c.certificate_authority_data = std::move(*cad);
  auto ins = boolean(n, "insecure-skip-tls-verify", file, w);
  if (!ins)
    return ins.error();
  c.insecure_skip_tls_verify = *ins;
  auto sni = scalar(n, "tls-server-name", file, w);
  if (!sni)
    return sni.error();
  c.tls_server_name = *sni;
  return c;
}

Result<KubeconfigUser> parse_user(const YAML::Node& n, const fs::path& file, const std::string& w) {
  KubeconfigUser u;
  auto cc = scalar(n, "client-certificate", file, w);
  if (!cc)
    return cc.error();
  u.client_certificate = resolve(file, *cc);
  auto ccd = data(n, "client-certificate-data", file, w);
  if (!ccd)
    return ccd.error();
  u.client_certificate_data = std::move(*ccd);
  auto ck = scalar(n, "client-key", file, w);
  if (!ck)
    return ck.error();
  u.client_key = resolve(file, *ck);
  auto ckd = data(n, "client-key-data", file, w);
  if (!ckd)
    return ckd.error();
  u.client_key_data = std::move(*ckd);
  auto tok = scalar(n, "token", file, w);
  if (!tok)
    return tok.error();
  u.token = std::move(*tok);
  auto tf = scalar(n, "tokenFile", file, w);
  if (!tf)
    return tf.error();
  u.token_file = resolve(file, *tf);
  if (YAML::Node ex = n["exec"]; ex && !ex.IsNull()) {
    if (!ex.IsMap())
      return field_error(file, w + ".exec", "expected a mapping");
    auto e = parse_exec(ex, file, w + ".exec");
    if (!e)
      return e.error();
    u.exec = std::move(*e);
  }
  u.has_auth_provider = static_cast<bool>(n["auth-provider"]);
  return u;
}

Result<KubeconfigContext> parse_context(const YAML::Node& n, const fs::path& file,
                                        const std::string& w) {
  KubeconfigContext c;
  auto cl = scalar(n, "cluster", file, w);
  if (!cl)
    return cl.error();
  c.cluster = *cl;
  auto us = scalar(n, "user", file, w);
  if (!us)
    return us.error();
  c.user = *us;
  auto ns = scalar(n, "namespace", file, w);
  if (!ns)
    return ns.error();
  c.namespace_ = *ns;
  return c;
}

// Reads the named list `list` into `into` with `parse`; the first entry of
// a name wins, and `origin` notes the file it came from as "<list>/<name>".
template <class T, class Parse>
Result<void> read_named(const YAML::Node& root, const char* list, const char* inner,
                        const fs::path& file, std::map<std::string, T>& into,
                        std::map<std::string, fs::path>& origin, Parse parse) {
  return each_named(
      root, list, inner, file,
      [&](const std::string& name, const YAML::Node& n, const std::string& w) -> Result<void> {
        auto item = parse(n, file, w);
        if (!item)
          return item.error();
        into.emplace(name, std::move(*item));
        origin.emplace(std::string(list) + "/" + name, file);
        return {};
      });
}

}  // namespace

Result<Kubeconfig> parse_kubeconfig(std::string_view yaml, const fs::path& file) {
  YAML::Node root;
  try {
    root = YAML::Load(std::string(yaml));
  } catch (const YAML::Exception& e) {
    return make_error(Errc::config, "kubeconfig " + file.string() + ": invalid YAML at line " +
                                        std::to_string(e.mark.line + 1) + ": " + e.msg);
  }
  Kubeconfig out;
  out.sources.push_back(file);
  if (!root || root.IsNull())
    return out;  // an empty file is an empty config, as in kubectl
  if (!root.IsMap())
    return field_error(file, "(document)", "expected a mapping");
  try {
    auto cur = scalar(root, "current-context", file, "");
    if (!cur)
      return cur.error();
    out.current_context = *cur;
    auto rc =
        read_named(root, "clusters", "cluster", file, out.clusters, out.origin, parse_cluster);
    if (!rc)
      return rc.error();
    auto ru = read_named(root, "users", "user", file, out.users, out.origin, parse_user);
    if (!ru)
      return ru.error();
    auto rx =
        read_named(root, "contexts", "context", file, out.contexts, out.origin, parse_context);
    if (!rx)
      return rx.error();
  } catch (const YAML::Exception& e) {
    return make_error(Errc::config, "kubeconfig " + file.string() + ": " + e.msg);
  }
  return out;
}

void merge_kubeconfig(Kubeconfig& into, Kubeconfig from) {
  // std::map::insert keeps the existing entry: exactly "first file wins".
  into.clusters.insert(std::make_move_iterator(from.clusters.begin()),
                       std::make_move_iterator(from.clusters.end()));
  into.users.insert(std::make_move_iterator(from.users.begin()),
                    std::make_move_iterator(from.users.end()));
  into.contexts.insert(std::make_move_iterator(from.contexts.begin()),
                       std::make_move_iterator(from.contexts.end()));
  into.origin.insert(from.origin.begin(), from.origin.end());
  into.sources.insert(into.sources.end(), from.sources.begin(), from.sources.end());
  if (into.current_context.empty())
    into.current_context = std::move(from.current_context);
}

}  // namespace cnimig::kube
