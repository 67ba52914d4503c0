#define BOOST_TEST_MODULE sim patches
#include "patch.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

namespace json = boost::json;
using namespace cnimig::sim;

BOOST_AUTO_TEST_CASE(merge_patch) {
  auto out = json_merge_patch(json::parse(R"({"a":1,"b":{"c":2,"d":3}})"),
                              json::parse(R"({"b":{"c":null,"e":4},"f":[1]})"));
  BOOST_TEST(out == json::parse(R"({"a":1,"b":{"d":3,"e":4},"f":[1]})"));
}

BOOST_AUTO_TEST_CASE(json_patch_ops) {
  auto out = json_patch(json::parse(R"({"a":[1,2],"b":{"c":1}})"), json::parse(R"([
      {"op":"add","path":"/a/-","value":3},
      {"op":"replace","path":"/b/c","value":2},
      {"op":"add","path":"/b/x~1y","value":true},
      {"op":"test","path":"/a/0","value":1},
      {"op":"copy","from":"/b/c","path":"/d"},
      {"op":"remove","path":"/a/1"}])"));
  BOOST_TEST_REQUIRE(out.has_value());
  BOOST_TEST(*out == json::parse(R"({"a":[1,3],"b":{"c":2,"x/y":true},"d":2})"));
  BOOST_TEST(json_patch(json::parse("{}"), json::parse(R"([{"op":"test","path":"/a","value":1}])"))
                 .has_error());
  BOOST_TEST(
      json_patch(json::parse("{}"), json::parse(R"([{"op":"replace","path":"/a","value":1}])"))
          .has_error());
}

BOOST_AUTO_TEST_CASE(smp_cordon_taint_label) {
  auto node = json::parse(R"({"metadata":{"name":"n","labels":{"a":"1"}},
      "spec":{"taints":[{"key":"k1","effect":"NoSchedule"}]}})");
  // kubectl cordon
  auto c = strategic_merge_patch(node, json::parse(R"({"spec":{"unschedulable":true}})"));
  BOOST_TEST_REQUIRE(c.has_value());
  BOOST_TEST(c->at("spec").at("unschedulable").as_bool());
  // kubectl uncordon sends null to remove
  auto u = strategic_merge_patch(*c, json::parse(R"({"spec":{"unschedulable":null}})"));
  BOOST_TEST(!u->at("spec").as_object().contains("unschedulable"));
  // kubectl taint sends the whole list
  auto t = strategic_merge_patch(node, json::parse(R"({"spec":{"taints":[
      {"key":"k1","effect":"NoSchedule"},{"key":"k2","value":"v","effect":"NoExecute"}]}})"));
  BOOST_TEST(t->at("spec").at("taints").as_array().size() == 2u);
  // kubectl label / annotate
  auto l =
      strategic_merge_patch(node, json::parse(R"({"metadata":{"labels":{"a":null,"b":"2"}}})"));
  BOOST_TEST(l->at("metadata").at("labels") == json::parse(R"({"b":"2"})"));
}

BOOST_AUTO_TEST_CASE(smp_lists_with_merge_keys_and_directives) {
  auto ds = json::parse(R"({"spec":{"template":{"spec":{
      "containers":[{"name":"a","image":"a:1","env":[{"name":"X","value":"1"}],
                     "ports":[{"containerPort":80,"name":"http"}]},
                    {"name":"b","image":"b:1"}],
      "tolerations":[{"operator":"Exists"}],
      "volumes":[{"name":"v1","emptyDir":{}},{"name":"v2","hostPath":{"path":"/x"}}]}}},
      "metadata":{"finalizers":["f1"]}})");
  auto p = json::parse(R"({"spec":{"template":{"spec":{
      "$setElementOrder/containers":[{"name":"a"},{"name":"b"}],
      "containers":[{"name":"a","image":"a:2","env":[{"name":"Y","value":"2"}]},
                    {"name":"c","image":"c:1"}],
      "tolerations":[{"key":"k","operator":"Exists"}],
      "volumes":[{"name":"v1","$patch":"delete"},
                 {"name":"v2","$retainKeys":["name","emptyDir"],"emptyDir":{}}]}}},
      "metadata":{"finalizers":["f2"],"$deleteFromPrimitiveList/finalizers":["f1"]}})");
  auto out = strategic_merge_patch(ds, p);
  BOOST_TEST_REQUIRE(out.has_value());
  const auto& spec = out->at("spec").at("template").at("spec");
  const auto& cs = spec.at("containers").as_array();
  BOOST_TEST_REQUIRE(cs.size() == 3u);
  BOOST_TEST(cs[0].at("image").as_string() == "a:2");
  BOOST_TEST(cs[0].at("env").as_array().size() == 2u);
  BOOST_TEST(cs[0].at("ports").as_array().size() == 1u);
  BOOST_TEST(cs[2].at("name").as_string() == "c");
  BOOST_TEST(spec.at("tolerations").as_array().size() == 1u);
  BOOST_TEST(spec.at("tolerations").at(0).at("key").as_string() == "k");
  const auto& vols = spec.at("volumes").as_array();
  BOOST_TEST_REQUIRE(vols.size() == 1u);
  BOOST_TEST(vols[0] == json::parse(R"({"name":"v2","emptyDir":{}})"));
  BOOST_TEST(out->at("metadata").at("finalizers") == json::parse(R"(["f2"])"));
  auto replaced = strategic_merge_patch(
      ds, json::parse(R"({"spec":{"template":{"spec":{"$patch":"replace","containers":[]}}}})"));
  BOOST_TEST(replaced->at("spec").at("template").at("spec") == json::parse(R"({"containers":[]})"));
}
