#define BOOST_TEST_MODULE kube_decoders
#include <boost/test/unit_test.hpp>

#include "cnimig/kube/exec_channel_decoder.hpp"
#include "cnimig/kube/resource_path.hpp"
#include "cnimig/kube/retry_policy.hpp"
#include "cnimig/kube/status_error.hpp"

#include "errc_print.hpp"

using namespace cnimig;
using namespace cnimig::kube;
using namespace std::chrono_literals;

BOOST_AUTO_TEST_CASE(resource_paths) {
  BOOST_TEST(ResourcePath::core("nodes").named("n1").path() == "/api/v1/nodes/n1");
  BOOST_TEST(ResourcePath::core("pods").in("ns").named("p").sub("eviction").path() ==
             "/api/v1/namespaces/ns/pods/p/eviction");
  BOOST_TEST(ResourcePath::of("apps", "v1", "daemonsets").in("kube-system").path() ==
             "/apis/apps/v1/namespaces/kube-system/daemonsets");
  BOOST_TEST(ResourcePath::of("apps", "v1", "daemonsets").in("x").named("y").collection().path() ==
             "/apis/apps/v1/namespaces/x/daemonsets");
  BOOST_TEST(ResourcePath::of("apps", "v1", "daemonsets").api_version() == "apps/v1");
  BOOST_TEST(url_encode("a=b,c!=d e/f") == "a%3Db%2Cc%21%3Dd%20e%2Ff");
}

BOOST_AUTO_TEST_CASE(status_bodies_become_typed_errors) {
  auto e = error_from_response(
      409, R"({"kind":"Status","status":"Failure","reason":"AlreadyExists","message":"exists"})",
      "");
  BOOST_TEST((e.code == Errc::already_exists));
  BOOST_TEST(e.message == "exists");
  BOOST_TEST(e.http_status == 409);
  e = error_from_response(409, R"({"kind":"Status","reason":"Conflict"})", "");
  BOOST_TEST((e.code == Errc::conflict));
  BOOST_TEST((error_from_response(404, R"({"kind":"Status","reason":"NotFound"})", "").code ==
              Errc::not_found));
  BOOST_TEST((error_from_response(403, "", "").code == Errc::forbidden));
  BOOST_TEST((error_from_response(401, "garbage", "").code == Errc::unauthorized));
  BOOST_TEST(
      (error_from_response(410, R"({"kind":"Status","reason":"Expired"})", "").code == Errc::gone));
  BOOST_TEST((error_from_response(422, R"({"kind":"Status","reason":"Invalid"})", "").code ==
              Errc::invalid));
  BOOST_TEST((error_from_response(500, "", "").code == Errc::server_error));
  auto tm = error_from_response(
      429, R"({"kind":"Status","reason":"TooManyRequests","details":{"retryAfterSeconds":7}})", "");
  BOOST_TEST((tm.code == Errc::too_many_requests));
  BOOST_TEST(tm.retry_after.count() == 7000);
  BOOST_TEST(error_from_response(429, "", "3").retry_after.count() == 3000);
}

BOOST_AUTO_TEST_CASE(retry_rules) {
  RetryPolicy p;
  p.base = 100ms;
  p.cap = 1000ms;
  BOOST_TEST(p.backoff(1, 0.0).count() == 50);
  BOOST_TEST(p.backoff(1, 0.999).count() <= 100);
  BOOST_TEST(p.backoff(3, 0.0).count() == 200);
  BOOST_TEST(p.backoff(30, 0.999).count() <= 1000);
  Error ra = make_error(Errc::too_many_requests, "");
  ra.retry_after = 4s;
  BOOST_TEST(p.delay(1, ra, 0.5).count() == 4000);

  Error e500 = make_error(Errc::server_error, "");
  e500.http_status = 500;
  BOOST_TEST(should_retry(e500, true, true));
  BOOST_TEST(!should_retry(e500, false, true));
  Error e503 = e500;
  e503.http_status = 503;
  e503.retry_after = 1s;
  BOOST_TEST(should_retry(e503, false, true));
  BOOST_TEST(should_retry(ra, false, true));
  Error tr = make_error(Errc::transport, "");
  BOOST_TEST(should_retry(tr, false, false));  // connect failed: nothing sent
  BOOST_TEST(!should_retry(tr, false, true));  // dropped after sending: ambiguous
  BOOST_TEST(should_retry(tr, true, true));
  BOOST_TEST(!should_retry(make_error(Errc::not_found, ""), true, true));
  BOOST_TEST(!should_retry(make_error(Errc::tls, ""), true, false));
}

namespace {
std::string frame(char channel, std::string_view payload) {
  return std::string(1, channel) + std::string(payload);
}
}  // namespace

BOOST_AUTO_TEST_CASE(exec_frames_success) {
  ExecChannelDecoder d;
  BOOST_TEST(d.feed(frame(1, "hello ")).has_value());
  BOOST_TEST(d.feed(frame(2, "warn")).has_value());
  BOOST_TEST(d.feed(frame(1, "world")).has_value());
  BOOST_TEST(!d.has_status());
  BOOST_TEST(!d.result().has_value());
  BOOST_TEST(d.feed(frame(3, R"({"metadata":{},"status":"Success"})")).has_value());
  auto r = d.result();
  BOOST_TEST_REQUIRE(r.has_value());
  BOOST_TEST(r->exit_code == 0);
  BOOST_TEST(r->stdout_text == "hello world");
  BOOST_TEST(r->stderr_text == "warn");
}

BOOST_AUTO_TEST_CASE(exec_frames_non_zero_exit_and_failures) {
  ExecChannelDecoder d;
  BOOST_TEST(d.feed(frame(2, "unreachable: 3 peers")).has_value());
  BOOST_TEST(d.feed(std::string(1, '\xff') + std::string(1, '\0')).has_value());  // v5 close
  BOOST_TEST(
      d
          .feed(frame(
              3,
              R"({"status":"Failure","reason":"NonZeroExitCode","message":"command terminated with non-zero exit code","details":{"causes":[{"reason":"ExitCode","message":"42"}]}})"))
          .has_value());
  BOOST_TEST(d.result()->exit_code == 42);

  auto internal = parse_exec_status(
      R"({"status":"Failure","reason":"InternalError","message":"container not found"})");
  BOOST_TEST_REQUIRE(!internal.has_value());
  BOOST_TEST(internal.error().message.find("container not found") != std::string::npos);
  BOOST_TEST(
      !parse_exec_status(
           R"({"status":"Failure","reason":"NonZeroExitCode","details":{"causes":[{"reason":"ExitCode","message":"x"}]}})")
           .has_value());
  BOOST_TEST(!parse_exec_status("{").has_value());
  ExecChannelDecoder bad;
  BOOST_TEST(!bad.feed(frame(9, "?")).has_value());
  ExecChannelDecoder capped(4);
  BOOST_TEST(capped.feed(frame(1, "123456")).has_value());
  BOOST_TEST(capped.feed(frame(3, R"({"status":"Success"})")).has_value());
  BOOST_TEST(capped.result()->stdout_text == "1234");
}
