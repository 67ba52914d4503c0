#define BOOST_TEST_MODULE sim scheduling predicates and PDB math
#include "scheduling_predicates.hpp"

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "workload_status.hpp"

namespace json = boost::json;
using namespace cnimig::sim;

namespace {
json::object node(json::object labels, json::array taints = {}, bool cordoned = false) {
  json::object spec;
  if (!taints.empty())
    spec["taints"] = std::move(taints);
  if (cordoned)
    spec["unschedulable"] = true;
  return json::object{{"metadata", json::object{{"name", "n1"}, {"labels", std::move(labels)}}},
                      {"spec", std::move(spec)}};
}
json::object taint(const char* key, const char* effect, const char* value = "true") {
  return json::object{{"key", key}, {"value", value}, {"effect", effect}};
}
json::object spec_with(json::array tolerations, json::object selector = {}) {
  json::object s{{"tolerations", std::move(tolerations)}};
  if (!selector.empty())
    s["nodeSelector"] = std::move(selector);
  return s;
}
std::int64_t allowed(const json::object& pdb_spec, std::int64_t expected, std::int64_t healthy,
                     bool blocked = false) {
  json::object pdb{{"metadata", json::object{{"name", "p"}, {"generation", 3}}},
                   {"spec", pdb_spec}};
  const auto st = pdb_status(pdb, PdbCounts{expected, healthy}, blocked);
  BOOST_TEST(st.at("observedGeneration").to_number<int>() == 3);
  return st.at("disruptionsAllowed").to_number<std::int64_t>();
}
}  // namespace

BOOST_AUTO_TEST_CASE(toleration_operators_and_effects) {
  const auto t = taint("k", "NoExecute", "v");
  BOOST_TEST(tolerates(json::object{{"key", "k"}, {"operator", "Exists"}}, t));
  BOOST_TEST(tolerates(json::object{{"key", "k"}, {"operator", "Equal"}, {"value", "v"}}, t));
  BOOST_TEST(tolerates(json::object{{"key", "k"}, {"value", "v"}}, t));  // Equal is the default
  BOOST_TEST(!tolerates(json::object{{"key", "k"}, {"operator", "Equal"}, {"value", "w"}}, t));
  BOOST_TEST(
      !tolerates(json::object{{"key", "k"}, {"operator", "Exists"}, {"effect", "NoSchedule"}}, t));
  BOOST_TEST(tolerates(json::object{{"operator", "Exists"}}, t));  // empty key + Exists: everything
  BOOST_TEST(!tolerates(json::object{{"key", "other"}, {"operator", "Exists"}}, t));
}

BOOST_AUTO_TEST_CASE(scheduler_filters) {
  const json::object plain = spec_with({});
  BOOST_TEST(pod_fits_node(plain, node({})));
  BOOST_TEST(!pod_fits_node(plain, node({}, {}, true)));  // cordoned
  BOOST_TEST(!pod_fits_node(plain, node({}, json::array{taint("a", "NoSchedule")})));
  BOOST_TEST(pod_fits_node(plain, node({}, json::array{taint("a", "PreferNoSchedule")})));
  BOOST_TEST(
      pod_fits_node(spec_with(json::array{json::object{{"key", "a"}, {"operator", "Exists"}}}),
                    node({}, json::array{taint("a", "NoSchedule")})));
  BOOST_TEST(!pod_fits_node(spec_with({}, json::object{{"disk", "ssd"}}), node({{"disk", "hdd"}})));
  BOOST_TEST(pod_fits_node(spec_with({}, json::object{{"disk", "ssd"}}), node({{"disk", "ssd"}})));
  // Required node affinity.
  json::object affinity_spec{
      {"affinity",
       json::object{
           {"nodeAffinity",
            json::object{{"requiredDuringSchedulingIgnoredDuringExecution",
                          json::object{{"nodeSelectorTerms",
                                        json::array{json::object{
                                            {"matchExpressions",
                                             json::array{json::object{
                                                 {"key", "zone"},
                                                 {"operator", "In"},
                                                 {"values", json::array{"a", "b"}}}}}}}}}}}}}}};
  BOOST_TEST(pod_fits_node(affinity_spec, node({{"zone", "b"}})));
  BOOST_TEST(!pod_fits_node(affinity_spec, node({{"zone", "c"}})));
  BOOST_TEST(!pod_fits_node(affinity_spec, node({})));
}

