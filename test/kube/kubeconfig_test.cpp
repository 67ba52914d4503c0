#define BOOST_TEST_MODULE kube_kubeconfig
#include "cnimig/kube/kubeconfig.hpp"

#include <cstdlib>
#include <fstream>
#include <map>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/test/unit_test.hpp>

#include "cnimig/kube/client_config.hpp"
#include "cnimig/kube/credentials.hpp"
#include "cnimig/kube/exec_credential.hpp"
#include "cnimig/net/base64.hpp"

#include "errc_print.hpp"

using namespace cnimig;
using namespace cnimig::kube;
namespace fs = std::filesystem;

namespace {

// Runs one awaitable to completion on a private io_context.
template <class T>
T sync(boost::asio::awaitable<T> a) {
  boost::asio::io_context ioc;
  auto f = boost::asio::co_spawn(ioc, std::move(a), boost::asio::use_future);
  ioc.run();
  return f.get();
}

struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "kubecfg-XXXXXX").string();
    path = mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path); }
  fs::path write(const std::string& name, const std::string& text) const {
    fs::path p = path / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p;
  }
};

std::string config_doc(const std::string& cluster, const std::string& server,
                       const std::string& user, const std::string& token,
                       const std::string& context, const std::string& current) {
  return "apiVersion: v1\nkind: Config\ncurrent-context: " + current +
         "\nclusters:\n- name: " + cluster + "\n  cluster:\n    server: " + server +
         "\n    certificate-authority-data: " + net::base64_encode("CA-" + cluster) +
         "\nusers:\n- name: " + user + "\n  user:\n    token: " + token +
         "\ncontexts:\n- name: " + context + "\n  context:\n    cluster: " + cluster +
         "\n    user: " + user + "\n    namespace: ns-" + context + "\n";
}

LoadOptions env_options(std::map<std::string, std::string> env) {
  LoadOptions o;
  o.getenv = [env](const std::string& k) -> std::optional<std::string> {
    auto it = env.find(k);
    if (it == env.end())
      return std::nullopt;
    return it->second;
  };
  return o;
}

}  // namespace

BOOST_AUTO_TEST_CASE(parses_clusters_users_contexts_and_resolves_relative_paths) {
  std::string doc = R"(
apiVersion: v1
kind: Config
current-context: c1
clusters:
- name: k
  cluster:
    server: https://10.0.0.1:6443
    certificate-authority: certs/ca.crt
    tls-server-name: api.example
users:
- name: u
  user:
    client-certificate: /abs/client.crt
    client-key: key.pem
    tokenFile: tok
    exec:
      apiVersion: client.authentication.k8s.io/v1
      command: ./plugin.sh
      args: [a, b]
      env: [{name: X, value: "1"}]
      interactiveMode: Never
contexts:
- name: c1
  context: {cluster: k, user: u}
)";
  auto c = parse_kubeconfig(doc, "/home/me/.kube/config");
  BOOST_TEST_REQUIRE(c.has_value(), (c ? "" : c.error().message));
  BOOST_TEST(c->current_context == "c1");
  BOOST_TEST(c->clusters.at("k").certificate_authority == fs::path("/home/me/.kube/certs/ca.crt"));
  BOOST_TEST(c->clusters.at("k").tls_server_name == "api.example");
  const auto& u = c->users.at("u");
  BOOST_TEST(u.client_certificate == fs::path("/abs/client.crt"));
  BOOST_TEST(u.client_key == fs::path("/home/me/.kube/key.pem"));
  BOOST_TEST(u.token_file == fs::path("/home/me/.kube/tok"));
  BOOST_TEST_REQUIRE(u.exec.has_value());
  BOOST_TEST(u.exec->command == "/home/me/.kube/./plugin.sh");
  BOOST_TEST(u.exec->args.size() == 2u);
  BOOST_TEST(u.exec->env.at(0).first == "X");
  BOOST_TEST(u.exec->interactive_mode == "Never");
}

