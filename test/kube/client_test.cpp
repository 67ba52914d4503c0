#define BOOST_TEST_MODULE kube_client
#include "cnimig/kube/client.hpp"

#include <fstream>

#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "errc_print.hpp"
#include "tls_test_server.hpp"

using namespace cnimig;
using namespace cnimig::kube;
using namespace cnimig::kube::test;
using namespace std::chrono_literals;
namespace json = boost::json;
namespace fs = std::filesystem;

namespace {

struct Fixture {
  asio::io_context ioc;
  net::CertificateAuthority ca;
  net::IssuedCertificate server_cert = ca.issue_server("localhost", {"localhost"}, {"127.0.0.1"});
  TlsTestServer server{ioc, server_cert};
  std::vector<unsigned> statuses;  // seen by the request observer

  ClientConfig config(std::string token = "secret-token") {
    ClientConfig c;
    c.server = server.url();
    c.ca_pem = ca.ca_pem();
    c.token = std::move(token);
    c.description = "test";
    return c;
  }
  std::unique_ptr<Client> client(ClientConfig c) {
    ClientOptions o;
    o.retry.base = 5ms;
    o.retry.cap = 20ms;
    o.observer = [this](const RequestRecord& r) { statuses.push_back(r.status); };
    auto cl = Client::create(ioc.get_executor(), std::move(c), o);
    BOOST_TEST_REQUIRE(cl.has_value());
    return std::move(*cl);
  }
};

std::string auth_of(const Request& r) {
  return std::string(r[http::field::authorization]);
}

struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "kubecl-XXXXXX").string();
    path = mkdtemp(tmpl.data());
  }
  ~TempDir() { fs::remove_all(path); }
};

std::vector<std::pair<std::string, std::string>> retry_after_1() {
  return {{"Retry-After", "1"}};
}

const std::string node_json = R"({"kind":"Node","apiVersion":"v1","metadata":{"name":"n1"}})";

}  // namespace

BOOST_FIXTURE_TEST_CASE(bearer_token_and_keep_alive_pool, Fixture) {
  server.start([](Request& r, Stream& s) -> asio::awaitable<bool> {
    if (auth_of(r) != "Bearer secret-token")
      co_return co_await respond(s, 401, status_body(401, "Unauthorized"));
    co_return co_await respond(s, 200, node_json);
  });
  auto c = client(config());
  run(ioc, [&]() -> asio::awaitable<void> {
    for (int i = 0; i < 3; ++i) {
      auto n = co_await c->get(ResourcePath::core("nodes").named("n1"), RequestOptions());
      BOOST_TEST_REQUIRE(n.has_value());
      BOOST_TEST(n->at("metadata").at("name").as_string() == "n1");
    }
  });
  BOOST_TEST(server.accepted == 1);  // one connection reused
  BOOST_TEST(server.targets.at(0) == "/api/v1/nodes/n1");
  BOOST_TEST(server.requests.at(0)[http::field::host] ==
             "127.0.0.1:" + std::to_string(server.port()));
}

BOOST_FIXTURE_TEST_CASE(wrong_token_is_unauthorized_without_leaking_it, Fixture) {
  server.start([](Request&, Stream& s) -> asio::awaitable<bool> {
    co_return co_await respond(s, 401,
                               status_body(401, "Unauthorized", R"(,"message":"Unauthorized")"));
  });
  auto c = client(config("very-secret"));
  run(ioc, [&]() -> asio::awaitable<void> {
    auto n = co_await c->get(ResourcePath::core("nodes"), RequestOptions());
    BOOST_TEST_REQUIRE(!n.has_value());
    BOOST_TEST(n.error().code == Errc::unauthorized);
    BOOST_TEST(n.error().describe().find("very-secret") == std::string::npos);
  });
  BOOST_TEST(server.requests.size() == 1u);  // a static token cannot be refreshed
}

