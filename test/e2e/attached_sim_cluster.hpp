#pragma once
// The e2e fixture over a real control plane: test/realcluster's
// launch-control-plane.sh starts etcd, kube-apiserver,
// kube-controller-manager and kube-scheduler, then runs `cnimig-sim --attach`
// against it as its command (so stopping the launcher stops everything). The
// agent and kubectl talk to the real API server; the report and faults come
// from the attached simulator's own API. Test executables get
// CNIMIG_REALCLUSTER_LAUNCH and CNIMIG_REALCLUSTER_BIN from
// test/realcluster/CMakeLists.txt.
#include "sim_cluster.hpp"

namespace cnimig::test {

struct AttachedSimCluster : SimCluster {
  fs::path control_plane = dir / "control-plane";

  // With `audit`, the API server writes every request's metadata (its
  // audit log, one JSON event per line) to audit_log().
  explicit AttachedSimCluster(int node_count, std::vector<std::string> extra_args = {},
                              bool audit = false)
      : SimCluster(node_count, Deferred{}) {
    std::vector<std::string> env;
    if (audit) {
      std::ofstream(dir / "audit-policy.yaml")
          << "apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\n"
             "rules:\n- level: Metadata\n";
      env.push_back("REALCLUSTER_APISERVER_FLAGS=--audit-policy-file=" +
                    (dir / "audit-policy.yaml").string() +
                    " --audit-log-path=" + audit_log().string());
    }
    kubeconfig = control_plane / "admin.kubeconfig";
    sim_kubeconfig = dir / "sim.kubeconfig";
    std::vector<std::string> argv = {"bash",
                                     CNIMIG_REALCLUSTER_LAUNCH,
                                     "--bin",
                                     CNIMIG_REALCLUSTER_BIN,
                                     "--dir",
                                     control_plane.string(),
                                     "--",
                                     CNIMIG_SIM_BIN,
                                     "--attach",
                                     kubeconfig.string(),
                                     "--nodes",
                                     std::to_string(node_count),
                                     "--kubeconfig-out",
                                     sim_kubeconfig.string()};
    add_sim_defaults(argv, extra_args);
    // The control plane takes 10-40 s to become healthy on a busy machine.
    launch(argv, "\"sim.attached\"", 240s, env);
  }
  fs::path audit_log() const { return dir / "audit.log"; }

  // The agent runs as ServiceAccount cnimig-system/cnimig-agent, bound to
  // the shipped ClusterRole (resources/agent-job.yaml), not as an admin.
  void use_agent_identity() { kubeconfig = control_plane / "agent.kubeconfig"; }
  fs::path admin_kubeconfig() const { return control_plane / "admin.kubeconfig"; }
};

}  // namespace cnimig::test
