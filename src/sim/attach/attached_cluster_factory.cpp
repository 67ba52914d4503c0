#include "cnimig/sim/attached_cluster_factory.hpp"

#include "cnimig/sim/cluster_model_factory.hpp"

#include "attached_cluster.hpp"

namespace cnimig::sim {

ClusterFactory attached_cluster_factory(ClusterOptions base, AttachOptions attach) {
  return [base = std::move(base), attach = std::move(attach)](
             boost::asio::io_context& io, ObjectStore& store, ApiHandler&,
             const SimulatorOptions& options) -> std::unique_ptr<SimulatedCluster> {
    return std::make_unique<AttachedCluster>(io, store, cluster_options_from(options, base),
                                             attach);
  };
}

}  // namespace cnimig::sim
