// API defaulting as the real API server does it (pkg/apis/apps/v1/defaults.go,
// pkg/apis/core/v1/defaults.go): the fields kubectl and controllers read are
// there even when the manifest left them out, and a value the client chose
// is never overwritten.
#define BOOST_TEST_MODULE sim api defaults
#include "api_defaults.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "api_fixture.hpp"

namespace json = boost::json;
using namespace cnimig::sim;

namespace {

json::object defaulted(std::string_view group, std::string_view plural, std::string_view text) {
  auto o = json::parse(text).as_object();
  apply_defaults(resource_type(group, plural), o);
  return o;
}

constexpr const char* kTemplate =
    R"("selector":{"matchLabels":{"app":"a"}},)"
    R"("template":{"metadata":{"labels":{"app":"a"}},)"
    R"("spec":{"containers":[{"name":"c","image":"registry.local:5000/app"}]}})";

void check_pod_spec(const json::value& spec) {
  BOOST_TEST(spec.at("restartPolicy").as_string() == "Always");
  BOOST_TEST(spec.at("dnsPolicy").as_string() == "ClusterFirst");
  BOOST_TEST(spec.at("terminationGracePeriodSeconds").as_int64() == 30);
  BOOST_TEST(spec.at("schedulerName").as_string() == "default-scheduler");
  BOOST_TEST(spec.at("securityContext").as_object().empty());
  const auto& c = spec.at("containers").at(0);
  BOOST_TEST(c.at("terminationMessagePath").as_string() == "/dev/termination-log");
  BOOST_TEST(c.at("terminationMessagePolicy").as_string() == "File");
  BOOST_TEST(c.at("imagePullPolicy").as_string() == "Always");  // no tag: latest
}

}  // namespace

BOOST_AUTO_TEST_CASE(daemonset_rolling_update_and_history) {
  const auto ds = defaulted("apps", "daemonsets", std::string(R"({"spec":{)") + kTemplate + "}}");
  const auto& spec = ds.at("spec");
  BOOST_TEST(spec.at("updateStrategy").at("type").as_string() == "RollingUpdate");
  BOOST_TEST(spec.at("updateStrategy").at("rollingUpdate").at("maxUnavailable").as_int64() == 1);
  BOOST_TEST(spec.at("updateStrategy").at("rollingUpdate").at("maxSurge").as_int64() == 0);
  BOOST_TEST(spec.at("revisionHistoryLimit").as_int64() == 10);
  check_pod_spec(spec.at("template").at("spec"));
  // The client's values stay; OnDelete gets no rollingUpdate block.
  const auto chosen = defaulted("apps", "daemonsets",
                                R"({"spec":{"revisionHistoryLimit":3,"updateStrategy":{)"
                                R"("rollingUpdate":{"maxUnavailable":"10%"}}}})");
  BOOST_TEST(chosen.at("spec").at("updateStrategy").at("rollingUpdate").at("maxUnavailable") ==
             "10%");
  BOOST_TEST(chosen.at("spec").at("updateStrategy").at("rollingUpdate").at("maxSurge") == 0);
  BOOST_TEST(chosen.at("spec").at("revisionHistoryLimit") == 3);
  const auto on_delete =
      defaulted("apps", "daemonsets", R"({"spec":{"updateStrategy":{"type":"OnDelete"}}})");
  BOOST_TEST(!on_delete.at("spec").at("updateStrategy").as_object().contains("rollingUpdate"));
}

BOOST_AUTO_TEST_CASE(deployment_and_statefulset) {
  const auto d = defaulted("apps", "deployments", std::string(R"({"spec":{)") + kTemplate + "}}");
  const auto& ds = d.at("spec");
  BOOST_TEST(ds.at("replicas").as_int64() == 1);
  BOOST_TEST(ds.at("strategy").at("type").as_string() == "RollingUpdate");
  BOOST_TEST(ds.at("strategy").at("rollingUpdate").at("maxUnavailable").as_string() == "25%");
  BOOST_TEST(ds.at("strategy").at("rollingUpdate").at("maxSurge").as_string() == "25%");
  BOOST_TEST(ds.at("revisionHistoryLimit").as_int64() == 10);
  BOOST_TEST(ds.at("progressDeadlineSeconds").as_int64() == 600);
  check_pod_spec(ds.at("template").at("spec"));
  const auto recreate =
      defaulted("apps", "deployments", R"({"spec":{"strategy":{"type":"Recreate"}}})");
  BOOST_TEST(!recreate.at("spec").at("strategy").as_object().contains("rollingUpdate"));

  const auto s = defaulted("apps", "statefulsets", std::string(R"({"spec":{)") + kTemplate + "}}");
  const auto& ss = s.at("spec");
  BOOST_TEST(ss.at("replicas").as_int64() == 1);
  BOOST_TEST(ss.at("podManagementPolicy").as_string() == "OrderedReady");
  BOOST_TEST(ss.at("updateStrategy").at("type").as_string() == "RollingUpdate");
  BOOST_TEST(ss.at("updateStrategy").at("rollingUpdate").at("partition").as_int64() == 0);
  BOOST_TEST(ss.at("revisionHistoryLimit").as_int64() == 10);
  BOOST_TEST(ss.at("persistentVolumeClaimRetentionPolicy").at("whenDeleted").as_string() ==
             "Retain");
  check_pod_spec(ss.at("template").at("spec"));
  // An explicit RollingUpdate without a rollingUpdate block keeps none.
  const auto explicit_rolling = defaulted(
      "apps", "statefulsets",
      R"({"spec":{"podManagementPolicy":"Parallel","updateStrategy":{"type":"RollingUpdate"}}})");
  BOOST_TEST(explicit_rolling.at("spec").at("podManagementPolicy").as_string() == "Parallel");
  BOOST_TEST(
      !explicit_rolling.at("spec").at("updateStrategy").as_object().contains("rollingUpdate"));
}

