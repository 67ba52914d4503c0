#include "cnimig/agent/snapshot_projection.hpp"

#include <boost/json/parse.hpp>
#include <boost/test/unit_test.hpp>

using namespace cnimig::agent;

BOOST_AUTO_TEST_SUITE(snapshot_projection)

// The uid tells a StatefulSet's replacement (same name) from the pod the
// agent deleted, and keys the driver's "never remove a pod twice" record.
BOOST_AUTO_TEST_CASE(pod_keeps_uid_owner_and_creation_second) {
  const auto pod = boost::json::parse(R"({
    "metadata": {"name": "db-0", "namespace": "default", "uid": "6c1f-0001",
                 "creationTimestamp": "2026-11-25T08:30:00Z",
                 "ownerReferences": [{"kind": "StatefulSet", "name": "db", "controller": true}]},
    "spec": {"nodeName": "node-1"},
    "status": {"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}
  })")
                       .as_object();
  const auto p = project_pod(pod);
  BOOST_TEST(p.uid == "6c1f-0001");
  BOOST_TEST(p.owner_kind == "StatefulSet");
  BOOST_TEST(p.created == 1795595400);
  BOOST_TEST(p.ready);
  BOOST_TEST(!p.terminating);
  BOOST_TEST(!p.unmanaged());
  BOOST_TEST(!p.empty_dir);
  BOOST_TEST(pod_node_name(pod) == "node-1");
}

// The watch cache holds one PodState per pod: pods of one namespace and
// owner share those strings instead of a copy each (interned_string.hpp).
BOOST_AUTO_TEST_CASE(pods_share_their_namespace_and_owner) {
  const auto pod = [](const char* name) {
    auto o = boost::json::parse(R"({
      "metadata": {"namespace": "apps", "uid": "u",
                   "ownerReferences": [{"kind": "ReplicaSet", "name": "api-7d9f8c6b5d",
                                        "controller": true}]},
      "spec": {"nodeName": "node-1"}
    })")
                 .as_object();
    o["metadata"].as_object()["name"] = name;
    return project_pod(o);
  };
  const auto a = pod("api-7d9f8c6b5d-x2k9p");
  const auto b = pod("api-7d9f8c6b5d-q8w4z");
  BOOST_TEST(a.ns == "apps");
  BOOST_TEST(b.owner_name == "api-7d9f8c6b5d");
  BOOST_TEST(&a.ns.str() == &b.ns.str());
  BOOST_TEST(&a.owner_kind.str() == &b.owner_kind.str());
  BOOST_TEST(&a.owner_name.str() == &b.owner_name.str());
}

// cilium-native checks a re-created pod's address; a hostNetwork pod's is
// its node's and is not kept.
BOOST_AUTO_TEST_CASE(pod_keeps_its_address_unless_host_network) {
  auto pod = boost::json::parse(R"({
    "metadata": {"name": "web-1", "namespace": "default", "uid": "u-2"},
    "spec": {"nodeName": "node-1"},
    "status": {"podIP": "10.217.3.9", "podIPs": [{"ip": "10.217.3.9"}]}
  })")
                 .as_object();
  BOOST_TEST(project_pod(pod).ip == "10.217.3.9");
  pod["spec"].as_object()["hostNetwork"] = true;
  BOOST_TEST(project_pod(pod).ip.empty());
  pod["spec"].as_object()["hostNetwork"] = false;
  pod.erase("status");
  BOOST_TEST(project_pod(pod).ip.empty());  // not assigned yet
}

// kubectl drain's two refusals need two facts: whether a controller owns the
// pod (an ownerReference without controller: true does not count) and
// whether it has an emptyDir volume.
BOOST_AUTO_TEST_CASE(pod_keeps_whether_it_is_unmanaged_and_has_empty_dir) {
  const auto pod = boost::json::parse(R"({
    "metadata": {"name": "debug", "namespace": "default", "uid": "u-1",
                 "ownerReferences": [{"kind": "ConfigMap", "name": "x"}]},
    "spec": {"nodeName": "node-1",
             "volumes": [{"name": "cfg", "configMap": {"name": "x"}},
                         {"name": "scratch", "emptyDir": {}}]}
  })")
                       .as_object();
  const auto p = project_pod(pod);
  BOOST_TEST(p.owner_kind.empty());
  BOOST_TEST(p.unmanaged());
  BOOST_TEST(p.empty_dir);
}

// A label change bumps no generation: the status can look ready while not
// counting every node. The connectivity check compares the knet-stress pods
// it probes with desiredNumberScheduled, so the projection keeps it.
BOOST_AUTO_TEST_CASE(daemon_set_keeps_desired_number_scheduled) {
  const auto ds = boost::json::parse(R"({
    "metadata": {"name": "knet-stress", "namespace": "knet-stress", "generation": 1},
    "spec": {"template": {"spec": {}}},
    "status": {"observedGeneration": 1, "desiredNumberScheduled": 4,
               "updatedNumberScheduled": 4, "numberReady": 4, "numberAvailable": 4}
  })")
                      .as_object();
  const auto w = project_workload("DaemonSet", ds);
  BOOST_TEST(w.ready);
  BOOST_TEST(w.desired == 4);
}

BOOST_AUTO_TEST_SUITE_END()
