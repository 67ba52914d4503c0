// ServiceAccount admission, found against a real kube-apiserver: a pod whose
// ServiceAccount does not exist in its namespace is refused (403), through
// the API and for the simulator's own controllers, which retry once the
// account exists; every namespace gets its `default` account.
#define BOOST_TEST_MODULE sim service account admission
#include <boost/test/unit_test.hpp>

#include "api_fixture.hpp"
#include "sim_cluster_harness.hpp"

using namespace cnimig::sim;
namespace json = boost::json;

namespace {
const char* pod_of(const char* account) {
  static std::string body;
  body = json::serialize(json::object{
      {"apiVersion", "v1"},
      {"kind", "Pod"},
      {"metadata", json::object{{"name", "p"}}},
      {"spec", json::object{{"serviceAccountName", account},
                            {"containers",
                             json::array{json::object{{"name", "c"}, {"image", "busybox"}}}}}}});
  return body.c_str();
}
}  // namespace

BOOST_AUTO_TEST_CASE(api_refuses_a_pod_of_a_missing_service_account) {
  test::ApiFixture f;
  auto refused = f.call("POST", "/api/v1/namespaces/default/pods", pod_of("builder"));
  BOOST_TEST(refused.response.status == 403);
  BOOST_TEST(f.body(refused).at("message").as_string() ==
             "pods \"p\" is forbidden: error looking up service account default/builder: "
             "serviceaccount \"builder\" not found");
  BOOST_TEST(!f.store.get(resource_type("", "pods"), "default", "p"));
  (void)f.store.create(resource_type("", "serviceaccounts"),
                       json::object{{"metadata", {{"name", "builder"}, {"namespace", "default"}}}});
  auto created = f.call("POST", "/api/v1/namespaces/default/pods", pod_of("builder"));
  BOOST_TEST(created.response.status == 201);
}

BOOST_AUTO_TEST_CASE(a_pod_without_an_account_gets_default) {
  test::ApiFixture f;
  auto created = f.call("POST", "/api/v1/namespaces/default/pods", pod_of(""));
  BOOST_TEST_REQUIRE(created.response.status == 201);
  BOOST_TEST(f.body(created).at("spec").at("serviceAccountName").as_string() == "default");
}

BOOST_AUTO_TEST_CASE(daemonset_pods_wait_for_their_account_and_namespaces_get_default) {
  test::Harness h;
  h.model.bootstrap(2, 0);
  BOOST_TEST_REQUIRE(h.settle());
  for (const char* ns : {"default", "kube-system", "apps"})
    BOOST_TEST(h.store.get(resource_type("", "serviceaccounts"), ns, "default"), ns);
  // A DaemonSet whose account does not exist yet gets no pods...
  auto ds = h.get(h.daemonsets, "kube-system", "kube-proxy");
  auto& meta = ds["metadata"].as_object();
  meta = json::object{{"name", "late"}, {"namespace", "kube-system"}};
  auto& tmpl = ds["spec"].as_object()["template"].as_object();
  tmpl["metadata"] = json::object{{"labels", {{"k8s-app", "late"}}}};
  ds["spec"].as_object()["selector"] = json::object{{"matchLabels", {{"k8s-app", "late"}}}};
  tmpl["spec"].as_object()["serviceAccountName"] = "late";
  ds.erase("status");
  BOOST_TEST_REQUIRE(h.store.create(h.daemonsets, ds).has_value());
  BOOST_TEST_REQUIRE(h.settle());
  auto late_pods = [&] {
    std::size_t n = 0;
    for (const auto& p : h.store.list(h.pods, "kube-system"))
      n += std::string_view(p->at("metadata").at("name").as_string()).starts_with("late-");
    return n;
  };
  BOOST_TEST(late_pods() == 0u);
  // ...until it does: the controller retries.
  (void)h.store.create(
      resource_type("", "serviceaccounts"),
      json::object{{"metadata", {{"name", "late"}, {"namespace", "kube-system"}}}});
  BOOST_TEST_REQUIRE(h.settle());
  BOOST_TEST(late_pods() == 2u);
}