BOOST_AUTO_TEST_CASE(errors_name_file_and_field_but_not_the_value) {
  std::string doc =
      "clusters:\n- name: k\n  cluster:\n    server: https://x\n    certificate-authority-data: "
      "'!!notbase64secret'\n";
  auto c = parse_kubeconfig(doc, "/tmp/kc.yaml");
  BOOST_TEST_REQUIRE(!c.has_value());
  BOOST_TEST(c.error().code == Errc::config);
  const auto& m = c.error().message;
  BOOST_TEST(m.find("/tmp/kc.yaml") != std::string::npos);
  BOOST_TEST(m.find("clusters[k].cluster.certificate-authority-data") != std::string::npos);
  BOOST_TEST(m.find("notbase64secret") == std::string::npos);

  auto bad_yaml = parse_kubeconfig("clusters: [\n", "/tmp/bad.yaml");
  BOOST_TEST_REQUIRE(!bad_yaml.has_value());
  BOOST_TEST(bad_yaml.error().message.find("/tmp/bad.yaml") != std::string::npos);

  auto bad_exec = parse_kubeconfig(
      "users:\n- name: u\n  user:\n    exec:\n      apiVersion: client.authentication.k8s.io/v1\n  "
      "    command: x\n",
      "/tmp/e.yaml");
  BOOST_TEST_REQUIRE(!bad_exec.has_value());
  BOOST_TEST(bad_exec.error().message.find("users[u].user.exec.interactiveMode") !=
             std::string::npos);

  auto bad_bool = parse_kubeconfig(
      "clusters:\n- name: k\n  cluster:\n    insecure-skip-tls-verify: maybe\n", "/f");
  BOOST_TEST_REQUIRE(!bad_bool.has_value());
  BOOST_TEST(bad_bool.error().message.find("insecure-skip-tls-verify") != std::string::npos);
}

BOOST_AUTO_TEST_CASE(kubeconfig_env_merges_first_file_wins) {
  TempDir d;
  auto a = d.write("a", config_doc("shared", "https://a:1", "ua", "tok-a", "ctx-a", "ctx-a"));
  auto b = d.write("b", config_doc("shared", "https://b:2", "ub", "tok-b", "ctx-b", "ctx-b"));
  auto o = env_options(
      {{"KUBECONFIG", a.string() + ":" + (d.path / "missing").string() + ":" + b.string()}});
  auto cfg = load_client_config(o);
  BOOST_TEST_REQUIRE(cfg.has_value(), (cfg ? "" : cfg.error().message));
  BOOST_TEST(cfg->context == "ctx-a");  // first current-context wins
  BOOST_TEST(cfg->server == "https://a:1");
  BOOST_TEST(cfg->token == "tok-a");
  BOOST_TEST(cfg->ca_pem == "CA-shared");
  BOOST_TEST(cfg->namespace_ == "ns-ctx-a");

  // --context picks ctx-b, whose cluster "shared" was set first by file a.
  o.context = "ctx-b";
  cfg = load_client_config(o);
  BOOST_TEST_REQUIRE(cfg.has_value());
  BOOST_TEST(cfg->server == "https://a:1");
  BOOST_TEST(cfg->token == "tok-b");

  o.context = "nope";
  cfg = load_client_config(o);
  BOOST_TEST_REQUIRE(!cfg.has_value());
  BOOST_TEST(cfg.error().message.find("nope") != std::string::npos);
}

// What to change, and where: the file(s) read, the flag or key to set, and
// the contexts there are.
BOOST_AUTO_TEST_CASE(missing_or_unknown_context_names_the_files_and_the_fix) {
  TempDir d;
  auto a = d.write("a", config_doc("k", "https://a:1", "ua", "tok-a", "ctx-a", "\"\""));
  auto b = d.write("b", config_doc("k", "https://b:2", "ub", "tok-b", "ctx-b", "\"\""));

  LoadOptions one;
  one.kubeconfig = a;
  auto none = load_client_config(one);
  BOOST_TEST_REQUIRE(!none.has_value());
  const auto& m1 = none.error().message;
  BOOST_TEST(m1.find(a.string()) != std::string::npos, m1);
  BOOST_TEST(m1.find("current-context") != std::string::npos, m1);
  BOOST_TEST(m1.find("--context") != std::string::npos, m1);
  BOOST_TEST(m1.find("ctx-a") != std::string::npos, m1);

  auto merged = load_client_config(env_options({{"KUBECONFIG", a.string() + ":" + b.string()}}));
  BOOST_TEST_REQUIRE(!merged.has_value());
  const auto& m2 = merged.error().message;
  BOOST_TEST(m2.find(a.string()) != std::string::npos, m2);
  BOOST_TEST(m2.find(b.string()) != std::string::npos, m2);
  BOOST_TEST(m2.find("ctx-b") != std::string::npos, m2);

  one.context = "nope";
  auto unknown = load_client_config(one);
  BOOST_TEST_REQUIRE(!unknown.has_value());
  const auto& m3 = unknown.error().message;
  BOOST_TEST(m3.find(a.string()) != std::string::npos, m3);
  BOOST_TEST(m3.find("\"nope\"") != std::string::npos, m3);
  BOOST_TEST(m3.find("--context") != std::string::npos, m3);
  BOOST_TEST(m3.find("ctx-a") != std::string::npos, m3);
}

