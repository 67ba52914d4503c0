#include "cnimig/wire/object_key.hpp"

#include <string_view>

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

using namespace std::literals;
namespace wire = cnimig::wire;

BOOST_AUTO_TEST_SUITE(object_key)

BOOST_AUTO_TEST_CASE(namespaced_and_cluster_scoped_keys) {
  BOOST_TEST(wire::object_key("kube-system", "cilium-abcde") == "kube-system/cilium-abcde");
  BOOST_TEST(wire::object_key("", "node-1") == "node-1");  // cluster-scoped
}

BOOST_AUTO_TEST_CASE(key_of_an_object_reads_its_metadata) {
  const auto pod =
      boost::json::parse(R"({"metadata":{"namespace":"knet-stress","name":"knet-stress-x"}})")
          .as_object();
  BOOST_TEST(wire::object_key(pod) == "knet-stress/knet-stress-x");
  const auto node = boost::json::parse(R"({"metadata":{"name":"node-2"}})").as_object();
  BOOST_TEST(wire::object_key(node) == "node-2");
}

BOOST_AUTO_TEST_CASE(split_is_the_inverse_of_join) {
  for (const auto& [ns, name] :
       {std::pair{"kube-system"sv, "cilium-operator"sv}, std::pair{""sv, "node-1"sv}}) {
    const auto key = wire::object_key(ns, name);
    const auto parts = wire::split_object_key(key);
    BOOST_TEST(parts.namespace_ == ns);
    BOOST_TEST(parts.name == name);
  }
  const auto bare = wire::split_object_key("node-3");
  BOOST_TEST(bare.namespace_.empty());
  BOOST_TEST(bare.name == "node-3"sv);
}

BOOST_AUTO_TEST_SUITE_END()
