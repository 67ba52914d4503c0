// The agent migrates plain Calico and Flannel clusters with the shipped
// config/calico.yaml and config/flannel.yaml (cnimig-sim --source-cni), multus
// delegating to each one's own conflist (source-10-calico.conflist,
// source-10-flannel.conflist in resources/multus.yaml).
// Referees as in migration_e2e_test.cpp: exit code and events, kubectl's view
// of the final cluster, and the simulator's connectivity oracle.
#define BOOST_TEST_MODULE e2e_source_cni
#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "sim_cluster.hpp"

using namespace cnimig::test;

namespace {

void migrate(std::string_view cni) {
  SimCluster cluster(4, {"--source-cni", std::string(cni)});
  cluster.use_source(cni);
  cluster.wait_settled();
  // The CNI stack the oracle sees before the migration: nothing hazardous.
  const auto before = cluster.report().at("cni_stack").as_object();
  BOOST_TEST(before.at("tunnel_clash_port").as_int64() == 0);
  BOOST_TEST(!before.at("calico_first_found").as_bool());
  auto r = cluster.agent({"--apply"});
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.stderr_text);
  const auto events = events_of(r);
  BOOST_TEST(has_event(events, "migration.completed"));
  BOOST_TEST(!has_event(events, "preflight.failed"));
  check_migrated(cluster, 1);
  const auto report = cluster.report();
  const auto& stack = report.at("cni_stack").as_object();
  BOOST_TEST(stack.at("cilium_configured").as_bool());
  BOOST_TEST(!stack.at("cni_exclusive").as_bool());
  BOOST_TEST(!stack.at("pod_cidr_overlap").as_bool());
  // multus delegated to this source CNI's own conflist all along (the
  // simulator fails every multus sandbox while it names another CNI's).
  BOOST_TEST(stack.at("multus_delegate_mismatch_writes").to_number<std::int64_t>() == 0);
}

}  // namespace

BOOST_AUTO_TEST_CASE(calico_with_config_calico_yaml) {
  migrate("calico");
}

BOOST_AUTO_TEST_CASE(flannel_with_config_flannel_yaml) {
  migrate("flannel");
}