BOOST_FIXTURE_TEST_CASE(token_file_is_reread_after_401, Fixture) {
  TempDir d;
  auto tf = d.path / "token";
  std::ofstream(tf) << "old";
  server.start([&](Request& r, Stream& s) -> asio::awaitable<bool> {
    if (auth_of(r) == "Bearer new")
      co_return co_await respond(s, 200, node_json);
    // The token rotated on disk meanwhile (as kubelet rotates projected tokens).
    std::ofstream(tf) << "new";
    fs::last_write_time(tf, fs::last_write_time(tf) + 2s);
    co_return co_await respond(s, 401, status_body(401, "Unauthorized"));
  });
  auto cfg = config("");
  cfg.token_file = tf;
  auto c = client(cfg);
  run(ioc, [&]() -> asio::awaitable<void> {
    auto n = co_await c->get(ResourcePath::core("nodes").named("n1"), RequestOptions());
    BOOST_TEST(n.has_value());
  });
  BOOST_TEST(server.requests.size() == 2u);
}

BOOST_FIXTURE_TEST_CASE(exec_plugin_token_cached_and_rerun_on_401, Fixture) {
  TempDir d;
  auto counter = d.path / "count";
  auto script = d.path / "plugin.sh";
  std::ofstream(script)
      << "#!/bin/sh\nn=$(cat " << counter.string()
      << " 2>/dev/null || echo 0)\nn=$((n+1))\necho $n > " << counter.string()
      << "\nprintf "
         "'{\"apiVersion\":\"client.authentication.k8s.io/v1\",\"kind\":\"ExecCredential\","
         "\"status\":{\"token\":\"tok-%s\"}}' \"$n\"\n";
  fs::permissions(script, fs::perms::owner_all);
  server.start([](Request& r, Stream& s) -> asio::awaitable<bool> {
    if (auth_of(r) != "Bearer tok-2")
      co_return co_await respond(s, 401, status_body(401, "Unauthorized"));
    co_return co_await respond(s, 200, node_json);
  });
  auto cfg = config("");
  cfg.exec = ExecPluginConfig{"client.authentication.k8s.io/v1", script.string(), {}, {}, "Never"};
  auto c = client(cfg);
  run(ioc, [&]() -> asio::awaitable<void> {
    {
      auto r_ = co_await c->get(ResourcePath::core("nodes").named("n1"), RequestOptions());
      BOOST_TEST(r_.has_value());
    }
    {
      auto r_ = co_await c->get(ResourcePath::core("nodes").named("n1"), RequestOptions());
      BOOST_TEST(r_.has_value());
    }
  });
  std::ifstream in(counter);
  int runs = 0;
  in >> runs;
  BOOST_TEST(runs == 2);  // once at start, once after the 401; then cached
  BOOST_TEST(server.requests.size() == 3u);
}

BOOST_FIXTURE_TEST_CASE(client_certificate_auth, Fixture) {
  auto client_cert = ca.issue_client("cnimig-agent", {"system:masters"});
  TlsTestServer mtls(ioc, server_cert, ca.ca_pem());
  mtls.start([](Request&, Stream& s) -> asio::awaitable<bool> {
    co_return co_await respond(s, 200, node_json);
  });
  auto cfg = config("");
  cfg.server = mtls.url();
  auto without = client(cfg);
  cfg.client_cert_pem = client_cert.cert_pem;
  cfg.client_key_pem = client_cert.key_pem;
  auto with = client(cfg);
  run(ioc, [&]() -> asio::awaitable<void> {
    {
      auto r_ = co_await with->get(ResourcePath::core("nodes").named("n1"), RequestOptions());
      BOOST_TEST(r_.has_value());
    }
    RequestOptions once;
    once.max_attempts = 1;
    auto refused = co_await without->get(ResourcePath::core("nodes").named("n1"), once);
    BOOST_TEST(!refused.has_value());
  });
}

