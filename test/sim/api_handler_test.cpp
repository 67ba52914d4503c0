#define BOOST_TEST_MODULE sim api handler
#include "api_handler.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "api_fixture.hpp"

namespace json = boost::json;
using namespace cnimig::sim;

namespace {

struct Fixture : cnimig::sim::test::ApiFixture {
  void pod(const std::string& name, const std::string& node, const std::string& app,
           const std::string& extra_meta = "") {
    auto r = call("POST", "/api/v1/namespaces/default/pods",
                  R"({"metadata":{"name":")" + name + R"(","labels":{"app":")" + app + R"("})" +
                      extra_meta + R"(},"spec":{"nodeName":")" + node +
                      R"(","containers":[{"name":"c"}]},"status":{"phase":"Running"}})");
    BOOST_TEST_REQUIRE(r.response.status == 201);
  }
};

}  // namespace

BOOST_FIXTURE_TEST_CASE(discovery_documents, Fixture) {
  auto api = call("GET", "/api");
  BOOST_TEST(body(api).at("versions").at(0).as_string() == "v1");
  auto groups = body(call("GET", "/apis"));
  bool apps = false;
  for (const auto& g : groups.at("groups").as_array())
    apps = apps || g.at("name").as_string() == "apps";
  BOOST_TEST(apps);
  auto core = body(call("GET", "/api/v1"));
  bool pods_short = false, eviction = false;
  for (const auto& r : core.at("resources").as_array()) {
    if (r.at("name").as_string() == "pods")
      pods_short = r.at("shortNames").at(0).as_string() == "po";
    if (r.at("name").as_string() == "pods/eviction")
      eviction = r.at("group").as_string() == "policy";
  }
  BOOST_TEST(pods_short);
  BOOST_TEST(eviction);
  BOOST_TEST(call("GET", "/apis/apps/v1").response.status == 200);
  BOOST_TEST(call("GET", "/openapi/v2").response.status == 404);
  BOOST_TEST(call("GET", "/openapi/v3/apis/apps/v1").response.status == 200);
  BOOST_TEST(call("GET", "/apis/nope/v1/things").response.status == 404);
}

BOOST_FIXTURE_TEST_CASE(list_with_selectors_limit_and_continue, Fixture) {
  for (int i = 0; i < 5; ++i)
    pod("p" + std::to_string(i), i % 2 ? "n1" : "n2", i < 3 ? "web" : "db");
  auto all = body(call("GET", "/api/v1/pods?labelSelector=app%3Dweb"));
  BOOST_TEST(all.at("items").as_array().size() == 3u);
  BOOST_TEST(all.at("kind").as_string() == "PodList");
  auto on_node =
      body(call("GET", "/api/v1/namespaces/default/pods?fieldSelector=spec.nodeName%3Dn1"));
  BOOST_TEST(on_node.at("items").as_array().size() == 2u);
  auto page1 = body(call("GET", "/api/v1/pods?limit=2&labelSelector=app!%3Ddb"));
  BOOST_TEST(page1.at("items").as_array().size() == 2u);
  const std::string token(page1.at("metadata").at("continue").as_string());
  auto page2 = body(call("GET", "/api/v1/pods?limit=2&labelSelector=app!%3Ddb&continue=" + token));
  BOOST_TEST(page2.at("items").as_array().size() == 1u);
  BOOST_TEST(!page2.at("metadata").as_object().contains("continue"));
  BOOST_TEST(call("GET", "/api/v1/pods?labelSelector=a%20in%20(").response.status == 400);
}