BOOST_AUTO_TEST_CASE(daemonset_eligibility) {
  const json::object ds =
      spec_with({}, json::object{{"node-role.kubernetes.io/calico-cilium", "true"}});
  const auto labelled = node({{"node-role.kubernetes.io/calico-cilium", "true"}});
  BOOST_TEST(daemon_should_run(ds, labelled));
  BOOST_TEST(!daemon_should_run(ds, node({})));
  BOOST_TEST(!daemon_should_continue(ds, node({})));
  // Cordon does not matter to daemon pods (automatic unschedulable toleration).
  BOOST_TEST(
      daemon_should_run(ds, node({{"node-role.kubernetes.io/calico-cilium", "true"}}, {}, true)));
  // not-ready/unreachable NoExecute are tolerated automatically; arbitrary NoExecute is not.
  BOOST_TEST(daemon_should_continue(
      ds, node({{"node-role.kubernetes.io/calico-cilium", "true"}},
               json::array{taint("node.kubernetes.io/not-ready", "NoExecute")})));
  BOOST_TEST(!daemon_should_continue(
      ds, node({{"node-role.kubernetes.io/calico-cilium", "true"}},
               json::array{taint("node-role.kubernetes.io/cilium", "NoExecute")})));
  // NoSchedule: not started, but an existing pod keeps running.
  const auto soft = node({{"node-role.kubernetes.io/calico-cilium", "true"}},
                         json::array{taint("x", "NoSchedule")});
  BOOST_TEST(!daemon_should_run(ds, soft));
  BOOST_TEST(daemon_should_continue(ds, soft));
  // A DaemonSet tolerating everything (canal) stays through the migration taint.
  const json::object canal = spec_with(json::array{json::object{{"operator", "Exists"}}});
  BOOST_TEST(daemon_should_continue(
      canal, node({}, json::array{taint("node-role.kubernetes.io/cilium", "NoExecute")})));
}

BOOST_AUTO_TEST_CASE(pdb_arithmetic) {
  BOOST_TEST(allowed(json::object{{"maxUnavailable", 1}}, 2, 2) == 1);
  BOOST_TEST(allowed(json::object{{"maxUnavailable", 1}}, 2, 1) == 0);
  BOOST_TEST(allowed(json::object{{"maxUnavailable", "10%"}}, 4, 4) == 1);    // ceil(0.4) = 1
  BOOST_TEST(allowed(json::object{{"maxUnavailable", "25%"}}, 10, 10) == 3);  // ceil(2.5) = 3
  BOOST_TEST(allowed(json::object{{"minAvailable", 2}}, 3, 3) == 1);
  BOOST_TEST(allowed(json::object{{"minAvailable", "50%"}}, 3, 3) == 1);  // desired ceil(1.5) = 2
  BOOST_TEST(allowed(json::object{{"minAvailable", "100%"}}, 3, 3) == 0);
  BOOST_TEST(allowed(json::object{{"maxUnavailable", 0}}, 3, 3) == 0);
  BOOST_TEST(allowed(json::object{{"maxUnavailable", 1}}, 5, 5, true) == 0);  // blocking-pdb fault
  json::object pdb{{"metadata", json::object{{"name", "p"}}},
                   {"spec", json::object{{"minAvailable", 1}}}};
  const auto st = pdb_status(pdb, PdbCounts{3, 2}, false);
  BOOST_TEST(st.at("desiredHealthy").to_number<int>() == 1);
  BOOST_TEST(st.at("currentHealthy").to_number<int>() == 2);
  BOOST_TEST(st.at("expectedPods").to_number<int>() == 3);
  BOOST_TEST(st.at("conditions").at(0).at("reason").as_string() == "SufficientPods");
}
