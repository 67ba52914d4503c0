#include "attached_cluster.hpp"

#include <chrono>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/post.hpp>
#include <boost/json.hpp>
#include <spdlog/spdlog.h>

#include "cnimig/common/exception_message.hpp"
#include "cnimig/kube/client_config.hpp"

#include "remote_bootstrap.hpp"

namespace cnimig::sim {

namespace json = boost::json;
namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

ClusterOptions kubelet_only(ClusterOptions options) {
  options.kubelet_only = true;
  return options;
}

struct Mirrored {
  kube::ResourcePath path;
  const ResourceType* type;
};

// What the kubelet model and the network model read.
std::vector<Mirrored> mirrored() {
  return {
      {kube::ResourcePath::core("nodes"), &resource_type("", "nodes")},
      {kube::ResourcePath::core("pods"), &resource_type("", "pods")},
      {kube::ResourcePath::of("apps", "v1", "daemonsets"), &resource_type("apps", "daemonsets")},
      {kube::ResourcePath::core("configmaps"), &resource_type("", "configmaps")}};
}

}  // namespace

AttachedCluster::AttachedCluster(asio::io_context& io, ObjectStore& store, ClusterOptions options,
                                 AttachOptions attach)
    : io_(io),
      store_(store),
      attach_(std::move(attach)),
      model_(io, store, kubelet_only(std::move(options))),
      kubelet_(io, store, [this](const json::object& pod, const std::vector<std::string>& cmd) {
        return model_.exec(pod, cmd);
      }) {
  kube::LoadOptions load;
  load.kubeconfig = attach_.kubeconfig;
  auto config = kube::load_client_config(load);
  if (!config) {
    client_error_ = config.error();
    return;
  }
  kube::ClientOptions client_options;
  client_options.user_agent = "cnimig-sim";
  auto client = kube::Client::create(io.get_executor(), std::move(*config), client_options);
  if (!client) {
    client_error_ = client.error();
    return;
  }
  client_ = std::move(*client);
  mirror_ = std::make_unique<ObjectMirror>(*client_, store_);
  write_back_ = std::make_unique<KubeletWriteBack>(*client_, store_, *mirror_);
  registration_ = std::make_unique<NodeRegistration>(*client_, model_.options());
}

AttachedCluster::~AttachedCluster() {
  *alive_ = false;
}

void AttachedCluster::emit(json::object event) const {
  if (attach_.on_event)
    attach_.on_event(event);
}

void AttachedCluster::spawn(asio::awaitable<void> task) {
  asio::co_spawn(io_, std::move(task), [](std::exception_ptr e) {
    if (e)
      spdlog::error("cnimig-sim: attached task failed: {}", exception_message(e));
  });
}

void AttachedCluster::bootstrap(std::size_t nodes, std::size_t pods_per_node) {
  if (!client_) {
    asio::post(io_, [this, alive = alive_] {
      if (*alive)
        emit(json::object{{"event", "sim.attach-failed"}, {"error", client_error_.describe()}});
    });
    return;
  }
  spawn([](AttachedCluster* self, std::shared_ptr<bool> alive, std::size_t n,
           std::size_t ppn) -> asio::awaitable<void> {
    auto r = co_await self->attach(n, ppn);
    if (!*alive)
      co_return;
    if (!r) {
      self->emit(json::object{{"event", "sim.attach-failed"}, {"error", r.error().describe()}});
      co_return;
    }
    self->attached_ = true;
    self->emit(json::object{
        {"event", "sim.attached"}, {"server", self->client_->config().server}, {"nodes", n}});
  }(this, alive_, nodes, pods_per_node));
}

asio::awaitable<Result<void>> AttachedCluster::start_mirrors() {
  for (auto& m : mirrored()) {
    ++mirrors_;
    spawn([](ObjectMirror* mirror, Mirrored what) -> asio::awaitable<void> {
      (void)co_await mirror->run(std::move(what.path), *what.type);
    }(mirror_.get(), std::move(m)));
  }
  const bool synced = co_await mirror_->wait_synced(mirrors_, 60s);
  if (!synced)
    co_return make_error(Errc::timeout, "the mirror of the API server did not sync in 60 s");
  co_return Result<void>{};
}

asio::awaitable<Result<void>> AttachedCluster::attach(std::size_t nodes,
                                                      std::size_t pods_per_node) {
  auto tls_dir = attach_.kubelet_tls_dir;
  if (tls_dir.empty())
    tls_dir = attach_.kubeconfig.parent_path();
  if (auto r = kubelet_.load_tls(tls_dir); !r)
    co_return r.error();
  auto plan = NodeRegistration::plan(model_.options(), nodes, attach_.node_address_prefix);
  std::vector<std::string> addresses;
  for (const auto& n : plan)
    addresses.push_back(n.address);
  auto port = kubelet_.start(addresses, 0);
  if (!port)
    co_return port.error();
  auto registered = co_await registration_->register_nodes(std::move(plan), *port);
  if (!registered)
    co_return registered.error();
  spawn(registration_->run());
  spawn(write_back_->run());
  auto synced = co_await start_mirrors();
  if (!synced)
    co_return synced.error();
  const auto objects = bootstrap_objects(model_.options(), nodes, pods_per_node);
  auto created = co_await create_bootstrap_objects(*client_, objects);
  if (!created)
    co_return created.error();
  spdlog::info("cnimig-sim: attached to {}: {} nodes, {} objects created", client_->config().server,
               nodes, *created);
  co_return Result<void>{};
}

ExecResult AttachedCluster::exec(const json::object& pod, const std::vector<std::string>& command) {
  return model_.exec(pod, command);
}

json::object AttachedCluster::report() const {
  auto r = model_.report();
  json::object attached{{"attached", attached_}, {"execs", kubelet_.execs()}};
  if (client_)
    attached["server"] = client_->config().server;
  if (write_back_) {
    attached["writes_sent"] = write_back_->sent();
    attached["writes_failed"] = write_back_->failed();
  }
  if (mirror_)
    attached["lists_synced"] = mirror_->synced();
  r["attached"] = std::move(attached);
  return r;
}

void AttachedCluster::set_faults(const std::map<std::string, std::string>& extra) {
  model_.set_faults(extra);
}

void AttachedCluster::stop() {
  kubelet_.stop();
  if (registration_)
    registration_->stop();
  if (write_back_)
    write_back_->stop();
  if (mirror_)
    mirror_->stop();
}

}  // namespace cnimig::sim