BOOST_FIXTURE_TEST_CASE(watch_replays_history_and_expires_with_410, Fixture) {
  pod("a", "n1", "web");
  const auto rv = store.resource_version();
  pod("b", "n1", "db");
  pod("c", "n1", "web");
  auto w = call("GET",
                "/api/v1/namespaces/default/pods?watch=true&labelSelector=app%3Dweb"
                "&allowWatchBookmarks=true&resourceVersion=" +
                    std::to_string(rv));
  BOOST_TEST_REQUIRE(w.watch != nullptr);
  BOOST_TEST_REQUIRE(w.watch->initial.size() == 1u);  // only c: b does not match
  BOOST_TEST(json::parse(w.watch->initial[0]).at("type").as_string() == "ADDED");
  BOOST_TEST(w.watch->bookmarks);
  // A label change out of the selector is a DELETED for this watch.
  std::optional<std::string> seen;
  auto id = store.observe([&](const Change& c) { seen = w.watch->event_line(c); });
  BOOST_TEST(call("PATCH", "/api/v1/namespaces/default/pods/c",
                  R"({"metadata":{"labels":{"app":"db"}}})", "application/merge-patch+json")
                 .response.status == 200);
  BOOST_TEST_REQUIRE(seen.has_value());
  BOOST_TEST(json::parse(*seen).at("type").as_string() == "DELETED");
  store.unobserve(id);
  // The window holds 8 events: resuming from before it is 410 Expired.
  for (int i = 0; i < 10; ++i)
    pod("x" + std::to_string(i), "n2", "web");
  auto old = call("GET", "/api/v1/pods?watch=1&resourceVersion=1");
  BOOST_TEST_REQUIRE(old.watch != nullptr);
  BOOST_TEST(old.watch->finish_after_initial);
  auto ev = json::parse(old.watch->initial.at(0));
  BOOST_TEST(ev.at("type").as_string() == "ERROR");
  BOOST_TEST(ev.at("object").at("code").as_int64() == 410);
  auto fresh = call("GET", "/api/v1/pods?watch=1");
  BOOST_TEST(fresh.watch->initial.size() == store.count(resource_type("", "pods")));
  BOOST_TEST(json::parse(fresh.watch->bookmark_line(7))
                 .at("object")
                 .at("metadata")
                 .at("resourceVersion")
                 .as_string() == "7");
}

BOOST_FIXTURE_TEST_CASE(graceful_pod_deletion_and_preconditions, Fixture) {
  pod("a", "n1", "web");
  auto conflict =
      call("DELETE", "/api/v1/namespaces/default/pods/a", R"({"preconditions":{"uid":"nope"}})");
  BOOST_TEST(conflict.response.status == 409);
  auto d = call("DELETE", "/api/v1/namespaces/default/pods/a");
  BOOST_TEST(d.response.status == 200);
  auto obj = store.get(resource_type("", "pods"), "default", "a");
  BOOST_TEST_REQUIRE(obj != nullptr);  // terminating: the kubelet finishes it
  BOOST_TEST(obj->at("metadata").at("deletionGracePeriodSeconds").as_int64() == 30);
  BOOST_TEST(
      call("DELETE", "/api/v1/namespaces/default/pods/a?gracePeriodSeconds=0").response.status ==
      200);
  BOOST_TEST(store.get(resource_type("", "pods"), "default", "a") == nullptr);
  BOOST_TEST(call("DELETE", "/api/v1/namespaces/default/pods/a").response.status == 404);
}

