#include "cnimig/agent/simulated_run.hpp"

#include <filesystem>
#include <random>

#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include "cnimig/common/exit_code.hpp"
#include "cnimig/events/event_catalogue.hpp"
#include "cnimig/sim/cluster_model_factory.hpp"
#include "cnimig/sim/simulated_cluster.hpp"
#include "cnimig/sim/simulator.hpp"

namespace cnimig::agent {
namespace {

// The in-process report holds counts as whatever integer type built them.
std::int64_t number(const boost::json::value& v) {
  if (v.is_int64())
    return v.get_int64();
  if (v.is_uint64())
    return static_cast<std::int64_t>(v.get_uint64());
  if (v.is_double())
    return static_cast<std::int64_t>(v.get_double());
  return 0;
}

}  // namespace

int run_simulated(AgentRunOptions options, const SimulationOptions& simulation,
                  events::EventSink& events) {
  sim::SimulatorOptions sim_options;
  sim_options.nodes = simulation.nodes;
  sim_options.pods_per_node = simulation.pods_per_node;
  sim_options.time_scale = simulation.time_scale;
  sim::Simulator simulator(sim_options, sim::cluster_model_factory());
  if (auto started = simulator.start(); !started) {
    spdlog::error("cannot start the simulated cluster: {}", started.error().describe());
    return kExitUnreachable;
  }
  const auto dir = std::filesystem::temp_directory_path() /
                   ("cnimig-simulate-" + std::to_string(std::random_device{}()));
  std::filesystem::create_directories(dir);
  const auto kubeconfig = dir / "kubeconfig";
  if (auto written = simulator.write_kubeconfig(kubeconfig.string()); !written) {
    spdlog::error("cannot write the simulated cluster's kubeconfig: {}",
                  written.error().describe());
    return kExitUnreachable;
  }
  events.emit(events::Event(events::catalogued("sim.started"))
                  .field("url", simulator.url())
                  .field("nodes", static_cast<std::int64_t>(simulation.nodes)));
  spdlog::info("simulated cluster of {} nodes at {} (kubeconfig {})", simulation.nodes,
               simulator.url(), kubeconfig.string());

  // The cluster to migrate is one that has been running: its CNI is up.
  // (--apply would wait for it at the first gate; a plan would only say it
  // waits.) Interrupting this wait needs no safe point: nothing is written.
  spdlog::info("waiting for the simulated cluster's pods to become Ready");
  if (auto settled = simulator.wait_until_settled(options.config.timeouts.gate); !settled) {
    spdlog::error("{}", settled.error().describe());
    simulator.stop();
    std::filesystem::remove_all(dir);
    return kExitHalted;
  }

  options.kubeconfig = kubeconfig;
  options.context.reset();
  int code = run_agent(options, events);

  simulator.stop();  // joins the simulator's thread: its state is ours to read now
  auto report = simulator.cluster().report();
  std::filesystem::remove_all(dir);
  const auto& violations = report.at("violations").as_object();
  const auto max_concurrent = number(violations.at("max_concurrent"));
  const auto cordoned = number(report.at("cordoned").at("max_at_once"));
  events.emit(events::Event(events::catalogued("sim.report"))
                  .field("violations", max_concurrent)
                  .field("violation_seconds", violations.at("violation_seconds"))
                  .field("max_nodes_cordoned", cordoned));
  spdlog::info("simulated cluster: {} connectivity violations, at most {} node(s) cordoned at once",
               max_concurrent, cordoned);
  if (code == kExitDone && max_concurrent != 0) {
    spdlog::error("the oracle saw pods lose each other during the migration");
    code = kExitHalted;
  }
  return code;
}

}  // namespace cnimig::agent
