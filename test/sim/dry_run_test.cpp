// dryRun=All on every write verb: validated, answered as if done, nothing
// persisted, and counted as "dryrun <verb> <resource>", never as the write.
#define BOOST_TEST_MODULE sim dry run
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "api_fixture.hpp"

namespace json = boost::json;
using namespace cnimig::sim;

namespace {

struct Fixture : cnimig::sim::test::ApiFixture {
  std::int64_t requests(const std::string& key) {
    const auto report = api.report();
    const auto& r = report.at("requests").as_object();
    return r.contains(key) ? r.at(key).to_number<std::int64_t>() : 0;
  }
  std::int64_t writes() { return api.report().at("writes").to_number<std::int64_t>(); }
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(every_write_verb_in_dry_run_persists_nothing, Fixture) {
  auto made = call("POST", "/api/v1/namespaces/default/pods",
                   R"({"metadata":{"name":"p","labels":{"app":"a"}},)"
                   R"("spec":{"nodeName":"n","containers":[{"name":"c"}]},)"
                   R"("status":{"phase":"Running"}})");
  BOOST_TEST_REQUIRE(made.response.status == 201);
  const auto before = writes();

  auto create = call("POST", "/api/v1/namespaces/default/configmaps?dryRun=All",
                     R"({"metadata":{"name":"cm"},"data":{"k":"v"}})");
  BOOST_TEST(create.response.status == 201);
  BOOST_TEST(call("GET", "/api/v1/namespaces/default/configmaps/cm").response.status == 404);

  auto patch = call("PATCH", "/api/v1/namespaces/default/pods/p?dryRun=All",
                    R"({"metadata":{"labels":{"app":"b"}}})", "application/merge-patch+json");
  BOOST_TEST(patch.response.status == 200);
  BOOST_TEST(json::parse(patch.response.body).at("metadata").at("labels").at("app") == "b");

  auto apply = call("PATCH", "/api/v1/namespaces/default/configmaps/cm2?fieldManager=t&dryRun=All",
                    R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"cm2"}})",
                    "application/apply-patch+yaml");
  BOOST_TEST(apply.response.status == 201);
  BOOST_TEST(call("GET", "/api/v1/namespaces/default/configmaps/cm2").response.status == 404);

  auto evict = call("POST", "/api/v1/namespaces/default/pods/p/eviction",
                    R"({"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"p"},)"
                    R"("deleteOptions":{"dryRun":["All"]}})");
  BOOST_TEST(evict.response.status == 201);
  auto remove = call("DELETE", "/api/v1/namespaces/default/pods/p?dryRun=All");
  BOOST_TEST(remove.response.status == 200);

  auto pod = call("GET", "/api/v1/namespaces/default/pods/p");
  BOOST_TEST_REQUIRE(pod.response.status == 200);
  const auto object = json::parse(pod.response.body);
  const auto& meta = object.at("metadata").as_object();
  BOOST_TEST(meta.at("labels").at("app") == "a");
  BOOST_TEST(!meta.contains("deletionTimestamp"));
  BOOST_TEST(writes() == before);

  BOOST_TEST(requests("dryrun create configmaps") == 1);
  BOOST_TEST(requests("dryrun patch pods") == 1);
  BOOST_TEST(requests("dryrun patch configmaps") == 1);
  BOOST_TEST(requests("dryrun create pods/eviction") == 1);
  BOOST_TEST(requests("dryrun delete pods") == 1);
  BOOST_TEST(requests("patch pods") == 0);
  BOOST_TEST(requests("delete pods") == 0);
  BOOST_TEST(requests("create pods/eviction") == 0);
  BOOST_TEST(requests("create pods") == 1);  // the real one
}

BOOST_FIXTURE_TEST_CASE(dry_run_still_validates, Fixture) {
  // Deleting or patching what does not exist fails as it would for real.
  BOOST_TEST(call("DELETE", "/api/v1/namespaces/default/pods/nope?dryRun=All").response.status ==
             404);
  BOOST_TEST(call("PATCH", "/api/v1/nodes/nope?dryRun=All", R"({"metadata":{}})",
                  "application/merge-patch+json")
                 .response.status == 404);
  BOOST_TEST(requests("dryrun delete pods") == 1);
}
