// cnimig-sim: a simulated Kubernetes cluster behind a real HTTPS API (src/sim/README.md).
#include <atomic>
#include <csignal>
#include <cstdio>
#include <iostream>
#include <optional>
#include <string>

#include <boost/asio/ip/network_v4.hpp>
#include <boost/json.hpp>

#include "cnimig/sim/attached_cluster_factory.hpp"
#include "cnimig/sim/simulator.hpp"

#include <signal.h>
#include <unistd.h>

// The full cluster model (controllers, scheduler, kubelet, network oracle) when
// it is built in; otherwise StaticCluster's fixed cluster.
#if __has_include("cnimig/sim/cluster_model_factory.hpp")
#include "cnimig/sim/cluster_model_factory.hpp"
#define CNIMIG_SIM_HAS_CLUSTER_MODEL 1
#endif

namespace {

int usage(const std::string& problem) {
  std::cerr
      << "cnimig-sim: " << problem << "\n"
      << "usage: cnimig-sim --nodes N --kubeconfig-out FILE [--listen 127.0.0.1:PORT]\n"
         "                  [--pods-per-node K] [--faults SPEC] [--time-scale X]\n"
         "                  [--cluster model|static] [--server-version MAJOR.MINOR]\n"
         "                  [--source-cni canal|calico|flannel] [--source-pod-cidr CIDR]\n"
         "                  [--calico-autodetection METHOD] [--calico-vxlan-port PORT]\n"
         "                  [--kernel-version [NODE=]RELEASE]...\n"
         "                  [--attach KUBECONFIG [--kubelet-tls DIR]]\n"
         "  --source-cni picks the CNI the cluster starts with (default canal);\n"
         "  --source-pod-cidr its pod CIDR (default 10.64.0.0/10; node i gets its i-th\n"
         "  /24); --calico-autodetection calico-node's IP_AUTODETECTION_METHOD (default\n"
         "  kubernetes-internal-ip; \"\" leaves it unset: Calico's first-found);\n"
         "  --calico-vxlan-port runs Calico's pool on VXLAN with FELIX_VXLANPORT PORT;\n"
         "  --kernel-version sets status.nodeInfo.kernelVersion of every node, or of\n"
         "  NODE (repeatable; default 6.1.0-28-amd64).\n"
         "  --cluster static serves a fixed cluster (Ready nodes, a knet-stress pod and K\n"
         "  app pods per node, no controllers): the kubectl suite's fixture.\n"
         "  --attach runs the cluster half against the real API server of KUBECONFIG:\n"
         "  registers the nodes (127.0.1.1...), runs their pods, serves exec on their\n"
         "  kubelet port (TLS from DIR: kubelet.crt, kubelet.key, ca.crt; default the\n"
         "  kubeconfig's directory) and judges connectivity; the own API (--kubeconfig-out)\n"
         "  serves /sim/v1/report. Prints {\"event\":\"sim.attached\",...} once attached.\n"
         "  The source pod CIDR defaults to 10.244.0.0/16 (the control plane's cluster CIDR).\n"
         "  PUT /sim/v1/faults (body: a --faults spec, empty clears) replaces the faults\n"
         "  at runtime; GET /sim/v1/faults reads them. When stop-at-write holds a write,\n"
         "  a {\"event\":\"sim.write-held\",...} line is printed to stdout.\n";
  return 2;
}

// What the command line asks for.
struct Args {
  cnimig::sim::SimulatorOptions options;
  std::string kubeconfig_out;
  std::string cluster = "model";
  cnimig::sim::ClusterOptions cluster_base;  // --source-cni and its flags
  std::string attach;                        // --attach KUBECONFIG
  std::string kubelet_tls;                   // --kubelet-tls DIR
  bool have_pod_cidr = false;
};

// The cluster model's flags: each sets ClusterOptions from its value, or
// refuses it with `usage`.
struct ClusterFlag {
  std::string_view name;
  std::string_view usage;
  bool (*set)(const char* value, cnimig::sim::ClusterOptions& options);
};

bool set_kernel_version(const char* v, cnimig::sim::ClusterOptions& options) {
  const std::string text = v;
  const auto eq = text.find('=');
  const auto release = eq == std::string::npos ? text : text.substr(eq + 1);
  if (release.empty() || eq == 0)
    return false;
  if (eq == std::string::npos)
    options.kernel_version = release;
  else
    options.node_kernel_versions[text.substr(0, eq)] = release;
  return true;
}

constexpr ClusterFlag kClusterFlags[] = {
    {"--source-cni", "--source-cni wants canal, calico or flannel",
     [](const char* v, cnimig::sim::ClusterOptions& o) {
       return cnimig::sim::set_source_cni(o, v);
     }},
    {"--source-pod-cidr", "--source-pod-cidr wants an IPv4 CIDR, e.g. 10.244.0.0/16",
     [](const char* v, cnimig::sim::ClusterOptions& o) {
       boost::system::error_code ec;
       boost::asio::ip::make_network_v4(v, ec);
       o.source_pod_cidr = v;
       return !ec;
     }},
    {"--calico-autodetection", "--calico-autodetection needs a value",
     [](const char* v, cnimig::sim::ClusterOptions& o) {
       o.calico_autodetection = v;
       return true;
     }},
    {"--calico-vxlan-port", "--calico-vxlan-port wants a UDP port from 1 to 65535",
     [](const char* v, cnimig::sim::ClusterOptions& o) {
       const auto port = std::stoul(v);
       o.calico_vxlan_port = static_cast<unsigned>(port);
       return port >= 1 && port <= 65535;
     }},
    {"--kernel-version", "--kernel-version wants [NODE=]RELEASE, e.g. node-1=5.4.0-150-generic",
     set_kernel_version},
};

const ClusterFlag* find_cluster_flag(std::string_view arg) {
  for (const auto& f : kClusterFlags)
    if (f.name == arg)
      return &f;
  return nullptr;
}

// Flags whose value is kept as given: --kubeconfig-out FILE, --attach
// KUBECONFIG, --kubelet-tls DIR.
struct TextFlag {
  std::string_view name;
  std::string Args::*field;
};

constexpr TextFlag kTextFlags[] = {
    {"--kubeconfig-out", &Args::kubeconfig_out},
    {"--attach", &Args::attach},
    {"--kubelet-tls", &Args::kubelet_tls},
};

const TextFlag* find_text_flag(std::string_view arg) {
  for (const auto& f : kTextFlags)
    if (f.name == arg)
      return &f;
  return nullptr;
}

// nullopt when the command line is good, else the exit code (usage printed).
std::optional<int> parse_args(int argc, char** argv, Args& args) {
  auto& options = args.options;
  bool have_nodes = false;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    auto value = [&]() -> const char* { return i + 1 < argc ? argv[++i] : nullptr; };
    try {
      if (arg == "--help" || arg == "-h") {
        usage("help");
        return 0;
      } else if (arg == "--nodes") {
        const char* v = value();
        if (!v)
          return usage("--nodes needs a value");
        options.nodes = std::stoul(v);
        have_nodes = true;
      } else if (arg == "--pods-per-node") {
        const char* v = value();
        if (!v)
          return usage("--pods-per-node needs a value");
        options.pods_per_node = std::stoul(v);
      } else if (const auto* text = find_text_flag(arg)) {
        const char* v = value();
        if (!v)
          return usage(std::string(text->name) + " needs a value");
        args.*(text->field) = v;
      } else if (arg == "--listen") {
        const char* v = value();
        if (!v)
          return usage("--listen needs a value");
        options.listen = v;
      } else if (arg == "--time-scale") {
        const char* v = value();
        if (!v)
          return usage("--time-scale needs a value");
        options.time_scale = std::stod(v);
      } else if (arg == "--cluster") {
        const char* v = value();
        if (!v || (std::string(v) != "model" && std::string(v) != "static"))
          return usage("--cluster wants model or static");
        args.cluster = v;
      } else if (arg == "--server-version") {
        const char* v = value();
        if (!v || !cnimig::sim::parse_version(v, options.server_major, options.server_minor))
          return usage("--server-version wants MAJOR.MINOR, e.g. 1.34");
      } else if (const auto* flag = find_cluster_flag(arg)) {
        const char* v = value();
        if (!v || !flag->set(v, args.cluster_base))
          return usage(std::string(flag->usage));
        // --attach's default pod CIDR is the control plane's, unless given.
        args.have_pod_cidr = args.have_pod_cidr || flag->name == "--source-pod-cidr";
      } else if (arg == "--faults") {
        const char* v = value();
        if (!v)
          return usage("--faults needs a value");
        auto spec = cnimig::sim::FaultSpec::parse(v);
        if (!spec)
          return usage(spec.error().message);
        options.faults = std::move(*spec);
      } else {
        return usage("unknown argument " + arg);
      }
    } catch (const std::exception&) {
      return usage("bad value for " + arg);
    }
  }
  if (!have_nodes || args.kubeconfig_out.empty())
    return usage("--nodes and --kubeconfig-out are required");
  if (!args.attach.empty() && (options.nodes == 0 || options.nodes > 254))
    return usage("--attach takes 1 to 254 nodes (one loopback address each)");
  if (!args.attach.empty() && !args.have_pod_cidr)
    args.cluster_base.source_pod_cidr = "10.244.0.0/16";
  return std::nullopt;
}

