#include "cnimig/agent/yaml_documents.hpp"

#include <boost/json/serialize.hpp>
#include <boost/test/unit_test.hpp>

using namespace cnimig::agent;

BOOST_AUTO_TEST_SUITE(yaml_documents)

BOOST_AUTO_TEST_CASE(scalars_are_typed_by_the_core_schema) {
  auto docs = parse_yaml_documents(
      "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: x\n"
      "data:\n  quoted: \"true\"\n  single: '42'\n  tagged: !!str 7\n"
      "spec:\n  replicas: 3\n  neg: -2\n  hex: 0x1f\n  ratio: 0.5\n  on: true\n  off: False\n"
      "  nothing: ~\n  empty:\n  text: hello world\n  yes_is_text: yes\n  version: 1.9.5\n"
      "  list: [1, \"2\", three]\n",
      "m.yaml");
  BOOST_TEST_REQUIRE(docs.has_value(), (docs ? "" : docs.error().message));
  BOOST_TEST_REQUIRE(docs->size() == 1u);
  const auto& o = docs->front();
  const auto& data = o.at("data").as_object();
  BOOST_TEST(data.at("quoted").as_string() == "true");
  BOOST_TEST(data.at("single").as_string() == "42");
  BOOST_TEST(data.at("tagged").as_string() == "7");
  const auto& spec = o.at("spec").as_object();
  BOOST_TEST(spec.at("replicas").as_int64() == 3);
  BOOST_TEST(spec.at("neg").as_int64() == -2);
  BOOST_TEST(spec.at("hex").as_int64() == 31);
  BOOST_TEST(spec.at("ratio").as_double() == 0.5);
  BOOST_TEST(spec.at("on").as_bool() == true);
  BOOST_TEST(spec.at("off").as_bool() == false);
  BOOST_TEST(spec.at("nothing").is_null());
  BOOST_TEST(spec.at("empty").is_null());
  BOOST_TEST(spec.at("text").as_string() == "hello world");
  BOOST_TEST(spec.at("yes_is_text").as_string() == "yes");  // YAML 1.2, not 1.1
  BOOST_TEST(spec.at("version").as_string() == "1.9.5");
  BOOST_TEST(boost::json::serialize(spec.at("list")) == R"([1,"2","three"])");
}

BOOST_AUTO_TEST_CASE(multiple_documents_and_lists) {
  auto docs = parse_yaml_documents(
      "---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: a\n---\n---\n"
      "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Namespace\n  metadata:\n    "
      "name: b\n"
      "- apiVersion: v1\n  kind: Namespace\n  metadata:\n    name: c\n",
      "m.yaml");
  BOOST_TEST_REQUIRE(docs.has_value(), (docs ? "" : docs.error().message));
  BOOST_TEST_REQUIRE(docs->size() == 3u);
  BOOST_TEST((*docs)[2].at("metadata").at("name").as_string() == "c");
}

BOOST_AUTO_TEST_CASE(errors_name_file_line_and_column) {
  struct Case {
    const char* yaml;
    const char* expected;
  } cases[] = {
      {"apiVersion: v1\nkind: [\n", "m.yaml:3:1: invalid YAML"},
      {"- a\n- b\n", "m.yaml:1:1: a manifest document must be a mapping"},
      {"apiVersion: v1\nkind: X\nmetadata:\n  name: a\n  name: b\n",
       "m.yaml:5:3: duplicate key 'name'"},
      {"apiVersion: v1\nmetadata:\n  name: a\n", "object has no kind"},
      {"apiVersion: v1\nkind: ConfigMap\nmetadata: {}\n", "object has no metadata.name"},
      {"apiVersion: v1\nkind: List\n", "List without items"},
  };
  for (const auto& c : cases) {
    auto docs = parse_yaml_documents(c.yaml, "m.yaml");
    BOOST_TEST_REQUIRE(docs.has_error(), c.yaml);
    BOOST_TEST(docs.error().message.find(c.expected) != std::string::npos, docs.error().message);
  }
}

BOOST_AUTO_TEST_SUITE_END()
