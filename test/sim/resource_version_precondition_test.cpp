// A metadata.resourceVersion in a write's body is a precondition, as on a
// real API server: every patch type (merge, strategic, JSON patch, apply) and
// an update (PUT) carrying a stale one is 409 Conflict, dry runs included; a
// write with the current one, or with none, goes through.
#define BOOST_TEST_MODULE sim resource version precondition
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "api_fixture.hpp"

namespace json = boost::json;
using namespace cnimig::sim;

namespace {

constexpr const char* kPath = "/api/v1/namespaces/default/configmaps/cm";

struct Write {
  const char* what;
  std::string method;
  std::string query;
  std::string content_type;
  // The body, carrying `rv` ("" for none).
  std::string (*body)(const std::string& rv);
};

std::string meta(const std::string& rv) {
  return rv.empty() ? R"("metadata":{"name":"cm"})"
                    : R"("metadata":{"name":"cm","resourceVersion":")" + rv + R"("})";
}

const Write kWrites[] = {
    {"merge patch", "PATCH", "", "application/merge-patch+json",
     [](const std::string& rv) { return "{" + meta(rv) + R"(,"data":{"b":"2"}})"; }},
    {"strategic merge patch", "PATCH", "", "application/strategic-merge-patch+json",
     [](const std::string& rv) { return "{" + meta(rv) + R"(,"data":{"b":"2"}})"; }},
    {"json patch", "PATCH", "", "application/json-patch+json",
     [](const std::string& rv) {
       std::string ops = R"([{"op":"add","path":"/data/b","value":"2"})";
       if (!rv.empty())
         ops += R"(,{"op":"replace","path":"/metadata/resourceVersion","value":")" + rv + R"("})";
       return ops + "]";
     }},
    {"server-side apply", "PATCH", "fieldManager=t&force=true", "application/apply-patch+yaml",
     [](const std::string& rv) {
       return R"({"apiVersion":"v1","kind":"ConfigMap",)" + meta(rv) + R"(,"data":{"b":"2"}})";
     }},
    {"update", "PUT", "", "application/json",
     [](const std::string& rv) {
       return R"({"apiVersion":"v1","kind":"ConfigMap",)" + meta(rv) + R"(,"data":{"b":"2"}})";
     }},
};

struct Fixture : cnimig::sim::test::ApiFixture {
  std::string rv;
  Fixture() {
    auto made = call("POST", "/api/v1/namespaces/default/configmaps",
                     R"({"metadata":{"name":"cm"},"data":{"a":"1"}})");
    BOOST_TEST_REQUIRE(made.response.status == 201);
    rv = std::string(body(made).at("metadata").at("resourceVersion").as_string());
  }
  ApiResult send(const Write& w, const std::string& body_rv, bool dry_run) {
    std::string query = w.query;
    if (dry_run)
      query += query.empty() ? "dryRun=All" : "&dryRun=All";
    return call(w.method, std::string(kPath) + (query.empty() ? "" : "?" + query), w.body(body_rv),
                w.content_type);
  }
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(a_stale_resource_version_is_409_for_every_write, Fixture) {
  const std::string stale = std::to_string(std::stoull(rv) - 1);
  for (const auto& w : kWrites) {
    for (const bool dry_run : {false, true}) {
      BOOST_TEST_CONTEXT(w.what << (dry_run ? " (dryRun=All)" : "")) {
        const auto writes = store.writes();
        auto r = send(w, stale, dry_run);
        BOOST_TEST(r.response.status == 409);
        BOOST_TEST(store.writes() == writes);
        if (r.response.status != 409)
          continue;
        const auto status = body(r);
        BOOST_TEST(status.at("reason").as_string() == "Conflict");
        BOOST_TEST(status.at("message").as_string() ==
                   "Operation cannot be fulfilled on configmaps \"cm\": the object has been "
                   "modified; please apply your changes to the latest version and try again");
      }
    }
  }
  const auto cm = store.get(resource_type("", "configmaps"), "default", "cm");
  BOOST_TEST(!cm->at("data").as_object().contains("b"));
}

BOOST_FIXTURE_TEST_CASE(the_current_resource_version_or_none_goes_through, Fixture) {
  for (const auto& w : kWrites) {
    for (const bool dry_run : {true, false}) {
      BOOST_TEST_CONTEXT(w.what << (dry_run ? " (dryRun=All)" : "")) {
        const auto current =
            std::string(store.get(resource_type("", "configmaps"), "default", "cm")
                            ->at("metadata")
                            .at("resourceVersion")
                            .as_string());
        BOOST_TEST(send(w, current, dry_run).response.status == 200);
        // Without a resourceVersion a write is unconditional.
        BOOST_TEST(send(w, "", dry_run).response.status == 200);
      }
    }
  }
}

BOOST_FIXTURE_TEST_CASE(a_dry_run_update_of_a_missing_object_is_404, Fixture) {
  auto r = call("PUT", "/api/v1/namespaces/default/configmaps/other?dryRun=All",
                R"({"metadata":{"name":"other"},"data":{}})");
  BOOST_TEST_REQUIRE(r.response.status == 404);
  BOOST_TEST(body(r).at("message").as_string() == "configmaps \"other\" not found");
}
