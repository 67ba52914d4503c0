#include "cnimig/sim/simulator.hpp"

#include <charconv>
#include <fstream>
#include <future>

#include <boost/asio.hpp>
#include <openssl/rand.h>

#include "cnimig/net/base64.hpp"
#include "cnimig/net/certificate_authority.hpp"

#include "api_handler.hpp"
#include "api_server.hpp"
#include "json_fields.hpp"
#include "object_store.hpp"
#include "static_cluster.hpp"

namespace cnimig::sim {
namespace asio = boost::asio;
namespace json = boost::json;

namespace {

std::string random_token() {
  unsigned char bytes[24];
  if (RAND_bytes(bytes, sizeof bytes) != 1)
    throw ErrorException(make_error(Errc::internal, "RAND_bytes failed"));
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned char b : bytes) {
    out.push_back(hex[b >> 4]);
    out.push_back(hex[b & 15]);
  }
  return out;
}

}  // namespace

bool parse_version(std::string_view text, int& major, int& minor) {
  const auto dot = text.find('.');
  if (dot == std::string_view::npos)
    return false;
  const auto number = [](std::string_view s, int& out) {
    const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), out);
    return ec == std::errc() && end == s.data() + s.size() && !s.empty();
  };
  return number(text.substr(0, dot), major) && number(text.substr(dot + 1), minor);
}

Simulator::Simulator(SimulatorOptions options, ClusterFactory factory)
    : owned_io_(std::make_unique<asio::io_context>(1)),
      io_(owned_io_.get()),
      options_(std::move(options)),
      factory_(std::move(factory)),
      store_(std::make_unique<ObjectStore>()) {}

Simulator::Simulator(asio::io_context& io, SimulatorOptions options, ClusterFactory factory)
    : io_(&io),
      options_(std::move(options)),
      factory_(std::move(factory)),
      store_(std::make_unique<ObjectStore>()) {}

Simulator::~Simulator() {
  stop();
}

Result<void> Simulator::start() {
  if (started_)
    return {};
  const auto colon = options_.listen.rfind(':');
  if (colon == std::string::npos)
    return make_error(Errc::invalid_argument, "--listen wants HOST:PORT, got " + options_.listen);
  ApiServerOptions server_options;
  server_options.host = options_.listen.substr(0, colon);
  try {
    server_options.port = static_cast<std::uint16_t>(std::stoul(options_.listen.substr(colon + 1)));
  } catch (const std::exception&) {
    return make_error(Errc::invalid_argument, "--listen: bad port in " + options_.listen);
  }
  token_ = random_token();
  server_options.token = token_;
  server_options.bookmark_interval = options_.bookmark_interval;

  handler_ = std::make_unique<ApiHandler>(*store_, options_.watch_history);
  handler_->authorizer().set_version(options_.server_major, options_.server_minor);
  handler_->set_faults(options_.faults);
  handler_->set_fault_listener(fault_listener_);
  cluster_ = factory_ ? factory_(*io_, *store_, *handler_, options_)
                      : std::make_unique<StaticCluster>(*io_, *store_, options_.time_scale);
  cluster_->bootstrap(options_.nodes, options_.pods_per_node);
  handler_->set_report_source([this] { return cluster_->report(); });
  // PUT /sim/v1/faults reaches the cluster half too (same io_context thread).
  handler_->set_cluster_fault_sink([this](const FaultSpec& f) { cluster_->set_faults(f.extra); });

  try {
    ca_ = std::make_unique<net::CertificateAuthority>("cnimig-sim CA");
    const auto cert = ca_->issue_server("cnimig-sim", {"localhost"}, {"127.0.0.1"});
    server_ = std::make_unique<ApiServer>(*io_, *handler_, cert, server_options);
  } catch (const ErrorException& e) {
    return e.error();
  } catch (const std::exception& e) {
    return make_error(Errc::tls, std::string("cannot set up TLS: ") + e.what());
  }
  server_->set_exec_hook(
      [this](const boost::json::object& pod, const std::vector<std::string>& command) {
        return cluster_->exec(pod, command);
      });
  if (auto r = server_->start(); !r)
    return r;
  handler_->set_server_address(server_options.host + ":" + std::to_string(server_->port()));
  started_ = true;
  if (owned_io_) {
    thread_ = std::thread([this] {
      auto guard = asio::make_work_guard(*owned_io_);
      owned_io_->run();
    });
  }
  return {};
}