BOOST_FIXTURE_TEST_CASE(eviction_respects_pdb_and_gc_deletes_owned_pods, Fixture) {
  auto ds = call("POST", "/apis/apps/v1/namespaces/default/daemonsets",
                 R"({"metadata":{"name":"ds"},"spec":{"selector":{"matchLabels":{"app":"web"}}}})");
  BOOST_TEST_REQUIRE(ds.response.status == 201);
  const std::string uid(body(ds).at("metadata").at("uid").as_string());
  pod("a", "n1", "web",
      R"(,"ownerReferences":[{"kind":"DaemonSet","name":"ds","uid":")" + uid + R"("}])");
  pod("b", "n1", "web");
  BOOST_TEST(
      call("POST", "/apis/policy/v1/namespaces/default/poddisruptionbudgets",
           R"({"metadata":{"name":"pdb"},"spec":{"selector":{"matchLabels":{"app":"web"}}}})")
          .response.status == 201);
  const std::string eviction =
      R"({"apiVersion":"policy/v1","kind":"Eviction","metadata":{"name":"b"}})";
  auto blocked = call("POST", "/api/v1/namespaces/default/pods/b/eviction", eviction);
  BOOST_TEST(blocked.response.status == 429);
  BOOST_TEST(body(blocked).at("message").as_string() ==
             "Cannot evict pod as it would violate the pod's disruption budget.");
  BOOST_TEST(call("PATCH", "/apis/policy/v1/namespaces/default/poddisruptionbudgets/pdb/status",
                  R"({"status":{"disruptionsAllowed":1}})", "application/merge-patch+json")
                 .response.status == 200);
  BOOST_TEST(call("POST", "/api/v1/namespaces/default/pods/b/eviction", eviction).response.status ==
             201);
  auto pdb = store.get(resource_type("policy", "poddisruptionbudgets"), "default", "pdb");
  BOOST_TEST(pdb->at("status").at("disruptionsAllowed").as_int64() == 0);
  BOOST_TEST(store.get(resource_type("", "pods"), "default", "b")
                 ->at("metadata")
                 .as_object()
                 .contains("deletionTimestamp"));
  // Deleting the DaemonSet deletes (gracefully) the pod it owns.
  BOOST_TEST(call("DELETE", "/apis/apps/v1/namespaces/default/daemonsets/ds").response.status ==
             200);
  BOOST_TEST(store.get(resource_type("", "pods"), "default", "a")
                 ->at("metadata")
                 .as_object()
                 .contains("deletionTimestamp"));
}

BOOST_FIXTURE_TEST_CASE(patches_apply_dry_run_and_status, Fixture) {
  pod("a", "n1", "web");
  auto smp = call("PATCH", "/api/v1/namespaces/default/pods/a",
                  R"({"spec":{"containers":[{"name":"c","image":"x"}]}})",
                  "application/strategic-merge-patch+json");
  BOOST_TEST(smp.response.status == 200);
  BOOST_TEST(body(smp).at("spec").at("containers").as_array().size() == 1u);
  BOOST_TEST(body(smp).at("metadata").at("generation").as_int64() == 2);
  auto status_ignored = call("PATCH", "/api/v1/namespaces/default/pods/a",
                             R"({"status":{"phase":"Failed"}})", "application/merge-patch+json");
  BOOST_TEST(body(status_ignored).at("status").at("phase").as_string() == "Running");
  auto status = call("PATCH", "/api/v1/namespaces/default/pods/a/status",
                     R"({"status":{"phase":"Succeeded"}})", "application/merge-patch+json");
  BOOST_TEST(body(status).at("status").at("phase").as_string() == "Succeeded");
  const auto rv = store.resource_version();
  auto dry = call("PATCH", "/api/v1/namespaces/default/pods/a?dryRun=All",
                  R"([{"op":"add","path":"/metadata/labels/x","value":"y"}])",
                  "application/json-patch+json");
  BOOST_TEST(body(dry).at("metadata").at("labels").at("x").as_string() == "y");
  BOOST_TEST(store.resource_version() == rv);
  BOOST_TEST(
      call("PATCH", "/api/v1/namespaces/default/configmaps/c?fieldManager=t",
           R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"a":"1"}})",
           "application/apply-patch+yaml")
          .response.status == 201);
  auto applied =
      call("PATCH", "/api/v1/namespaces/default/configmaps/c?fieldManager=t",
           R"({"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c"},"data":{"b":"2"}})",
           "application/apply-patch+yaml");
  BOOST_TEST(body(applied).at("data").as_object().size() == 2u);
  BOOST_TEST(body(applied).at("metadata").at("managedFields").as_array().size() == 1u);
  BOOST_TEST(
      call("PATCH", "/api/v1/namespaces/default/configmaps/c", "{}", "application/apply-patch+yaml")
          .response.status == 400);
  BOOST_TEST(
      call("PATCH", "/api/v1/namespaces/default/pods/zz", "{}", "application/merge-patch+json")
          .response.status == 404);
}

