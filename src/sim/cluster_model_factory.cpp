#include "cnimig/sim/cluster_model_factory.hpp"

#include "cnimig/sim/cluster_model.hpp"

namespace cnimig::sim {

ClusterFactory cluster_model_factory() {
  return [](boost::asio::io_context& io, ObjectStore& store, ApiHandler&,
            const SimulatorOptions& options) {
    ClusterOptions cluster;
    cluster.time_scale = options.time_scale;
    for (const auto& [key, value] : options.faults.extra)
      cluster.faults.emplace(key, value);
    return std::make_unique<ClusterModel>(io, store, std::move(cluster));
  };
}

}  // namespace cnimig::sim
