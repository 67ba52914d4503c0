// NamespaceLifecycle admission, as kube-apiserver answers: writes into a
// namespace that does not exist are 404 with the Status of the missing
// Namespace (create, server-side apply, and their dry runs alike), and a
// namespace being terminated takes no new objects.
#define BOOST_TEST_MODULE sim namespace lifecycle
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "api_fixture.hpp"

namespace json = boost::json;
using namespace cnimig::sim;

namespace {

constexpr const char* kConfigMap =
    R"({"apiVersion":"v1","kind":"ConfigMap",)"
    R"("metadata":{"name":"cm","namespace":"nope"},"data":{"a":"1"}})";

struct Fixture : cnimig::sim::test::ApiFixture {
  // The Status a real server sends for a write into the missing namespace "nope".
  void expect_namespace_not_found(const ApiResult& r) {
    BOOST_TEST(r.response.status == 404);
    if (r.response.status != 404)
      return;
    const auto status = body(r);
    BOOST_TEST(status.at("kind").as_string() == "Status");
    BOOST_TEST(status.at("status").as_string() == "Failure");
    BOOST_TEST(status.at("reason").as_string() == "NotFound");
    BOOST_TEST(status.at("code").as_int64() == 404);
    BOOST_TEST(status.at("message").as_string() == "namespaces \"nope\" not found");
    BOOST_TEST(status.at("details").at("name").as_string() == "nope");
    BOOST_TEST(status.at("details").at("kind").as_string() == "namespaces");
  }
  bool stored(const std::string& ns, const std::string& name) {
    return store.get(resource_type("", "configmaps"), ns, name) != nullptr;
  }
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(writes_into_a_missing_namespace_are_404, Fixture) {
  const auto writes_before = store.writes();
  expect_namespace_not_found(call("POST", "/api/v1/namespaces/nope/configmaps", kConfigMap));
  expect_namespace_not_found(
      call("POST", "/api/v1/namespaces/nope/configmaps?dryRun=All", kConfigMap));
  expect_namespace_not_found(call("PATCH", "/api/v1/namespaces/nope/configmaps/cm?fieldManager=t",
                                  kConfigMap, "application/apply-patch+yaml"));
  expect_namespace_not_found(call("PATCH",
                                  "/api/v1/namespaces/nope/configmaps/cm?fieldManager=t&dryRun=All",
                                  kConfigMap, "application/apply-patch+yaml"));
  // The namespace from the body, when the path names none.
  expect_namespace_not_found(call("POST", "/api/v1/configmaps", kConfigMap));
  BOOST_TEST(!stored("nope", "cm"));
  BOOST_TEST(store.writes() == writes_before);
  // A patch of an object that cannot exist is still that object's 404.
  auto merge = call("PATCH", "/api/v1/namespaces/nope/configmaps/cm", R"({"data":{"b":"2"}})",
                    "application/merge-patch+json");
  BOOST_TEST(merge.response.status == 404);
  BOOST_TEST(body(merge).at("message").as_string() == "configmaps \"cm\" not found");
}

BOOST_FIXTURE_TEST_CASE(the_namespace_created_first_admits_the_same_writes, Fixture) {
  BOOST_TEST(call("PATCH", "/api/v1/namespaces/nope?fieldManager=t",
                  R"({"apiVersion":"v1","kind":"Namespace","metadata":{"name":"nope"}})",
                  "application/apply-patch+yaml")
                 .response.status == 201);
  BOOST_TEST(
      call("POST", "/api/v1/namespaces/nope/configmaps?dryRun=All", kConfigMap).response.status ==
      201);
  BOOST_TEST(call("PATCH", "/api/v1/namespaces/nope/configmaps/cm?fieldManager=t", kConfigMap,
                  "application/apply-patch+yaml")
                 .response.status == 201);
  BOOST_TEST(stored("nope", "cm"));
}

BOOST_FIXTURE_TEST_CASE(cluster_scoped_kinds_and_deletes_are_always_admitted, Fixture) {
  BOOST_TEST(call("POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles",
                  R"({"metadata":{"name":"r"},"rules":[]})")
                 .response.status == 201);
  BOOST_TEST(call("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                  R"({"spec":{"resourceAttributes":{"namespace":"nope","verb":"get"}}})")
                 .response.status == 201);
  // Nothing there: the object's own 404, not the namespace's.
  auto gone = call("DELETE", "/api/v1/namespaces/nope/configmaps/cm");
  BOOST_TEST(gone.response.status == 404);
  BOOST_TEST(body(gone).at("message").as_string() == "configmaps \"cm\" not found");
}

BOOST_FIXTURE_TEST_CASE(a_terminating_namespace_refuses_creates_only, Fixture) {
  // A finalizer holds the Namespace in its termination after the delete.
  BOOST_TEST_REQUIRE(
      call("POST", "/api/v1/namespaces", R"({"metadata":{"name":"old","finalizers":["x/y"]}})")
          .response.status == 201);
  BOOST_TEST_REQUIRE(call("POST", "/api/v1/namespaces/old/configmaps",
                          R"({"metadata":{"name":"kept"},"data":{"a":"1"}})")
                         .response.status == 201);
  BOOST_TEST_REQUIRE(call("DELETE", "/api/v1/namespaces/old").response.status == 200);
  auto refused =
      call("POST", "/api/v1/namespaces/old/configmaps", R"({"metadata":{"name":"new"}})");
  BOOST_TEST_REQUIRE(refused.response.status == 403);
  const auto status = body(refused);
  BOOST_TEST(status.at("reason").as_string() == "Forbidden");
  BOOST_TEST(status.at("message").as_string() ==
             "configmaps \"new\" is forbidden: unable to create new content in namespace old "
             "because it is being terminated");
  const auto& cause = status.at("details").at("causes").at(0);
  BOOST_TEST(cause.at("reason").as_string() == "NamespaceTerminating");
  BOOST_TEST(cause.at("field").as_string() == "metadata.namespace");
  BOOST_TEST(!stored("old", "new"));
  // Updates of what is already there still go through.
  BOOST_TEST(call("PATCH", "/api/v1/namespaces/old/configmaps/kept", R"({"data":{"b":"2"}})",
                  "application/merge-patch+json")
                 .response.status == 200);
}