BOOST_AUTO_TEST_CASE(explicit_path_then_home_then_in_cluster) {
  TempDir d;
  auto home_cfg =
      d.write("home/.kube/config", config_doc("h", "https://home:1", "u", "t", "c", "c"));
  auto expl = d.write("explicit", config_doc("e", "https://explicit:1", "u", "t", "c", "c"));
  auto o =
      env_options({{"HOME", (d.path / "home").string()}, {"KUBERNETES_SERVICE_HOST", "10.96.0.1"}});
  auto cfg = load_client_config(o);
  BOOST_TEST_REQUIRE(cfg.has_value());
  BOOST_TEST(cfg->server == "https://home:1");

  o.kubeconfig = expl;
  cfg = load_client_config(o);
  BOOST_TEST_REQUIRE(cfg.has_value());
  BOOST_TEST(cfg->server == "https://explicit:1");

  o.kubeconfig = d.path / "does-not-exist";
  cfg = load_client_config(o);
  BOOST_TEST(!cfg.has_value());  // an explicit path must exist

  // In-cluster: no kubeconfig anywhere, service account directory injected.
  auto sa = d.path / "sa";
  d.write("sa/token", "sa-token\n");
  d.write("sa/ca.crt", "SA-CA");
  d.write("sa/namespace", "kube-system");
  auto ic = env_options({{"HOME", (d.path / "nohome").string()},
                         {"KUBERNETES_SERVICE_HOST", "fd00::1"},
                         {"KUBERNETES_SERVICE_PORT", "443"}});
  ic.service_account_dir = sa;
  cfg = load_client_config(ic);
  BOOST_TEST_REQUIRE(cfg.has_value(), (cfg ? "" : cfg.error().message));
  BOOST_TEST(cfg->server == "https://[fd00::1]:443");
  BOOST_TEST(cfg->ca_pem == "SA-CA");
  BOOST_TEST(cfg->namespace_ == "kube-system");
  BOOST_TEST(cfg->token_file == sa / "token");
  Credentials creds(*cfg);
  BOOST_TEST(sync(creds.authorization()).value() == "Bearer sa-token");

  auto none = env_options({{"HOME", (d.path / "nohome").string()}});
  BOOST_TEST(!load_client_config(none).has_value());
}

BOOST_AUTO_TEST_CASE(referenced_files_are_read_and_missing_ones_named) {
  TempDir d;
  d.write("ca.crt", "CA-FILE");
  auto p = d.write(
      "cfg",
      "current-context: c\nclusters:\n- name: k\n  cluster:\n    server: https://x\n"
      "    certificate-authority: ca.crt\nusers:\n- name: u\n  user:\n    client-certificate: "
      "missing.crt\n    client-key: missing.key\ncontexts:\n- name: c\n  context: {cluster: k, "
      "user: u}\n");
  LoadOptions o;
  o.kubeconfig = p;
  auto cfg = load_client_config(o);
  BOOST_TEST_REQUIRE(!cfg.has_value());
  BOOST_TEST(cfg.error().message.find("users[u].user.client-certificate") != std::string::npos);
  BOOST_TEST(cfg.error().message.find(p.string()) != std::string::npos);
}

BOOST_AUTO_TEST_CASE(token_file_is_reread_when_it_changes) {
  TempDir d;
  auto tf = d.write("token", "first\n");
  ClientConfig c;
  c.token_file = tf;
  Credentials creds(c);
  BOOST_TEST(sync(creds.authorization()).value() == "Bearer first");
  std::ofstream(tf) << "second";
  fs::last_write_time(tf, fs::last_write_time(tf) + std::chrono::seconds(5));
  BOOST_TEST(sync(creds.authorization()).value() == "Bearer second");
  BOOST_TEST(creds.invalidate());
  ClientConfig s;
  s.token = "static";
  Credentials st(s);
  BOOST_TEST(!st.invalidate());
}

BOOST_AUTO_TEST_CASE(exec_credential_parsing) {
  auto ok = parse_exec_credential(
      R"({"apiVersion":"client.authentication.k8s.io/v1","kind":"ExecCredential","status":{"token":"abc","expirationTimestamp":"2030-01-02T03:04:05Z"}})",
      "client.authentication.k8s.io/v1");
  BOOST_TEST_REQUIRE(ok.has_value());
  BOOST_TEST(ok->token == "abc");
  BOOST_TEST_REQUIRE(ok->expiration.has_value());
  BOOST_TEST(std::chrono::system_clock::to_time_t(*ok->expiration) == 1893553445);
  auto wrong = parse_exec_credential(
      R"({"apiVersion":"client.authentication.k8s.io/v1beta1","kind":"ExecCredential","status":{"token":"abc"}})",
      "client.authentication.k8s.io/v1");
  BOOST_TEST(!wrong.has_value());
  BOOST_TEST(!parse_exec_credential("not json", "x").has_value());
}

