#define BOOST_TEST_MODULE sim authorizer
// The `forbidden` and `admission-denied` faults and the served version: what
// a real API server refuses (RBAC without a rule, an authorization cache not
// yet synced after a restart, an admission webhook), and how it authorizes a
// WebSocket exec per release.
#include "authorizer.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "cnimig/sim/simulator.hpp"

#include "api_fixture.hpp"

namespace json = boost::json;
using namespace cnimig::sim;
using namespace std::chrono_literals;

namespace {

std::string review(const std::string& verb, const std::string& resource,
                   const std::string& subresource = "") {
  json::object attrs{{"verb", verb}, {"resource", resource}};
  if (!subresource.empty())
    attrs["subresource"] = subresource;
  return json::serialize(json::object{{"apiVersion", "authorization.k8s.io/v1"},
                                      {"kind", "SelfSubjectAccessReview"},
                                      {"spec", {{"resourceAttributes", attrs}}}});
}

}  // namespace

BOOST_AUTO_TEST_CASE(forbidden_rules_parse_round_trip_and_refuse_malformed_ones) {
  auto f = FaultSpec::parse("forbidden=list:nodes|*:leases:2s,admission-denied=get:pods/exec");
  BOOST_TEST_REQUIRE(f.has_value(), f.error().message);
  BOOST_TEST_REQUIRE(f->forbidden.size() == 3u);
  const auto again = FaultSpec::parse(f->to_string());
  BOOST_TEST_REQUIRE(again.has_value());
  BOOST_TEST((again->forbidden.size() == 3u));
  BOOST_TEST(again->to_string() == f->to_string());
  for (const char* bad : {"forbidden=nodes", "forbidden=list:", "forbidden=:nodes",
                          "forbidden=list:nodes:soon", "admission-denied=get"}) {
    BOOST_TEST(FaultSpec::parse(bad).has_error(), bad);
  }
}

BOOST_AUTO_TEST_CASE(a_window_of_403_ends_after_its_duration) {
  Authorizer a;
  const auto t0 = Authorizer::Clock::time_point(100s);
  a.set_rules(FaultSpec::parse("forbidden=*:leases.coordination.k8s.io:2s")->forbidden, t0);
  const AccessRequest lease{"update", "coordination.k8s.io", "leases", "", "kube-system", "x"};
  BOOST_TEST(a.refusal(lease, t0 + 1s) != nullptr);
  BOOST_TEST(!a.review_allows(lease, t0 + 1s));
  BOOST_TEST(a.refusal(lease, t0 + 2s) == nullptr);
  BOOST_TEST(a.review_allows(lease, t0 + 3s));
  // Other resources and groups are untouched.
  BOOST_TEST(a.refusal({"update", "", "nodes", "", "", "n"}, t0) == nullptr);
}

BOOST_AUTO_TEST_CASE(rules_match_verb_plural_group_and_subresource) {
  Authorizer a;
  const auto t0 = Authorizer::Clock::time_point(0s);
  a.set_rules(FaultSpec::parse("forbidden=get:pods/exec|list:daemonsets")->forbidden, t0);
  BOOST_TEST(a.refusal({"get", "", "pods", "exec", "ns", "p"}, t0) != nullptr);
  BOOST_TEST(a.refusal({"create", "", "pods", "exec", "ns", "p"}, t0) == nullptr);
  BOOST_TEST(a.refusal({"get", "", "pods", "", "ns", "p"}, t0) == nullptr);
  BOOST_TEST(a.refusal({"list", "apps", "daemonsets", "", "", ""}, t0) != nullptr);
  BOOST_TEST(a.refusal({"watch", "apps", "daemonsets", "", "", ""}, t0) == nullptr);
}

BOOST_AUTO_TEST_CASE(websocket_exec_is_get_before_1_35_and_also_create_from_it) {
  Authorizer a;
  BOOST_TEST((a.websocket_exec_verbs() == std::vector<std::string>{"get"}));  // 1.32
  a.set_version(1, 34);
  BOOST_TEST((a.websocket_exec_verbs() == std::vector<std::string>{"get"}));
  a.set_version(1, 35);
  BOOST_TEST((a.websocket_exec_verbs() == std::vector<std::string>{"get", "create"}));
  int major = 0, minor = 0;
  BOOST_TEST(parse_version("1.35", major, minor));
  BOOST_TEST(minor == 35);
  BOOST_TEST(!parse_version("1", major, minor));
  BOOST_TEST(!parse_version("v1.x", major, minor));
}

BOOST_FIXTURE_TEST_CASE(requests_get_rbacs_403_and_reviews_agree, cnimig::sim::test::ApiFixture) {
  api.set_faults(*FaultSpec::parse("forbidden=list:nodes"));
  auto listed = call("GET", "/api/v1/nodes?limit=500");
  BOOST_TEST(listed.response.status == 403);
  const auto status = body(listed);
  BOOST_TEST(status.at("reason").as_string() == "Forbidden");
  BOOST_TEST(status.at("message").as_string() ==
             "nodes is forbidden: User \"cnimig-sim-admin\" cannot list resource \"nodes\" in API "
             "group \"\" at the cluster scope");
  BOOST_TEST(call("GET", "/api/v1/pods").response.status == 200);
  auto denied = body(call("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                          review("list", "nodes")));
  BOOST_TEST(denied.at("status").at("allowed").as_bool() == false);
  auto allowed = body(call("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                           review("watch", "nodes")));
  BOOST_TEST(allowed.at("status").at("allowed").as_bool() == true);
  BOOST_TEST(api.report().at("forbidden").at("list nodes").as_uint64() == 1u);
  api.set_faults(FaultSpec{});
  BOOST_TEST(call("GET", "/api/v1/nodes").response.status == 200);
}

BOOST_FIXTURE_TEST_CASE(admission_refusals_are_invisible_to_reviews,
                        cnimig::sim::test::ApiFixture) {
  api.set_faults(*FaultSpec::parse("admission-denied=get:pods/exec"));
  auto allowed = body(call("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                           review("get", "pods", "exec")));
  BOOST_TEST(allowed.at("status").at("allowed").as_bool() == true);
  ResourcePath rp = *ApiHandler::parse_path("/api/v1/namespaces/knet-stress/pods/p/exec");
  auto refused = api.authorize("get", rp);
  BOOST_TEST_REQUIRE(refused.has_value());
  BOOST_TEST(refused->status == 403);
  BOOST_TEST(refused->body.find("admission webhook") != std::string::npos);
}

BOOST_FIXTURE_TEST_CASE(version_is_what_the_simulator_serves, cnimig::sim::test::ApiFixture) {
  api.authorizer().set_version(1, 35);
  auto v = body(call("GET", "/version"));
  BOOST_TEST(v.at("minor").as_string() == "35");
  BOOST_TEST(v.at("gitVersion").as_string() == "v1.35.0-cnimig-sim");
}