BOOST_FIXTURE_TEST_CASE(ssar_crd_and_faults, Fixture) {
  auto ssar = call("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", "\x0a\x02pb");
  BOOST_TEST(ssar.response.status == 201);
  BOOST_TEST(body(ssar).at("status").at("allowed").as_bool());
  BOOST_TEST(call("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                  R"({"metadata":{"name":"widgets.example.com"},"spec":{"group":"example.com",
                     "names":{"plural":"widgets","kind":"Widget"},"scope":"Namespaced",
                     "versions":[{"name":"v1","served":true,"storage":true}]}})")
                 .response.status == 201);
  BOOST_TEST(call("POST", "/apis/example.com/v1/namespaces/default/widgets",
                  R"({"metadata":{"name":"w"}})")
                 .response.status == 201);
  FaultSpec f = *FaultSpec::parse(
      "error-rate=1,error-verbs=get,error-status=500,watch-cut=2s,"
      "node-never-ready=node-3");
  BOOST_TEST(f.watch_cut.count() == 2000);
  BOOST_TEST(f.extra.at("node-never-ready") == "node-3");
  api.set_faults(f);
  BOOST_TEST(call("GET", "/api/v1/namespaces/default/configmaps/x").response.status == 500);
  BOOST_TEST(call("GET", "/api/v1/configmaps").response.status == 200);  // list is not get
  api.set_faults(*FaultSpec::parse("stop-at-write=1"));
  BOOST_TEST(
      call("POST", "/api/v1/namespaces/default/configmaps", R"({"metadata":{"name":"q"}})").hold);
  auto report = api.report();
  BOOST_TEST(report.at("access_reviews").as_uint64() == 1u);
  BOOST_TEST(report.at("requests").at("get configmaps").as_uint64() == 1u);
  BOOST_TEST(FaultSpec::parse("error-rate=2").has_error());
}

BOOST_AUTO_TEST_CASE(fault_spec_round_trips_and_refuses_unknown_keys) {
  const auto f = FaultSpec::parse(
      "error-rate=0.1,watch-cut=2s,watch-delay=1500ms,gone-on-resume=1,latency=20ms,"
      "stop-at-write=3,stop-at-write-skip=leases|events,pdb-blocking=apps/web");
  BOOST_TEST_REQUIRE(f.has_value());
  BOOST_TEST(f->stop_at_write_skip.count("leases") == 1u);
  const auto again = FaultSpec::parse(f->to_string());
  BOOST_TEST_REQUIRE(again.has_value());
  BOOST_TEST(again->to_string() == f->to_string());
  BOOST_TEST(again->watch_cut.count() == 2000);
  BOOST_TEST(again->watch_delay.count() == 1500);
  BOOST_TEST(again->extra.at("pdb-blocking") == "apps/web");
  BOOST_TEST(FaultSpec().to_string() == "");
  BOOST_TEST(FaultSpec::parse("never-redy-node=node-1").has_error());
}

BOOST_FIXTURE_TEST_CASE(fault_endpoint_replaces_faults_at_runtime, Fixture) {
  std::vector<std::string> sunk;
  api.set_cluster_fault_sink([&](const FaultSpec& f) { sunk.push_back(f.to_string()); });
  auto put = call("PUT", "/sim/v1/faults", "error-rate=1,error-verbs=get,blocking-pdb=apps/web\n",
                  "text/plain");
  BOOST_TEST_REQUIRE(put.response.status == 200);
  BOOST_TEST(body(put).at("spec").as_string() ==
             "error-rate=1,error-verbs=get,blocking-pdb=apps/web");
  BOOST_TEST_REQUIRE(sunk.size() == 1u);
  BOOST_TEST(sunk[0] == "error-rate=1,error-verbs=get,blocking-pdb=apps/web");
  BOOST_TEST(call("GET", "/api/v1/namespaces/default/configmaps/x").response.status >= 429);
  auto get = call("GET", "/sim/v1/faults");
  BOOST_TEST(body(get).at("spec").as_string() ==
             "error-rate=1,error-verbs=get,blocking-pdb=apps/web");
  BOOST_TEST(call("PUT", "/sim/v1/faults", "bogus=1").response.status == 400);
  BOOST_TEST(api.faults().error_rate == 1.0);  // a refused spec changes nothing
  BOOST_TEST(call("PUT", "/sim/v1/faults", "").response.status == 200);
  BOOST_TEST(call("GET", "/api/v1/namespaces/default/configmaps/x").response.status == 404);
  BOOST_TEST(sunk.back() == "");
  BOOST_TEST(call("DELETE", "/sim/v1/faults").response.status == 405);
}

BOOST_FIXTURE_TEST_CASE(stop_at_write_counts_client_writes_and_holds_unapplied, Fixture) {
  std::vector<json::object> held;
  api.set_fault_listener([&](const json::object& e) { held.push_back(e); });
  BOOST_TEST_REQUIRE(
      call("PUT", "/sim/v1/faults", "stop-at-write=3,stop-at-write-skip=leases").response.status ==
      200);
  const auto& configmaps = resource_type("", "configmaps");
  // The simulator's own controllers write straight to the store: not counted.
  for (int i = 0; i < 5; ++i)
    BOOST_TEST_REQUIRE(store
                           .create(configmaps, json::object{{"metadata",
                                                             {{"name", "ctl-" + std::to_string(i)},
                                                              {"namespace", "default"}}}})
                           .has_value());
  // Neither are reads, access reviews, dry runs or skipped resources.
  BOOST_TEST(call("GET", "/api/v1/configmaps").response.status == 200);
  BOOST_TEST(call("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews",
                  R"({"spec":{"resourceAttributes":{"verb":"get","resource":"pods"}}})")
                 .response.status == 201);
  BOOST_TEST(call("POST", "/api/v1/namespaces/default/configmaps?dryRun=All",
                  R"({"metadata":{"name":"dry"}})")
                 .hold == false);
  BOOST_TEST(call("POST", "/apis/coordination.k8s.io/v1/namespaces/default/leases",
                  R"({"metadata":{"name":"l"},"spec":{}})")
                 .response.status == 201);
  // Writes 1 and 2 pass, write 3 is held and not applied, and so is every write after.
  BOOST_TEST(call("POST", "/api/v1/namespaces/default/configmaps", R"({"metadata":{"name":"a"}})")
                 .response.status == 201);
  BOOST_TEST(call("DELETE", "/api/v1/namespaces/default/configmaps/ctl-0").response.status == 200);
  BOOST_TEST(held.empty());
  const auto rv = store.resource_version();
  BOOST_TEST(call("PATCH", "/api/v1/namespaces/default/configmaps/a",
                  R"({"metadata":{"labels":{"x":"y"}}})", "application/merge-patch+json")
                 .hold);
  BOOST_TEST(call("POST", "/apis/coordination.k8s.io/v1/namespaces/default/leases",
                  R"({"metadata":{"name":"m"},"spec":{}})")
                 .hold);
  BOOST_TEST(store.resource_version() == rv, "a held write is not applied");
  BOOST_TEST(!store.get(configmaps, "default", "a")->at("metadata").as_object().contains("labels"));
  BOOST_TEST_REQUIRE(held.size() == 1u);
  BOOST_TEST(held[0].at("event").as_string() == "sim.write-held");
  BOOST_TEST(held[0].at("write").to_number<std::uint64_t>() == 3u);
  BOOST_TEST(held[0].at("verb").as_string() == "patch");
  BOOST_TEST(held[0].at("name").as_string() == "a");
  const auto state = body(call("GET", "/sim/v1/faults"));
  BOOST_TEST(state.at("stop_at_write").at("triggered").as_bool());
  BOOST_TEST(state.at("stop_at_write").at("held").to_number<std::uint64_t>() == 2u);
  BOOST_TEST(call("GET", "/api/v1/namespaces/default/configmaps/a").response.status == 200);
  // Cleared at runtime: writes flow again.
  BOOST_TEST(call("PUT", "/sim/v1/faults", "").response.status == 200);
  BOOST_TEST(call("PATCH", "/api/v1/namespaces/default/configmaps/a",
                  R"({"metadata":{"labels":{"x":"y"}}})", "application/merge-patch+json")
                 .response.status == 200);
}

BOOST_FIXTURE_TEST_CASE(watch_of_one_object_by_path, Fixture) {
  pod("a", "n1", "web");
  pod("b", "n1", "web");
  auto w = call("GET", "/api/v1/namespaces/default/pods/b?watch=true");
  BOOST_TEST_REQUIRE(w.watch != nullptr);
  BOOST_TEST_REQUIRE(w.watch->initial.size() == 1u);
  BOOST_TEST(w.watch->initial[0].find("\"name\":\"b\"") != std::string::npos);
  auto gone = call("GET", "/api/v1/namespaces/default/pods/b?watch=true&resourceVersion=0");
  BOOST_TEST(gone.watch->name == "b");
}

BOOST_FIXTURE_TEST_CASE(table_output_when_asked, Fixture) {
  pod("a", "n1", "web");
  auto r =
      api.handle(ApiRequest{"GET", "/api/v1/namespaces/default/pods?includeObject=Object", "",
                            "application/json;as=Table;v=v1;g=meta.k8s.io,application/json", ""});
  auto t = json::parse(r.response.body);
  BOOST_TEST(t.at("kind").as_string() == "Table");
  BOOST_TEST(t.at("columnDefinitions").at(2).at("name").as_string() == "Status");
  BOOST_TEST(t.at("rows").at(0).at("cells").at(2).as_string() == "Running");
  BOOST_TEST(t.at("rows").at(0).at("object").at("kind").as_string() == "Pod");
  auto w = api.handle(ApiRequest{"GET", "/api/v1/pods?watch=1", "",
                                 "application/json;as=Table;v=v1;g=meta.k8s.io", ""});
  BOOST_TEST_REQUIRE(w.watch != nullptr);
  BOOST_TEST(json::parse(w.watch->initial.at(0)).at("object").at("kind").as_string() == "Table");
}

// A CRD is served at every `served: true` version (kube-apiserver's
// apiextensions handler), the highest priority one preferred; deleting it
// stops serving it.
BOOST_FIXTURE_TEST_CASE(a_crd_is_served_at_each_served_version, Fixture) {
  BOOST_TEST(call("POST", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
                  R"({"metadata":{"name":"gadgets.example.org"},"spec":{"group":"example.org",
                     "names":{"plural":"gadgets","kind":"Gadget"},"scope":"Namespaced",
                     "versions":[{"name":"v1beta1","served":true,"storage":false},
                                 {"name":"v1","served":true,"storage":true},
                                 {"name":"v1alpha1","served":false,"storage":false}]}})")
                 .response.status == 201);
  const auto group = body(call("GET", "/apis/example.org"));
  BOOST_TEST(group.at("preferredVersion").at("version").as_string() == "v1");
  BOOST_TEST(group.at("versions").as_array().size() == 2u);
  BOOST_TEST(call("GET", "/apis/example.org/v1beta1").response.status == 200);
  BOOST_TEST(call("GET", "/apis/example.org/v1alpha1").response.status == 404);
  BOOST_TEST(call("POST", "/apis/example.org/v1beta1/namespaces/default/gadgets",
                  R"({"apiVersion":"example.org/v1beta1","metadata":{"name":"g"}})")
                 .response.status == 201);
  BOOST_TEST(body(call("GET", "/apis/example.org/v1/namespaces/default/gadgets/g"))
                 .at("apiVersion")
                 .as_string() == "example.org/v1");
  BOOST_TEST(
      call("GET", "/apis/example.org/v1alpha1/namespaces/default/gadgets/g").response.status ==
      404);
  BOOST_TEST(
      call("DELETE", "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/gadgets.example.org")
          .response.status == 200);
  BOOST_TEST(call("GET", "/apis/example.org/v1/namespaces/default/gadgets/g").response.status ==
             404);
  BOOST_TEST(call("GET", "/apis/example.org").response.status == 404);
}
