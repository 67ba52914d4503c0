#include "cnimig/sim/cluster_model_factory.hpp"

#include "cluster_model.hpp"

namespace cnimig::sim {

ClusterOptions cluster_options_from(const SimulatorOptions& options, ClusterOptions base) {
  base.time_scale = options.time_scale;
  for (auto& [k, v] : cluster_faults_from(options.faults.extra))
    base.faults[k] = std::move(v);
  return base;
}

ClusterFactory cluster_model_factory(ClusterOptions base) {
  return [base = std::move(base)](
             boost::asio::io_context& io, ObjectStore& store, ApiHandler&,
             const SimulatorOptions& options) -> std::unique_ptr<SimulatedCluster> {
    return std::make_unique<ClusterModel>(io, store, cluster_options_from(options, base));
  };
}

}  // namespace cnimig::sim
