// Secrets and TLS, checked from outside: the agent runs at debug level in
// both log formats with a bearer token and a client key in its kubeconfig,
// and no line it writes may carry either; a server it cannot verify is fatal
// (exit 3, nothing written) unless the kubeconfig says
// insecure-skip-tls-verify, which works and warns loudly.
#define BOOST_TEST_MODULE e2e_security
#include <fstream>
#include <sstream>

#include <boost/test/unit_test.hpp>

#include "sim_cluster.hpp"

using namespace cnimig::test;

namespace {

std::string read_file(const fs::path& path) {
  std::ifstream in(path);
  std::stringstream text;
  text << in.rdbuf();
  return text.str();
}

void write_file(const fs::path& path, const std::string& text) {
  std::ofstream(path) << text;
}

// The value of the first `key: value` line.
std::string yaml_value(const std::string& yaml, const std::string& key) {
  const auto at = yaml.find(key + ": ");
  BOOST_TEST_REQUIRE(at != std::string::npos, key << " not in kubeconfig");
  const auto start = at + key.size() + 2;
  return yaml.substr(start, yaml.find('\n', start) - start);
}

std::string replace_line_value(std::string yaml, const std::string& key, const std::string& value) {
  const auto old = yaml_value(yaml, key);
  const auto at = yaml.find(key + ": " + old);
  return yaml.replace(at, key.size() + 2 + old.size(), key + ": " + value);
}

// A self-signed certificate and its key, made by the openssl CLI: a client
// identity the agent must load but never print, or a CA that did not sign
// the simulator's certificate.
struct Identity {
  std::string cert_pem;
  std::string key_pem;
};

Identity make_identity(const fs::path& dir, const std::string& name) {
  const auto key = dir / (name + ".key");
  const auto cert = dir / (name + ".crt");
  auto r = run_process({"openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                        "ec_paramgen_curve:prime256v1", "-nodes", "-keyout", key.string(), "-out",
                        cert.string(), "-subj", "/CN=" + name, "-days", "1"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.stderr_text);
  return {read_file(cert), read_file(key)};
}

std::string base64(const std::string& text) {
  auto r = run_process({"openssl", "base64", "-A"}, {}, std::chrono::seconds(10), text);
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.stderr_text);
  return r.stdout_text;
}

// The base64 body lines of a PEM block, long enough to be unmistakable.
std::vector<std::string> pem_body_lines(const std::string& pem) {
  std::vector<std::string> out;
  for (const auto& line : lines(pem)) {
    if (!line.starts_with("-----") && line.size() >= 16)
      out.push_back(line);
  }
  return out;
}

std::int64_t writes(const SimCluster& cluster) {
  return request_count(cluster.report(), "create") + request_count(cluster.report(), "patch") +
         request_count(cluster.report(), "update") + request_count(cluster.report(), "delete");
}

ProcessResult agent_with(const SimCluster& cluster, const fs::path& kubeconfig,
                         std::vector<std::string> args) {
  auto argv = cluster.agent_argv(std::move(args));
  const auto at = std::find(argv.begin(), argv.end(), "--kubeconfig");
  *(at + 1) = kubeconfig.string();
  return run_process(argv, {}, 600s);
}

}  // namespace

BOOST_AUTO_TEST_CASE(debug_logs_carry_no_token_or_key) {
  SimCluster cluster(4);
  const auto original = read_file(cluster.kubeconfig);
  const auto token = yaml_value(original, "token");
  BOOST_TEST_REQUIRE(token.size() >= 16);
  const auto client = make_identity(cluster.dir, "client");

  // The same user with a client certificate and key besides the token.
  auto with_key = original;
  const auto user_at = with_key.find("    token: ");
  with_key.insert(user_at, "    client-certificate-data: " + base64(client.cert_pem) +
                               "\n    client-key-data: " + base64(client.key_pem) + "\n");
  const auto kubeconfig = cluster.dir / "kubeconfig-with-key";
  write_file(kubeconfig, with_key);

  std::vector<std::string> secrets = {token, base64(client.key_pem)};
  for (const auto& line : pem_body_lines(client.key_pem))
    secrets.push_back(line);

  cluster.wait_settled();
  for (const char* format : {"text", "json"}) {
    // Plan and apply: apply exercises every verb, exec and the Lease.
    for (const bool apply : {false, true}) {
      std::vector<std::string> args = {"--log-level", "debug", "--log-format", format};
      if (apply)
        args.push_back("--apply");
      auto r = agent_with(cluster, kubeconfig, args);
      BOOST_TEST_REQUIRE(r.exit_code == 0, format << (apply ? " apply" : " plan") << " exit "
                                                  << r.exit_code << ": " << r.stderr_text);
      // Debug level reaches the API layer, where a careless log would leak.
      BOOST_TEST(r.stderr_text.find("kube: GET /api/v1/nodes") != std::string::npos,
                 "debug level logs each API request: " << r.stderr_text);
      for (const auto& [stream, text] :
           {std::pair{"stdout", &r.stdout_text}, std::pair{"stderr", &r.stderr_text}}) {
        for (const auto& line : lines(*text)) {
          BOOST_TEST(line.find("PRIVATE KEY") == std::string::npos, stream << ": " << line);
          for (const auto& secret : secrets) {
            BOOST_TEST(line.find(secret) == std::string::npos,
                       format << (apply ? " apply " : " plan ") << stream
                              << " line carries a secret: " << line);
          }
        }
      }
    }
  }
  check_migrated(cluster, 1);
}

BOOST_AUTO_TEST_CASE(unverifiable_server_is_fatal_unless_skipped) {
  SimCluster cluster(2);
  cluster.wait_settled();
  const auto original = read_file(cluster.kubeconfig);
  const auto writes_before = writes(cluster);

  // A CA that did not sign the simulator's certificate.
  const auto stranger = make_identity(cluster.dir, "stranger-ca");
  const auto wrong_ca = cluster.dir / "kubeconfig-wrong-ca";
  write_file(wrong_ca,
             replace_line_value(original, "certificate-authority-data", base64(stranger.cert_pem)));
  auto refused = agent_with(cluster, wrong_ca, {"--apply"});
  BOOST_TEST(refused.exit_code == 3, refused.stderr_text);
  BOOST_TEST(refused.stderr_text.find("certificate") != std::string::npos, refused.stderr_text);
  BOOST_TEST(writes(cluster) == writes_before, "nothing is written to an unverified server");

  // No CA at all and no skip: the system trust store does not know the
  // simulator's CA either.
  auto without_ca = original;
  without_ca.erase(without_ca.find("    certificate-authority-data: "),
                   yaml_value(original, "certificate-authority-data").size() + 33);
  const auto no_ca = cluster.dir / "kubeconfig-no-ca";
  write_file(no_ca, without_ca);
  auto refused_again = agent_with(cluster, no_ca, {});
  BOOST_TEST(refused_again.exit_code == 3, refused_again.stderr_text);

  // Explicitly skipped: it works, and says so loudly.
  auto skipped = without_ca;
  skipped.insert(skipped.find("    server: "), "    insecure-skip-tls-verify: true\n");
  const auto skip = cluster.dir / "kubeconfig-skip";
  write_file(skip, skipped);
  auto planned = agent_with(cluster, skip, {});
  BOOST_TEST(planned.exit_code == 0, planned.stderr_text);
  BOOST_TEST(has_event(events_of(planned), "plan.completed"));
  BOOST_TEST(planned.stderr_text.find("insecure-skip-tls-verify") != std::string::npos,
             "no warning about skipped verification: " << planned.stderr_text);
  BOOST_TEST(writes(cluster) == writes_before);
}