void Simulator::stop() {
  if (!started_ || stopped_)
    return;
  stopped_ = true;
  if (owned_io_) {
    asio::post(*owned_io_, [this] {
      cluster_->stop();
      server_->stop();
      owned_io_->stop();
    });
    if (thread_.joinable())
      thread_.join();
    // Let the closed connections' coroutines finish (their sockets fail at
    // once) while the store and handler they reference are still alive.
    owned_io_->restart();
    while (owned_io_->poll() > 0) {
    }
  } else {
    cluster_->stop();
    server_->stop();
  }
}

json::object Simulator::report() const {
  return handler_->report();
}

std::string Simulator::url() const {
  return "https://127.0.0.1:" + std::to_string(server_ ? server_->port() : 0);
}

const std::string& Simulator::ca_pem() const {
  return ca_->ca_pem();
}

std::string Simulator::kubeconfig() const {
  return "apiVersion: v1\n"
         "kind: Config\n"
         "clusters:\n"
         "- name: cnimig-sim\n"
         "  cluster:\n"
         "    server: " +
         url() +
         "\n"
         "    certificate-authority-data: " +
         net::base64_encode(ca_pem()) +
         "\n"
         "users:\n"
         "- name: cnimig-sim\n"
         "  user:\n"
         "    token: " +
         token_ +
         "\n"
         "contexts:\n"
         "- name: cnimig-sim\n"
         "  context:\n"
         "    cluster: cnimig-sim\n"
         "    user: cnimig-sim\n"
         "    namespace: default\n"
         "current-context: cnimig-sim\n";
}

Result<void> Simulator::write_kubeconfig(const std::string& path) const {
  // Written to a temporary name and renamed, so a watcher never reads half a file.
  const std::string tmp = path + ".tmp";
  {
    std::ofstream out(tmp, std::ios::trunc);
    if (!out)
      return make_error(Errc::invalid_argument, "cannot write " + tmp);
    out << kubeconfig();
    if (!out.flush())
      return make_error(Errc::invalid_argument, "cannot write " + tmp);
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    return make_error(Errc::invalid_argument, "cannot rename " + tmp + " to " + path);
  return {};
}

// Counts the pods that are not Ready once, then keeps the count from the
// store's changes (no scan per change: 150,000 pods at 5,000 nodes).
Result<void> Simulator::wait_until_settled(std::chrono::steady_clock::duration timeout) {
  if (!owned_io_ || !started_)
    return make_error(Errc::invalid_argument,
                      "wait_until_settled: needs a started, owned simulator");
  struct State {
    std::int64_t total = 0;
    std::int64_t not_ready = 0;
    bool told = false;
    std::promise<void> settled;
    std::size_t observer = 0;
  };
  auto state = std::make_shared<State>();
  auto future = state->settled.get_future();
  const auto& pods = resource_type("", "pods");
  auto check = [state] {
    if (!state->told && state->total > 0 && state->not_ready == 0) {
      state->told = true;
      state->settled.set_value();
    }
  };
  asio::post(*io_, [this, state, check, &pods] {
    for (const auto& pod : store_->list(pods, "")) {
      ++state->total;
      state->not_ready += fields::pod_ready(*pod) ? 0 : 1;
    }
    state->observer = store_->observe([state, check, &pods](const Change& c) {
      if (c.resource != &pods)
        return;
      const auto unready = [](const ObjectPtr& p) { return p && !fields::pod_ready(*p) ? 1 : 0; };
      state->total += c.type == ChangeType::added ? 1 : c.type == ChangeType::deleted ? -1 : 0;
      state->not_ready -= unready(c.old_object);  // null when added
      state->not_ready += c.type == ChangeType::deleted ? 0 : unready(c.object);
      check();
    });
    check();
  });
  const bool settled = future.wait_for(timeout) == std::future_status::ready;
  asio::post(*io_, [this, state] { store_->unobserve(state->observer); });
  if (!settled)
    return make_error(Errc::timeout, "the simulated cluster's pods did not all become Ready");
  return {};
}

}  // namespace cnimig::sim