BOOST_FIXTURE_TEST_CASE(ca_mismatch_and_hostname_mismatch_are_refused, Fixture) {
  server.start([](Request&, Stream& s) -> asio::awaitable<bool> {
    co_return co_await respond(s, 200, node_json);
  });
  net::CertificateAuthority other;
  auto wrong_ca = config();
  wrong_ca.ca_pem = other.ca_pem();
  auto c1 = client(wrong_ca);

  auto misnamed_cert = ca.issue_server("elsewhere", {"elsewhere.example"}, {"10.1.2.3"});
  TlsTestServer misnamed(ioc, misnamed_cert);
  misnamed.start([](Request&, Stream& s) -> asio::awaitable<bool> {
    co_return co_await respond(s, 200, node_json);
  });
  auto wrong_name = config();
  wrong_name.server = misnamed.url();
  auto c2 = client(wrong_name);
  // ...but tls-server-name naming a SAN the certificate has makes it valid.
  auto sni = wrong_name;
  sni.tls_server_name = "elsewhere.example";
  auto c3 = client(sni);
  // insecure-skip-tls-verify accepts anything (and warns).
  auto insecure = wrong_ca;
  insecure.ca_pem.clear();
  insecure.insecure_skip_tls_verify = true;
  auto c4 = client(insecure);

  run(ioc, [&]() -> asio::awaitable<void> {
    auto r1 = co_await c1->get(ResourcePath::core("nodes").named("n1"), RequestOptions());
    BOOST_TEST_REQUIRE(!r1.has_value());
    BOOST_TEST(r1.error().code == Errc::tls);
    auto r2 = co_await c2->get(ResourcePath::core("nodes").named("n1"), RequestOptions());
    BOOST_TEST_REQUIRE(!r2.has_value());
    BOOST_TEST(r2.error().code == Errc::tls);
    {
      auto r_ = co_await c3->get(ResourcePath::core("nodes").named("n1"), RequestOptions());
      BOOST_TEST(r_.has_value());
    }
    {
      auto r_ = co_await c4->get(ResourcePath::core("nodes").named("n1"), RequestOptions());
      BOOST_TEST(r_.has_value());
    }
  });
  BOOST_TEST(server.requests.size() == 1u);  // only the insecure client got through
  BOOST_TEST(misnamed.requests.size() == 1u);
  BOOST_TEST(server.accepted == 2);  // TLS failures are not retried
}

BOOST_FIXTURE_TEST_CASE(retries_429_honouring_retry_after, Fixture) {
  int n = 0;
  server.start([&](Request&, Stream& s) -> asio::awaitable<bool> {
    if (n++ == 0)
      co_return co_await respond(s, 429, status_body(429, "TooManyRequests"), retry_after_1());
    co_return co_await respond(s, 200, node_json);
  });
  auto c = client(config());
  auto start = std::chrono::steady_clock::now();
  run(ioc, [&]() -> asio::awaitable<void> {
    {
      auto r_ = co_await c->get(ResourcePath::core("nodes").named("n1"), RequestOptions());
      BOOST_TEST(r_.has_value());
    }
  });
  BOOST_TEST((std::chrono::steady_clock::now() - start) >= 950ms);
  BOOST_TEST(statuses == (std::vector<unsigned>{429, 200}), boost::test_tools::per_element());
}

BOOST_FIXTURE_TEST_CASE(retries_500_then_gives_up, Fixture) {
  int n = 0;
  server.start([&](Request& r, Stream& s) -> asio::awaitable<bool> {
    if (r.target() == "/api/v1/nodes/flaky" && n++ < 2)
      co_return co_await respond(s, 500, status_body(500, "InternalError"));
    if (r.target() == "/api/v1/nodes/flaky")
      co_return co_await respond(s, 200, node_json);
    co_return co_await respond(s, 503, status_body(503, "ServiceUnavailable"));
  });
  auto c = client(config());
  run(ioc, [&]() -> asio::awaitable<void> {
    {
      auto r_ = co_await c->get(ResourcePath::core("nodes").named("flaky"), RequestOptions());
      BOOST_TEST(r_.has_value());
    }
    RequestOptions three;
    three.max_attempts = 3;
    auto down = co_await c->get(ResourcePath::core("nodes").named("down"), three);
    BOOST_TEST_REQUIRE(!down.has_value());
    BOOST_TEST(down.error().code == Errc::server_error);
    BOOST_TEST(down.error().http_status == 503);
  });
  BOOST_TEST(statuses == (std::vector<unsigned>{500, 500, 200, 503, 503, 503}),
             boost::test_tools::per_element());
}

