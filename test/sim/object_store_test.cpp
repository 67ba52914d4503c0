#define BOOST_TEST_MODULE sim object store
#include "object_store.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

namespace json = boost::json;
using namespace cnimig::sim;

namespace {
json::object pod(std::string name, std::string node = "") {
  json::object o{{"metadata", {{"name", name}, {"namespace", "default"}}},
                 {"spec", {{"containers", json::array{{{"name", "c"}}}}}}};
  if (!node.empty())
    o["spec"].as_object()["nodeName"] = node;
  return o;
}
std::string rv(const ObjectPtr& p) {
  return std::string(p->at("metadata").at("resourceVersion").as_string());
}
}  // namespace

BOOST_AUTO_TEST_CASE(create_sets_server_fields_and_global_rv) {
  ObjectStore s;
  const auto& pods = resource_type("", "pods");
  auto a = s.create(pods, pod("a"));
  BOOST_TEST_REQUIRE(a.has_value());
  auto b = s.create(pods, pod("b"));
  BOOST_TEST(rv(*a) == "1");
  BOOST_TEST(rv(*b) == "2");
  BOOST_TEST((*a)->at("metadata").at("uid").as_string().size() == 36u);
  BOOST_TEST((*a)->at("metadata").at("generation").as_int64() == 1);
  BOOST_TEST((*a)->at("kind").as_string() == "Pod");
  auto dup = s.create(pods, pod("a"));
  BOOST_TEST_REQUIRE(dup.has_error());
  BOOST_TEST(dup.error().http_status == 409);
  BOOST_TEST(dup.error().reason == "AlreadyExists");
  BOOST_TEST(s.resource_version() == 2u);
}

BOOST_AUTO_TEST_CASE(update_conflicts_on_stale_rv_and_bumps_generation_on_spec_change) {
  ObjectStore s;
  const auto& ds = resource_type("apps", "daemonsets");
  json::object o{{"metadata", {{"name", "d"}, {"namespace", "kube-system"}}}, {"spec", {{"x", 1}}}};
  auto created = s.create(ds, o);
  BOOST_TEST_REQUIRE(created.has_value());
  json::object next = **created;
  next["metadata"].as_object()["labels"] = json::object{{"a", "b"}};
  auto labelled = s.update(ds, next);
  BOOST_TEST_REQUIRE(labelled.has_value());
  BOOST_TEST((*labelled)->at("metadata").at("generation").as_int64() == 1);
  // Stale resourceVersion -> 409 Conflict.
  auto stale = s.update(ds, next);
  BOOST_TEST_REQUIRE(stale.has_error());
  BOOST_TEST(stale.error().reason == "Conflict");
  json::object spec_change = **labelled;
  spec_change["spec"].as_object()["x"] = 2;
  spec_change["status"] = json::object{{"ignored", true}};
  auto bumped = s.update(ds, spec_change);
  BOOST_TEST_REQUIRE(bumped.has_value());
  BOOST_TEST((*bumped)->at("metadata").at("generation").as_int64() == 2);
  BOOST_TEST(!(*bumped)->contains("status"));
  // Status goes through update_status, without a generation bump.
  json::object st = **bumped;
  st["status"] = json::object{{"numberReady", 3}};
  auto with_status = s.update_status(ds, st);
  BOOST_TEST_REQUIRE(with_status.has_value());
  BOOST_TEST((*with_status)->at("status").at("numberReady").as_int64() == 3);
  BOOST_TEST((*with_status)->at("metadata").at("generation").as_int64() == 2);
  // A no-op update commits nothing.
  const auto before = s.resource_version();
  auto same = s.update(ds, **with_status);
  BOOST_TEST_REQUIRE(same.has_value());
  BOOST_TEST(s.resource_version() == before);
}

BOOST_AUTO_TEST_CASE(observers_see_changes_in_order_and_pod_node_index_follows) {
  ObjectStore s;
  const auto& pods = resource_type("", "pods");
  std::vector<std::pair<ChangeType, std::uint64_t>> seen;
  auto id = s.observe([&](const Change& c) { seen.emplace_back(c.type, c.resource_version); });
  BOOST_TEST_REQUIRE(s.create(pods, pod("a", "n1")).has_value());
  BOOST_TEST_REQUIRE(s.create(pods, pod("b", "n1")).has_value());
  BOOST_TEST(s.pods_on_node("n1").size() == 2u);
  json::object moved = *s.get(pods, "default", "b");
  moved["spec"].as_object()["nodeName"] = "n2";
  BOOST_TEST_REQUIRE(s.update(pods, moved).has_value());
  BOOST_TEST(s.pods_on_node("n1").size() == 1u);
  BOOST_TEST(s.pods_on_node("n2").size() == 1u);
  auto removed = s.remove(pods, "default", "a");
  BOOST_TEST_REQUIRE(removed.has_value());
  BOOST_TEST(rv(*removed) == "4");
  BOOST_TEST(s.pods_on_node("n1").empty());
  BOOST_TEST(s.get(pods, "default", "a") == nullptr);
  s.unobserve(id);
  BOOST_TEST_REQUIRE(s.create(pods, pod("c")).has_value());
  BOOST_TEST_REQUIRE(seen.size() == 4u);
  BOOST_TEST((seen[0].first == ChangeType::added));
  BOOST_TEST((seen[2].first == ChangeType::modified));
  BOOST_TEST((seen[3].first == ChangeType::deleted));
  BOOST_TEST(seen[3].second == 4u);
}

BOOST_AUTO_TEST_CASE(list_pages_in_key_order_and_scopes_by_namespace) {
  ObjectStore s;
  const auto& cms = resource_type("", "configmaps");
  for (const char* ns : {"b", "a"}) {
    for (const char* n : {"y", "x", "z"}) {
      BOOST_TEST_REQUIRE(
          s.create(cms, json::object{{"metadata", {{"name", n}, {"namespace", ns}}}}).has_value());
    }
  }
  BOOST_TEST(s.list(cms, "a").size() == 3u);
  BOOST_TEST(s.list(cms, "").size() == 6u);
  std::string next;
  auto page1 = s.list_page(cms, "", "", 4, &next);
  BOOST_TEST(page1.size() == 4u);
  BOOST_TEST(next == "b/x");
  auto page2 = s.list_page(cms, "", next, 4, &next);
  BOOST_TEST(page2.size() == 2u);
  BOOST_TEST(next.empty());
  BOOST_TEST(object_name(*page2[1]) == "z");
}

BOOST_AUTO_TEST_CASE(finalized_non_pod_is_removed_and_write_gate_refuses) {
  ObjectStore s;
  const auto& cms = resource_type("", "configmaps");
  json::object o{{"metadata", {{"name", "c"}, {"finalizers", json::array{"x"}}}}};
  BOOST_TEST_REQUIRE(s.create(cms, o).has_value());
  s.set_write_gate([](std::uint64_t n) -> cnimig::Result<void> {
    if (n >= 3)
      return cnimig::make_error(cnimig::Errc::transport, "stopped");
    return {};
  });
  BOOST_TEST(s.writes() == 1u);
  BOOST_TEST_REQUIRE(s.create(cms, json::object{{"metadata", {{"name", "d"}}}}).has_value());
  BOOST_TEST(s.create(cms, json::object{{"metadata", {{"name", "e"}}}}).has_error());
  BOOST_TEST(s.writes() == 2u);
  BOOST_TEST(resource_type("", "pods").kind == "Pod");
  BOOST_CHECK_THROW(resource_type("", "nope"), cnimig::ErrorException);
}
