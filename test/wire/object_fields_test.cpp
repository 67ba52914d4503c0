#include "cnimig/wire/object_fields.hpp"

#include <string_view>

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

using namespace std::literals;
namespace wire = cnimig::wire;

namespace {

boost::json::object parse(std::string_view text) {
  return boost::json::parse(text).as_object();
}

}  // namespace

BOOST_AUTO_TEST_SUITE(object_fields)

BOOST_AUTO_TEST_CASE(reads_object_meta) {
  const auto pod = parse(R"({"metadata":{"name":"p","namespace":"ns","uid":"u-1",
    "resourceVersion":"42","labels":{"app":"web"},"annotations":{"a":"b"},
    "ownerReferences":[{"kind":"ReplicaSet","name":"rs-0"},
                       {"kind":"DaemonSet","name":"ds","controller":true}]},
    "spec":{"nodeName":"node-1","hostNetwork":true},
    "status":{"conditions":[{"type":"Ready","status":"True"}]}})");
  BOOST_TEST(wire::name(pod) == "p"sv);
  BOOST_TEST(wire::ns(pod) == "ns"sv);
  BOOST_TEST(wire::uid(pod) == "u-1"sv);
  BOOST_TEST(wire::resource_version(pod) == "42"sv);
  BOOST_TEST(wire::label(pod, "app") == "web"sv);
  BOOST_TEST(wire::annotation(pod, "a") == "b"sv);
  BOOST_TEST(wire::node_name(pod) == "node-1"sv);
  BOOST_TEST(wire::host_network(pod));
  BOOST_TEST(wire::pod_ready(pod));
  BOOST_TEST(!wire::deleting(pod));
  const auto* owner = wire::controller_ref(pod);
  BOOST_REQUIRE(owner != nullptr);
  BOOST_TEST(wire::str(owner, "kind") == "DaemonSet"sv);
}

BOOST_AUTO_TEST_CASE(absent_or_mistyped_fields_read_as_empty) {
  const auto odd = parse(R"({"metadata":{"name":7,"labels":"x","resourceVersion":12},
    "spec":{"hostNetwork":"true"},"status":{"conditions":[{"type":"Ready","status":"False"}]}})");
  BOOST_TEST(wire::name(odd).empty());
  BOOST_TEST(wire::label(odd, "app").empty());
  BOOST_TEST(wire::resource_version(odd).empty());
  BOOST_TEST(!wire::host_network(odd));
  BOOST_TEST(!wire::pod_ready(odd));
  BOOST_TEST(wire::controller_ref(odd) == nullptr);
  const auto empty = parse("{}");
  BOOST_TEST(wire::meta(empty) == nullptr);
  BOOST_TEST(wire::integer(wire::status(empty), "numberReady", -1) == -1);
}

BOOST_AUTO_TEST_CASE(integers_in_every_json_representation) {
  const auto ds = parse(R"({"status":{"a":3,"c":4.0,"d":"5"}})");
  const auto* status = wire::status(ds);
  BOOST_TEST(wire::integer(status, "a") == 3);
  BOOST_TEST(wire::integer(status, "c") == 4);
  BOOST_TEST(wire::integer(status, "d", -1) == -1);
  BOOST_TEST(wire::integer(status, "missing", 9) == 9);
}

BOOST_AUTO_TEST_CASE(deletion_timestamp_means_deleting) {
  BOOST_TEST(wire::deleting(parse(R"({"metadata":{"deletionTimestamp":"2026-12-05T08:00:00Z"}})")));
}

BOOST_AUTO_TEST_SUITE_END()