BOOST_FIXTURE_TEST_CASE(no_retry_on_4xx_and_typed_conflicts, Fixture) {
  server.start([&](Request& r, Stream& s) -> asio::awaitable<bool> {
    if (r.method() == http::verb::post)
      co_return co_await respond(
          s, 409, status_body(409, "AlreadyExists", R"(,"message":"pods \"x\" already exists")"));
    if (r.method() == http::verb::put)
      co_return co_await respond(s, 409, status_body(409, "Conflict"));
    if (r.method() == http::verb::patch)
      co_return co_await respond(s, 403, status_body(403, "Forbidden"));
    co_return co_await respond(s, 404, status_body(404, "NotFound"));
  });
  auto c = client(config());
  run(ioc, [&]() -> asio::awaitable<void> {
    auto pods = ResourcePath::core("pods").in("default");
    auto g = co_await c->get(pods.named("x"), RequestOptions());
    BOOST_TEST(g.error().code == Errc::not_found);
    json::object named_x;
    named_x["metadata"].emplace_object()["name"] = "x";
    auto cr = co_await c->create(pods, named_x, WriteOptions());
    BOOST_TEST(cr.error().code == Errc::already_exists);
    BOOST_TEST(cr.error().message.find("already exists") != std::string::npos);
    auto up = co_await c->replace(pods.named("x"), json::object{}, WriteOptions());
    BOOST_TEST(up.error().code == Errc::conflict);
    auto p = co_await c->patch(pods.named("x"), PatchType::merge, "{}", WriteOptions());
    BOOST_TEST(p.error().code == Errc::forbidden);
  });
  BOOST_TEST(statuses.size() == 4u);
}

BOOST_FIXTURE_TEST_CASE(dropped_connection_retries_get_but_not_create, Fixture) {
  int gets = 0;
  int posts = 0;
  server.start([&](Request& r, Stream& s) -> asio::awaitable<bool> {
    if (r.method() == http::verb::post) {
      if (posts++ == 0)
        co_return false;  // read the request, then drop: ambiguous
      co_return co_await respond(s, 503, status_body(503, "ServiceUnavailable"), retry_after_1());
    }
    if (gets++ == 0)
      co_return false;
    co_return co_await respond(s, 200, node_json);
  });
  auto c = client(config());
  run(ioc, [&]() -> asio::awaitable<void> {
    {
      auto r_ = co_await c->get(ResourcePath::core("nodes").named("n1"), RequestOptions());
      BOOST_TEST(r_.has_value());
    }
    auto cr = co_await c->create(ResourcePath::core("pods").in("default"), json::object{},
                                 WriteOptions());
    BOOST_TEST_REQUIRE(!cr.has_value());
    BOOST_TEST(cr.error().code == Errc::transport);
    // 503 with Retry-After: the server did not act, so a create is repeated.
    WriteOptions twice;
    twice.request.max_attempts = 2;
    auto again =
        co_await c->create(ResourcePath::core("pods").in("default"), json::object{}, twice);
    BOOST_TEST(again.error().http_status == 503);
  });
  BOOST_TEST(gets == 2);
  BOOST_TEST(posts == 3);  // 1 dropped (not retried) + 2 attempts on 503
}

BOOST_FIXTURE_TEST_CASE(deadline_on_every_request, Fixture) {
  server.start([&](Request&, Stream& s) -> asio::awaitable<bool> {
    asio::steady_timer t(co_await asio::this_coro::executor, 5s);  // never answers in time
    co_await t.async_wait(nothrow);
    co_return co_await respond(s, 200, node_json);
  });
  auto c = client(config());
  run(ioc, [&]() -> asio::awaitable<void> {
    RequestOptions o;
    o.timeout = 200ms;
    o.max_attempts = 1;
    auto started = std::chrono::steady_clock::now();
    auto r = co_await c->get(ResourcePath::core("nodes").named("n1"), o);
    BOOST_TEST_REQUIRE(!r.has_value());
    BOOST_TEST(r.error().code == Errc::timeout);
    BOOST_TEST((std::chrono::steady_clock::now() - started) < 2s);
  });
}

BOOST_FIXTURE_TEST_CASE(list_follows_continue_pages_with_selectors, Fixture) {
  server.start([&](Request& r, Stream& s) -> asio::awaitable<bool> {
    std::string t(r.target());
    std::string page = t.find("continue=p2") != std::string::npos   ? "2"
                       : t.find("continue=p3") != std::string::npos ? "3"
                                                                    : "1";
    std::string next = page == "1" ? "p2" : page == "2" ? "p3" : "";
    std::string body = R"({"kind":"PodList","metadata":{"resourceVersion":"10)" + page +
                       R"(","continue":")" + next + R"("},"items":[{"metadata":{"name":"a)" + page +
                       R"("}},{"metadata":{"name":"b)" + page + R"("}}]})";
    co_return co_await respond(s, 200, body);
  });
  auto c = client(config());
  run(ioc, [&]() -> asio::awaitable<void> {
    ListOptions o;
    o.limit = 2;
    o.label_selector = "app=knet-stress";
    o.field_selector = "spec.nodeName=n1";
    auto l = co_await c->list(ResourcePath::core("pods"), o);
    BOOST_TEST_REQUIRE(l.has_value());
    BOOST_TEST(l->items.size() == 6u);
    BOOST_TEST(l->items.at(5).at("metadata").at("name").as_string() == "b3");
    BOOST_TEST(l->resource_version == "103");
  });
  BOOST_TEST_REQUIRE(server.targets.size() == 3u);
  BOOST_TEST(
      server.targets[0] ==
      "/api/v1/pods?limit=2&labelSelector=app%3Dknet-stress&fieldSelector=spec.nodeName%3Dn1");
  BOOST_TEST(server.targets[1].find("continue=p2") != std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(write_verbs_send_the_right_wire_format, Fixture) {
  server.start([&](Request& r, Stream& s) -> asio::awaitable<bool> {
    if (r.target().starts_with("/apis/authorization.k8s.io"))
      co_return co_await respond(s, 201,
                                 R"({"kind":"SelfSubjectAccessReview","status":{"allowed":true}})");
    co_return co_await respond(s, r.method() == http::verb::post ? 201 : 200,
                               R"({"kind":"Status","status":"Success"})");
  });
  auto c = client(config());
  auto ds = ResourcePath::of("apps", "v1", "daemonsets").in("kube-system").named("canal");
  run(ioc, [&]() -> asio::awaitable<void> {
    WriteOptions dry;
    dry.dry_run = true;
    {
      auto r_ = co_await c->patch(ds, PatchType::merge, R"({"spec":{}})", WriteOptions());
      BOOST_TEST(r_.has_value());
    }
    {
      auto r_ = co_await c->patch(ds, PatchType::json, R"([{"op":"remove","path":"/x"}])", dry);
      BOOST_TEST(r_.has_value());
    }
    {
      auto r_ = co_await c->patch(ds, PatchType::strategic, R"({"spec":{}})", WriteOptions());
      BOOST_TEST(r_.has_value());
    }
    json::object ds_body;
    ds_body["kind"] = "DaemonSet";
    ApplyOptions ap;
    ap.force = true;
    {
      auto r_ = co_await c->apply(ds, ds_body, ap);
      BOOST_TEST(r_.has_value());
    }
    DeleteOptions del;
    del.grace_period_seconds = 0;
    del.precondition_uid = "u-1";
    del.precondition_resource_version = "42";
    del.propagation_policy = "Background";
    {
      auto r_ = co_await c->remove(ResourcePath::core("pods").in("ns").named("p"), del);
      BOOST_TEST(r_.has_value());
    }
    DeleteOptions ev;
    ev.dry_run = true;
    {
      auto r_ = co_await c->evict("ns", "p", ev);
      BOOST_TEST(r_.has_value());
    }
    AccessCheck check;
    check.verb = "create";
    check.resource = "pods";
    check.subresource = "eviction";
    check.namespace_ = "ns";
    auto allowed = co_await c->can_i(check, RequestOptions());
    BOOST_TEST_REQUIRE(allowed.has_value());
    BOOST_TEST(*allowed);
  });
  auto& q = server.requests;
  BOOST_TEST_REQUIRE(q.size() == 7u);
  BOOST_TEST(q[0][http::field::content_type] == "application/merge-patch+json");
  BOOST_TEST(q[1][http::field::content_type] == "application/json-patch+json");
  BOOST_TEST(q[1].target() == "/apis/apps/v1/namespaces/kube-system/daemonsets/canal?dryRun=All");
  BOOST_TEST(q[2][http::field::content_type] == "application/strategic-merge-patch+json");
  BOOST_TEST(q[3][http::field::content_type] == "application/apply-patch+yaml");
  BOOST_TEST(
      q[3].target() ==
      "/apis/apps/v1/namespaces/kube-system/daemonsets/canal?fieldManager=cnimig-agent&force=true");
  BOOST_TEST(q[4].method() == http::verb::delete_);
  auto del_body = json::parse(q[4].body()).as_object();
  BOOST_TEST(del_body.at("gracePeriodSeconds").as_int64() == 0);
  BOOST_TEST(del_body.at("preconditions").at("uid").as_string() == "u-1");
  BOOST_TEST(del_body.at("preconditions").at("resourceVersion").as_string() == "42");
  BOOST_TEST(del_body.at("propagationPolicy").as_string() == "Background");
  BOOST_TEST(q[5].target() == "/api/v1/namespaces/ns/pods/p/eviction?dryRun=All");
  auto ev_body = json::parse(q[5].body()).as_object();
  BOOST_TEST(ev_body.at("apiVersion").as_string() == "policy/v1");
  BOOST_TEST(ev_body.at("kind").as_string() == "Eviction");
  BOOST_TEST(ev_body.at("metadata").at("name").as_string() == "p");
  auto sar = json::parse(q[6].body()).as_object();
  BOOST_TEST(sar.at("spec").at("resourceAttributes").at("subresource").as_string() == "eviction");
}

BOOST_FIXTURE_TEST_CASE(requests_honour_cancellation, Fixture) {
  server.start([&](Request&, Stream& s) -> asio::awaitable<bool> {
    asio::steady_timer t(co_await asio::this_coro::executor, 10s);
    co_await t.async_wait(nothrow);
    co_return co_await respond(s, 200, node_json);
  });
  auto c = client(config());
  run(ioc, [&]() -> asio::awaitable<void> {
    using namespace asio::experimental::awaitable_operators;
    auto started = std::chrono::steady_clock::now();
    asio::steady_timer stop(co_await asio::this_coro::executor, 100ms);
    auto path = ResourcePath::core("nodes").named("n1");
    auto which = co_await (c->get(path, RequestOptions()) || stop.async_wait(nothrow));
    BOOST_TEST(which.index() == 1u);
    BOOST_TEST((std::chrono::steady_clock::now() - started) < 2s);
  });
}
