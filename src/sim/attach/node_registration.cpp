#include "node_registration.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include "cnimig/common/rfc3339.hpp"

#include "../cluster_bootstrap.hpp"
#include "../json_fields.hpp"

namespace cnimig::sim {

namespace json = boost::json;
namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

constexpr auto lease_period = 10s;      // the kubelet's renew interval
constexpr auto heartbeat_period = 60s;  // its status update while nothing changes

std::string micro_time_now() {
  return format_rfc3339(std::chrono::system_clock::now(), TimePrecision::microseconds);
}

kube::ResourcePath leases() {
  return kube::ResourcePath::of("coordination.k8s.io", "v1", "leases").in("kube-node-lease");
}

}  // namespace

NodeRegistration::NodeRegistration(kube::Client& client, const ClusterOptions& options)
    : client_(client), options_(options), timer_(client.get_executor()) {}

std::vector<RegisteredNode> NodeRegistration::plan(const ClusterOptions& options, std::size_t count,
                                                   const std::string& address_prefix) {
  std::vector<RegisteredNode> out;
  for (std::size_t i = 0; i < count; ++i)
    out.push_back(
        {options.node_name_prefix + std::to_string(i), address_prefix + std::to_string(i + 1)});
  return out;
}

json::object NodeRegistration::node_object(const ClusterOptions& options, std::size_t index,
                                           const RegisteredNode& node, std::uint16_t kubelet_port) {
  auto object = make_node(options, index);
  auto status = node_status(node.name, node.address, options.kernel_version_of(node.name));
  status["daemonEndpoints"] =
      json::object{{"kubeletEndpoint", json::object{{"Port", kubelet_port}}}};
  status["declaredFeatures"] = json::array{"ExtendWebSocketsToKubelet"};
  object["status"] = std::move(status);
  return object;
}

asio::awaitable<Result<void>> NodeRegistration::register_node(std::size_t index,
                                                              std::uint16_t kubelet_port) {
  const auto& node = nodes_[index];
  const auto object = node_object(options_, index, node, kubelet_port);
  kube::WriteOptions write;
  write.request.timeout = 10s;
  const auto collection = kube::ResourcePath::core("nodes");
  auto created = co_await client_.create(collection, object, write);
  if (!created && created.error().code != Errc::already_exists)
    co_return created.error();
  // The status as a kubelet posts it (a create may not keep it).
  const auto status_path = collection.named(node.name).sub("status");
  const auto status_patch = json::serialize(json::object{{"status", object.at("status")}});
  auto posted =
      co_await client_.patch(status_path, kube::PatchType::strategic, status_patch, write);
  if (!posted)
    co_return posted.error();
  const json::object lease{
      {"apiVersion", "coordination.k8s.io/v1"},
      {"kind", "Lease"},
      {"metadata", json::object{{"name", node.name}, {"namespace", "kube-node-lease"}}},
      {"spec", json::object{{"holderIdentity", node.name},
                            {"leaseDurationSeconds", 40},
                            {"renewTime", micro_time_now()}}}};
  const auto lease_collection = leases();
  auto made = co_await client_.create(lease_collection, lease, write);
  if (!made && made.error().code != Errc::already_exists)
    co_return made.error();
  co_return Result<void>{};
}

asio::awaitable<Result<void>> NodeRegistration::register_nodes(std::vector<RegisteredNode> nodes,
                                                               std::uint16_t kubelet_port) {
  nodes_ = std::move(nodes);
  for (std::size_t i = 0; i < nodes_.size(); ++i) {
    auto r = co_await register_node(i, kubelet_port);
    if (!r)
      co_return r.error();
  }
  co_return Result<void>{};
}

asio::awaitable<void> NodeRegistration::renew_leases() {
  kube::WriteOptions write;
  write.request.timeout = 5s;
  for (const auto& node : nodes_) {
    const auto path = leases().named(node.name);
    const auto body =
        json::serialize(json::object{{"spec", json::object{{"renewTime", micro_time_now()}}}});
    auto r = co_await client_.patch(path, kube::PatchType::merge, body, write);
    if (!r)
      spdlog::warn("cnimig-sim: lease of {} not renewed: {}", node.name, r.error().message);
  }
}

asio::awaitable<void> NodeRegistration::heartbeat() {
  kube::WriteOptions write;
  write.request.timeout = 5s;
  for (const auto& node : nodes_) {
    const auto path = kube::ResourcePath::core("nodes").named(node.name).sub("status");
    // Conditions merge by type: only the heartbeat times move.
    json::array conditions;
    const auto reported = node_status(node.name, node.address,
                                      options_.kernel_version_of(node.name));  // outlives the loop
    for (const auto& c : reported.at("conditions").as_array()) {
      json::object beat{{"type", c.at("type")}, {"lastHeartbeatTime", c.at("lastHeartbeatTime")}};
      conditions.push_back(std::move(beat));
    }
    const auto body =
        json::serialize(json::object{{"status", json::object{{"conditions", conditions}}}});
    auto r = co_await client_.patch(path, kube::PatchType::strategic, body, write);
    if (!r)
      spdlog::warn("cnimig-sim: heartbeat of {} failed: {}", node.name, r.error().message);
  }
}

asio::awaitable<void> NodeRegistration::run() {
  constexpr auto token = asio::as_tuple(asio::use_awaitable);
  auto next_heartbeat = std::chrono::steady_clock::now() + heartbeat_period;
  while (!stopped_) {
    timer_.expires_after(lease_period);
    co_await timer_.async_wait(token);
    if (stopped_)
      break;
    co_await renew_leases();
    if (std::chrono::steady_clock::now() >= next_heartbeat) {
      next_heartbeat += heartbeat_period;
      co_await heartbeat();
    }
  }
}

void NodeRegistration::stop() {
  stopped_ = true;
  timer_.cancel();
}

}  // namespace cnimig::sim