// Set when attaching failed: the process exits 1 instead of serving.
std::atomic<bool> attach_failed{false};

// The attached cluster half, printing its sim.attached / sim.attach-failed line.
cnimig::sim::ClusterFactory attached_factory(const Args& args) {
  cnimig::sim::AttachOptions attach;
  attach.kubeconfig = args.attach;
  attach.kubelet_tls_dir = args.kubelet_tls;
  attach.on_event = [](const boost::json::object& e) {
    std::cout << boost::json::serialize(e) << std::endl;
    if (e.at("event").as_string() == "sim.attach-failed") {
      attach_failed = true;
      kill(getpid(), SIGTERM);  // ends serve()'s sigwait
    }
  };
  return cnimig::sim::attached_cluster_factory(args.cluster_base, std::move(attach));
}

// Runs the simulator until SIGINT or SIGTERM.
int serve(const Args& args) {
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  // Blocked before the server thread starts, so only sigwait below sees them.
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  cnimig::sim::ClusterFactory factory;  // empty: StaticCluster
#ifdef CNIMIG_SIM_HAS_CLUSTER_MODEL
  if (args.cluster == "model")
    factory = cnimig::sim::cluster_model_factory(args.cluster_base);
#endif
  if (!args.attach.empty())
    factory = attached_factory(args);
  cnimig::sim::Simulator sim(args.options, factory);
  // One line per stop-at-write trigger, for tests to wait on (std::endl flushes).
  sim.set_fault_listener(
      [](const boost::json::object& e) { std::cout << boost::json::serialize(e) << std::endl; });
  if (auto r = sim.start(); !r) {
    std::cerr << "cnimig-sim: " << r.error().describe() << "\n";
    return 1;
  }
  if (auto r = sim.write_kubeconfig(args.kubeconfig_out); !r) {
    std::cerr << "cnimig-sim: " << r.error().describe() << "\n";
    return 1;
  }
  boost::json::object ready{{"event", "sim.ready"},
                            {"url", sim.url()},
                            {"kubeconfig", args.kubeconfig_out},
                            {"nodes", args.options.nodes}};
  std::cout << boost::json::serialize(ready) << std::endl;
  int sig = 0;
  sigwait(&signals, &sig);
  sim.stop();
  return attach_failed ? 1 : 0;
}

}  // namespace

int main(int argc, char** argv) {
  Args args;
  if (auto exit_code = parse_args(argc, argv, args))
    return *exit_code;
  return serve(args);
}
