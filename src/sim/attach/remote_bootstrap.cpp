#include "remote_bootstrap.hpp"

#include <chrono>

#include "../cluster_bootstrap.hpp"
#include "../controller_context.hpp"
#include "../json_fields.hpp"
#include "../network_model.hpp"
#include "../object_store.hpp"

namespace cnimig::sim {

namespace json = boost::json;
namespace asio = boost::asio;
using namespace fields;

std::vector<BootstrapObject> bootstrap_objects(const ClusterOptions& options, std::size_t nodes,
                                               std::size_t pods_per_node) {
  ObjectStore scratch;
  NetworkModel network(options);
  ControllerContext ctx{scratch, options, network};
  populate_cluster(ctx, nodes, pods_per_node);
  std::vector<BootstrapObject> out;
  // Registration order puts namespaces first and ServiceAccounts and
  // ConfigMaps before the workloads that use them.
  for (const auto* type : resource_types()) {
    if (type == &ctx.nodes || type == &ctx.pods)
      continue;
    for (const auto& stored : scratch.list(*type, "")) {
      json::object o = *stored;
      auto& m = mutable_meta(o);
      for (const char* k : {"uid", "resourceVersion", "creationTimestamp", "generation"})
        m.erase(k);
      o.erase("status");
      out.push_back({type, std::move(o)});
    }
  }
  return out;
}

asio::awaitable<Result<std::size_t>> create_bootstrap_objects(
    kube::Client& client, const std::vector<BootstrapObject>& objects) {
  std::size_t created = 0;
  kube::WriteOptions write;
  write.request.timeout = std::chrono::seconds(10);
  for (const auto& [type, object] : objects) {
    auto collection = kube::ResourcePath::of(type->group, type->version, type->plural);
    if (type->namespaced)
      collection = collection.in(std::string(ns(object)));
    auto r = co_await client.create(collection, object, write);
    if (r)
      ++created;
    else if (r.error().code != Errc::already_exists)
      co_return r.error();
  }
  co_return created;
}

}  // namespace cnimig::sim
