#include "cnimig/wire/label_selector.hpp"

#include <string_view>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

namespace json = boost::json;
using cnimig::wire::FieldSelector;
using cnimig::wire::LabelSelector;

BOOST_AUTO_TEST_SUITE(label_selector)

BOOST_AUTO_TEST_CASE(label_selector_operators) {
  json::object labels{{"app", "web"}, {"tier", "front"}};
  const auto m = [&](std::string_view s) {
    auto sel = LabelSelector::parse(s);
    BOOST_TEST_REQUIRE(sel.has_value());
    return sel->matches(&labels);
  };
  BOOST_TEST(m(""));
  BOOST_TEST(m("app=web"));
  BOOST_TEST(m("app==web,tier"));
  BOOST_TEST(!m("app!=web"));
  BOOST_TEST(m("app in (web, db)"));
  BOOST_TEST(!m("app notin (web,db)"));
  BOOST_TEST(m("!missing"));
  BOOST_TEST(!m("!app"));
  BOOST_TEST(m("missing!=x"));
  BOOST_TEST(LabelSelector::parse("app in (web").has_error());
  auto js = LabelSelector::from_json(json::parse(R"({"matchLabels":{"app":"web"},
      "matchExpressions":[{"key":"tier","operator":"In","values":["front"]}]})")
                                         .as_object());
  BOOST_TEST_REQUIRE(js.has_value());
  BOOST_TEST(js->matches(&labels));
}

BOOST_AUTO_TEST_CASE(field_selector) {
  auto obj = json::parse(R"({"metadata":{"name":"p","namespace":"n"},
      "spec":{"nodeName":"node-1"},"status":{"phase":"Running"}})")
                 .as_object();
  auto sel = FieldSelector::parse("spec.nodeName=node-1,status.phase!=Succeeded");
  BOOST_TEST_REQUIRE(sel.has_value());
  BOOST_TEST(sel->matches(obj));
  BOOST_TEST_REQUIRE(sel->node_name() != nullptr);
  BOOST_TEST(*sel->node_name() == "node-1");
  BOOST_TEST(!FieldSelector::parse("metadata.name=q")->matches(obj));
  BOOST_TEST(FieldSelector::parse("metadata.namespace==n")->matches(obj));
}

BOOST_AUTO_TEST_SUITE_END()
