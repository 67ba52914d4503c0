#pragma once
// The first `knet-stress status`, kept as the reference its indexed
// replacement must equal: every pod of the cluster visited, each Ready
// knet-stress peer of the namespace judged with pod_reaches (the printing,
// knet_stress_answer, is shared). And the pods
// the tests and the benchmark feed a NetworkModel by hand.

#include <string>
#include <vector>

#include <boost/json.hpp>

#include "cnimig/sim/exec_result.hpp"
#include "cnimig/wire/object_fields.hpp"
#include "cnimig/wire/object_key.hpp"

#include "network_model.hpp"

namespace cnimig::sim::test {

// A pod as the kubelet model leaves it (Running, its interfaces recorded).
struct PodSpec {
  std::string ns = "knet";
  std::string name;
  std::string node;
  std::string owner = "knet-stress";  // a DaemonSet; "" for none
  bool ready = true;
  std::string interfaces = "source";  // the interfaces annotation; "" for none
  bool host_network = false;
  std::string ip = "10.64.0.2";
};

inline boost::json::object pod(const PodSpec& s) {
  boost::json::object meta{{"name", s.name}, {"namespace", s.ns}};
  if (!s.owner.empty())
    meta["ownerReferences"] = boost::json::array{
        boost::json::object{{"kind", "DaemonSet"}, {"name", s.owner}, {"controller", true}}};
  if (!s.interfaces.empty())
    meta["annotations"] = boost::json::object{{std::string(interfaces_annotation), s.interfaces}};
  boost::json::object spec;
  if (!s.node.empty())
    spec["nodeName"] = s.node;
  if (s.host_network)
    spec["hostNetwork"] = true;
  boost::json::object status{
      {"phase", "Running"},
      {"podIP", s.ip},
      {"conditions", boost::json::array{boost::json::object{
                         {"type", "Ready"}, {"status", s.ready ? "True" : "False"}}}}};
  return boost::json::object{{"metadata", meta}, {"spec", spec}, {"status", status}};
}

// What the reference reads of a pod (the model's own record held the same).
struct ReferencePod {
  std::string key, ns, name, owner, ip, node;
  bool ready = false;
};

inline ReferencePod reference_pod(const boost::json::object& pod) {
  using namespace cnimig::wire;
  ReferencePod p{object_key(pod),
                 std::string(str(meta(pod), "namespace")),
                 std::string(str(meta(pod), "name")),
                 "",
                 std::string(str(status(pod), "podIP")),
                 std::string(node_name(pod)),
                 pod_ready(pod)};
  if (const auto* ref = controller_ref(pod); ref && str(ref, "kind") == "DaemonSet")
    p.owner = std::string(str(ref, "name"));
  return p;
}

inline ExecResult reference_knet_stress_status(const NetworkModel& net, const ReferencePod& self,
                                               bool running,
                                               const std::vector<ReferencePod>& pods) {
  ExecResult r;
  if (!running) {
    r.exit_code = 1;
    r.stderr_text = "knet-stress: not running (no network)\n";
    return r;
  }
  std::vector<std::string> unreachable;
  std::size_t peers = 0;
  for (const auto& p : pods) {
    if (p.key == self.key || p.ns != self.ns || p.owner.rfind("knet-stress", 0) != 0 || !p.ready)
      continue;
    ++peers;
    if (!net.pod_reaches(self.key, p.key))
      unreachable.push_back(p.name + " (" + p.ip + " on " + p.node + ")");
  }
  return knet_stress_answer(std::move(unreachable), peers);
}

}  // namespace cnimig::sim::test