BOOST_AUTO_TEST_CASE(exec_plugin_runs_with_env_and_args_and_is_cached_until_expiry) {
  TempDir d;
  auto counter = d.path / "count";
  auto script = d.write(
      "plugin.sh",
      "#!/bin/sh\nn=$(cat " + counter.string() + " 2>/dev/null || echo 0)\nn=$((n+1))\necho $n > " +
          counter.string() +
          "\necho \"$KUBERNETES_EXEC_INFO\" | grep -q '\"interactive\":false' || exit 3\n"
          "printf "
          "'{\"apiVersion\":\"client.authentication.k8s.io/v1beta1\",\"kind\":\"ExecCredential\","
          "\"status\":{\"token\":\"%s-%s-%s\",\"expirationTimestamp\":\"%s\"}}' \"$PREFIX\" \"$1\" "
          "\"$n\" \"$EXP\"\n");
  fs::permissions(script, fs::perms::owner_all);
  auto read_count = [&] {
    std::ifstream in(counter);
    int n = 0;
    in >> n;
    return n;
  };
  ExecPluginConfig e;
  e.api_version = "client.authentication.k8s.io/v1beta1";
  e.command = script.string();
  e.args = {"arg"};
  e.env = {{"PREFIX", "tok"}, {"EXP", "2099-01-01T00:00:00Z"}};
  e.interactive_mode = "Never";
  ClientConfig c;
  c.exec = e;
  Credentials creds(c);
  BOOST_TEST(sync(creds.authorization()).value() == "Bearer tok-arg-1");
  BOOST_TEST(sync(creds.authorization()).value() == "Bearer tok-arg-1");  // cached
  BOOST_TEST(read_count() == 1);
  BOOST_TEST(creds.invalidate());  // after a 401
  BOOST_TEST(sync(creds.authorization()).value() == "Bearer tok-arg-2");

  // Expired credentials are not cached.
  c.exec->env = {{"PREFIX", "tok"}, {"EXP", "2000-01-01T00:00:00Z"}};
  Credentials expiring(c);
  BOOST_TEST(sync(expiring.authorization()).value() == "Bearer tok-arg-3");
  BOOST_TEST(sync(expiring.authorization()).value() == "Bearer tok-arg-4");

  ExecPluginConfig failing = e;
  failing.command = "/bin/false";
  auto f = sync(run_exec_plugin(failing, kExecPluginTimeout));
  BOOST_TEST(!f.has_value());
  BOOST_TEST(f.error().code == Errc::unauthorized);
}

BOOST_AUTO_TEST_CASE(exec_plugin_deadline_and_single_flight) {
  TempDir d;
  auto slow = d.write("slow.sh", "#!/bin/sh\nexec sleep 5\n");
  fs::permissions(slow, fs::perms::owner_all);
  ExecPluginConfig e;
  e.api_version = "client.authentication.k8s.io/v1";
  e.command = slow.string();
  e.interactive_mode = "Never";
  auto started = std::chrono::steady_clock::now();
  auto r = sync(run_exec_plugin(e, std::chrono::milliseconds(200)));
  BOOST_TEST_REQUIRE(!r.has_value());
  BOOST_TEST(r.error().message.find("timed out") != std::string::npos);
  BOOST_TEST((std::chrono::steady_clock::now() - started) < std::chrono::seconds(3));

  // Three concurrent callers share one plugin run.
  auto counter = d.path / "count";
  auto script = d.write(
      "plugin.sh", "#!/bin/sh\necho x >> " + counter.string() +
                       "\nsleep 0.2\nprintf '{\"apiVersion\":\"client.authentication.k8s.io/"
                       "v1\",\"kind\":\"ExecCredential\",\"status\":{\"token\":\"shared\"}}'\n");
  fs::permissions(script, fs::perms::owner_all);
  e.command = script.string();
  ClientConfig c;
  c.exec = e;
  Credentials creds(c);
  boost::asio::io_context ioc;
  std::vector<std::string> got;
  for (int i = 0; i < 3; ++i)
    boost::asio::co_spawn(ioc, creds.authorization(),
                          [&](std::exception_ptr, Result<std::string> a) {
                            got.push_back(a ? *a : a.error().message);
                          });
  ioc.run();
  BOOST_TEST(got == (std::vector<std::string>{"Bearer shared", "Bearer shared", "Bearer shared"}),
             boost::test_tools::per_element());
  std::ifstream in(counter);
  std::string line;
  int runs = 0;
  while (std::getline(in, line))
    ++runs;
  BOOST_TEST(runs == 1);
}