BOOST_AUTO_TEST_CASE(pod_only_defaults_and_client_values) {
  const auto pod = defaulted("", "pods",
                             R"({"spec":{"hostNetwork":true,"restartPolicy":"Never",)"
                             R"("terminationGracePeriodSeconds":0,"containers":[)"
                             R"({"name":"c","image":"app:1.2","ports":[)"
                             R"({"containerPort":8080}],"resources":)"
                             R"({"limits":{"cpu":"1"}},"readinessProbe":{}}]}})");
  const auto& spec = pod.at("spec");
  BOOST_TEST(spec.at("restartPolicy").as_string() == "Never");
  BOOST_TEST(spec.at("terminationGracePeriodSeconds").as_int64() == 0);
  BOOST_TEST(spec.at("enableServiceLinks").as_bool());
  const auto& c = spec.at("containers").at(0);
  BOOST_TEST(c.at("imagePullPolicy").as_string() == "IfNotPresent");
  BOOST_TEST(c.at("ports").at(0).at("protocol").as_string() == "TCP");
  BOOST_TEST(c.at("ports").at(0).at("hostPort").as_int64() == 8080);
  BOOST_TEST(c.at("resources").at("requests").at("cpu").as_string() == "1");
  BOOST_TEST(c.at("readinessProbe").at("periodSeconds").as_int64() == 10);
  BOOST_TEST(c.at("readinessProbe").at("failureThreshold").as_int64() == 3);
}

BOOST_AUTO_TEST_CASE(image_pull_policy_follows_the_tag) {
  BOOST_TEST(default_image_pull_policy("nginx") == "Always");
  BOOST_TEST(default_image_pull_policy("nginx:latest") == "Always");
  BOOST_TEST(default_image_pull_policy("docker.io/library/nginx:1.27") == "IfNotPresent");
  BOOST_TEST(default_image_pull_policy("registry.local:5000/app") == "Always");
  BOOST_TEST(default_image_pull_policy("registry.local:5000/app:2") == "IfNotPresent");
  BOOST_TEST(default_image_pull_policy("quay.io/cilium/cilium@sha256:abc") == "IfNotPresent");
  BOOST_TEST(default_image_pull_policy("quay.io/cilium/cilium:v1.18.4@sha256:abc") ==
             "IfNotPresent");
}

BOOST_AUTO_TEST_CASE(service_and_namespace) {
  const auto svc = defaulted("", "services", R"({"spec":{"ports":[{"port":80}]}})");
  BOOST_TEST(svc.at("spec").at("sessionAffinity").as_string() == "None");
  BOOST_TEST(svc.at("spec").at("type").as_string() == "ClusterIP");
  BOOST_TEST(svc.at("spec").at("internalTrafficPolicy").as_string() == "Cluster");
  BOOST_TEST(svc.at("spec").at("ports").at(0).at("targetPort").as_int64() == 80);
  BOOST_TEST(svc.at("spec").at("ports").at(0).at("protocol").as_string() == "TCP");
  const auto ns = defaulted("", "namespaces", R"({"metadata":{"name":"x"}})");
  BOOST_TEST(ns.at("metadata").at("labels").at("kubernetes.io/metadata.name").as_string() == "x");
  BOOST_TEST(ns.at("status").at("phase").as_string() == "Active");
}

BOOST_AUTO_TEST_CASE(defaulting_twice_changes_nothing) {
  for (const char* plural : {"daemonsets", "deployments", "statefulsets"}) {
    auto once = defaulted("apps", plural, std::string(R"({"spec":{)") + kTemplate + "}}");
    auto twice = once;
    apply_defaults(resource_type("apps", plural), twice);
    BOOST_TEST(once == twice, plural);
  }
}

// What clients read back: the API defaults what it stores and what a dry run
// answers, and a later patch does not bump the generation for the defaults.
BOOST_FIXTURE_TEST_CASE(the_api_stores_and_answers_defaulted_objects,
                        cnimig::sim::test::ApiFixture) {
  const std::string ds = std::string(R"({"metadata":{"name":"ds"},"spec":{)") + kTemplate + "}}";
  auto dry = call("POST", "/apis/apps/v1/namespaces/default/daemonsets?dryRun=All", ds);
  BOOST_TEST_REQUIRE(dry.response.status == 201);
  BOOST_TEST(body(dry).at("spec").at("updateStrategy").at("type").as_string() == "RollingUpdate");
  BOOST_TEST_REQUIRE(
      call("POST", "/apis/apps/v1/namespaces/default/daemonsets", ds).response.status == 201);
  auto got = body(call("GET", "/apis/apps/v1/namespaces/default/daemonsets/ds"));
  BOOST_TEST(got.at("spec").at("updateStrategy").at("rollingUpdate").at("maxSurge").as_int64() ==
             0);
  check_pod_spec(got.at("spec").at("template").at("spec"));
  // A replace without the defaults is defaulted again: the spec is unchanged.
  BOOST_TEST(call("PUT", "/apis/apps/v1/namespaces/default/daemonsets/ds", ds).response.status ==
             200);
  auto after = body(call("GET", "/apis/apps/v1/namespaces/default/daemonsets/ds"));
  BOOST_TEST(after.at("metadata").at("generation").as_int64() == 1);
  BOOST_TEST(after.at("spec").at("revisionHistoryLimit").as_int64() == 10);
}
