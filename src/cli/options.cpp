#include "cnimig/cli/options.hpp"

#include <charconv>
#include <map>
#include <set>

#include "cnimig/agent/metrics_server.hpp"
#include "cnimig/config/duration.hpp"
#include "cnimig/config/kubernetes_names.hpp"

namespace cnimig::cli {
namespace {

Error usage(std::string message) {
  return make_error(Errc::invalid_argument, std::move(message));
}

// Flags that take a value; the rest are switches.
const std::set<std::string_view> kValueFlags = {
    "--config",          "--kubeconfig", "--context",      "--steps",
    "--nodes",           "--log-format", "--log-level",    "--max-parallel-nodes",
    "--max-unavailable", "--simulate",   "--metrics-addr", "--max-requests-in-flight",
    "--plan-output",     "-o",           "--output",
};
const std::set<std::string_view> kSwitches = {"--help", "-h", "--version", "--apply"};

Result<unsigned> positive(std::string_view flag, std::string_view text, unsigned max) {
  unsigned value = 0;
  const auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (text.empty() || ec != std::errc{} || end != text.data() + text.size() || value == 0 ||
      value > max) {
    return usage(std::string(flag) + ": expected an integer from 1 to " + std::to_string(max) +
                 ", got '" + std::string(text) + "'");
  }
  return value;
}

// `status` reads; flags that shape a run mean nothing to it, so they are refused
// by name rather than silently ignored.
const std::set<std::string_view> kStatusFlags = {"--config",    "--kubeconfig", "--context",
                                                 "-o",          "--output",     "--log-format",
                                                 "--log-level", "--help",       "-h"};

Result<void> check_command_flags(const Options& o,
                                 const std::map<std::string_view, std::string_view>& seen) {
  for (const auto& [flag, value] : seen) {
    if (o.command == Command::status && !kStatusFlags.contains(flag)) {
      return usage(
          "status takes --config, --kubeconfig, --context, -o json|table, "
          "--log-format and --log-level, not " +
          std::string(flag));
    }
    if (o.command != Command::status && (flag == "-o" || flag == "--output"))
      return usage(std::string(flag) + " belongs to 'cnimig-agent status'");
  }
  return {};
}

}  // namespace

Result<Options> parse_options(std::span<const std::string_view> args) {
  Options o;
  if (!args.empty() && args.front() == "status") {
    o.command = Command::status;
    args = args.subspan(1);
  }
  std::map<std::string_view, std::string_view> seen;  // flag -> value, to reject repeats
  for (std::size_t i = 0; i < args.size(); ++i) {
    std::string_view arg = args[i];
    std::string_view flag = arg;
    std::optional<std::string_view> value;
    if (const auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
      flag = arg.substr(0, eq);
      value = arg.substr(eq + 1);
    }
    if (kSwitches.contains(flag)) {
      if (value)
        return usage(std::string(flag) + " does not take a value");
    } else if (kValueFlags.contains(flag)) {
      if (!value) {
        if (i + 1 >= args.size())
          return usage(std::string(flag) + " needs a value");
        value = args[++i];
      }
    } else if (arg.starts_with("-")) {
      return usage("unknown flag '" + std::string(flag) + "'");
    } else {
      return usage("unexpected argument '" + std::string(arg) + "' (flags start with --)");
    }
    if (!seen.emplace(flag == "-h" ? "--help" : flag, value.value_or("")).second) {
      return usage(std::string(flag) + " given more than once");
    }

    const std::string_view v = value.value_or("");
    if (flag == "--help" || flag == "-h") {
      o.help = true;
    } else if (flag == "--version") {
      o.version = true;
    } else if (flag == "--apply") {
      o.apply = true;
    } else if (flag == "--config") {
      if (v.empty())
        return usage("--config: expected a file name");
      o.config = std::filesystem::path(v);
    } else if (flag == "--kubeconfig") {
      if (v.empty())
        return usage("--kubeconfig: expected a file name");
      o.kubeconfig = std::filesystem::path(v);
    } else if (flag == "--context") {
      if (v.empty())
        return usage("--context: expected a context name");
      o.context = std::string(v);
    } else if (flag == "--steps") {
      auto range = config::parse_step_range(v);
      if (!range) {
        return usage(
            "--steps: expected a step or a range such as 0-5, 2-4, migrate or roll-cleanup, got '" +
            std::string(v) +
            "' (steps: 0 preflight, 1 prepare, 2 roll, 3 priority, 4 migrate, 5 cleanup)");
      }
      o.steps = *range;
      o.steps_given = true;
    } else if (flag == "--nodes") {
      std::set<std::string> unique;
      std::size_t start = 0;
      while (start <= v.size()) {
        const auto comma = v.find(',', start);
        const auto name = v.substr(start, comma == std::string_view::npos ? v.npos : comma - start);
        if (auto why = config::check_dns1123_subdomain(name); !why.empty()) {
          return usage("--nodes: invalid node name '" + std::string(name) + "': " + why);
        }
        if (unique.insert(std::string(name)).second)
          o.nodes.emplace_back(name);
        if (comma == std::string_view::npos)
          break;
        start = comma + 1;
      }
    } else if (flag == "--max-parallel-nodes") {
      auto n = positive(flag, v, 10000);
      if (!n)
        return n.error();
      o.max_parallel_nodes = *n;
    } else if (flag == "--max-requests-in-flight") {
      auto n = positive(flag, v, 1000);
      if (!n)
        return n.error();
      o.max_requests_in_flight = *n;
    } else if (flag == "--max-unavailable") {
      auto m = config::parse_max_unavailable(v);
      if (!m) {
        return usage(
            "--max-unavailable: expected a node count of at least 1 or a percentage from 1% to "
            "100%, got '" +
            std::string(v) + "'");
      }
      o.max_unavailable = *m;
    } else if (flag == "--log-format") {
      auto f = events::parse_log_format(v);
      if (!f)
        return usage("--log-format: expected text or json, got '" + std::string(v) + "'");
      o.log_format = *f;
    } else if (flag == "--log-level") {
      auto l = events::parse_log_level(v);
      if (!l) {
        return usage("--log-level: expected trace, debug, info, warn, error or off, got '" +
                     std::string(v) + "'");
      }
      o.log_level = *l;
    } else if (flag == "--metrics-addr") {
      if (auto parts = agent::split_host_port(v); !parts)
        return usage("--metrics-addr: " + parts.error().message);
      o.metrics_address = std::string(v);
    } else if (flag == "-o" || flag == "--output") {
      if (v != "json" && v != "table")
        return usage(std::string(flag) + ": expected json or table, got '" + std::string(v) + "'");
      o.output_json = v == "json";
    } else if (flag == "--plan-output") {
      if (v != "full" && v != "summary")
        return usage("--plan-output: expected full or summary, got '" + std::string(v) + "'");
      o.plan_summary_only = v == "summary";
    } else if (flag == "--simulate") {
      auto n = positive(flag, v, 5000);
      if (!n)
        return n.error();
      o.simulate = *n;
    }
  }

  // Conflicts. --help and --version win over everything else, as usual.
  if (o.help || o.version)
    return o;
  if (auto flags = check_command_flags(o, seen); !flags)
    return flags.error();
  if (o.command == Command::status)
    return o;  // the default config is fine: status needs only labels and the Lease
  if (o.simulate && o.kubeconfig)
    return usage("--simulate runs its own cluster; it cannot be used with --kubeconfig");
  if (o.simulate && o.context)
    return usage("--simulate runs its own cluster; it cannot be used with --context");
  if (o.apply && seen.contains("--plan-output"))
    return usage("--plan-output shapes a plan's stdout; it cannot be used with --apply");
  if (!o.simulate && !o.config)
    return usage("--config is required (or --simulate N for a simulated cluster)");
  if (o.max_parallel_nodes && o.max_unavailable && !o.max_unavailable->percent &&
      *o.max_parallel_nodes > o.max_unavailable->value) {
    return usage("--max-parallel-nodes (" + std::to_string(*o.max_parallel_nodes) +
                 ") exceeds --max-unavailable (" + std::to_string(o.max_unavailable->value) +
                 "): no more nodes may be in flight than may be unavailable");
  }
  return o;
}

std::string usage_text() {
  return R"(Usage: cnimig-agent --config FILE [--apply] [flags]
       cnimig-agent --simulate N [--apply] [flags]
       cnimig-agent status [--config FILE] [--kubeconfig FILE] [--context NAME] [-o json|table]

Live-migrates a Kubernetes cluster's CNI from Calico/Flannel/Canal to Cilium
through multus, proving pod-to-pod connectivity after every step and node.
Without --apply it prints the plan (as events on stdout, a summary for people
on stderr) and changes nothing.

Flags:
  --config FILE              configuration file (see config/config.yaml)
  --apply                    execute the migration (default: plan only)
  --kubeconfig FILE          kubeconfig file (default: $KUBECONFIG, ~/.kube/config, in-cluster)
  --context NAME             kubeconfig context to use
  --steps RANGE              steps to run: 0 preflight, 1 prepare, 2 roll, 3 priority,
                             4 migrate, 5 cleanup; e.g. 0-5 (default), migrate, roll-cleanup
  --nodes A,B,...            only these nodes in steps 2-4
  --max-parallel-nodes N     nodes processed at once in steps 2-4 (default 1)
  --max-unavailable N|P%     nodes that may be unavailable at once (default 1)
  --max-requests-in-flight N Kubernetes API requests in flight at once (default 32;
                             watches and pod exec are not counted)
  --log-format text|json     format of the human log on stderr (default text)
  --log-level LEVEL          trace, debug, info, warn, error or off (default info)
  --plan-output full|summary a plan's stdout: every plan.action event (full, default) or
                             only the plan.summary counts; the summary for people is on
                             stderr either way
  --simulate N               run against an in-process simulated cluster of N nodes
  --metrics-addr HOST:PORT   serve Prometheus metrics at http://HOST:PORT/metrics
                             (port 0: any free port, announced by a metrics.listening event)
  -o, --output json|table    status only: one JSON object, or tables (default)
  --version                  print the version and exit
  -h, --help                 print this help and exit

status is read-only (no writes, no Lease): each node's phase, per-step progress, the
Lease holder and what a rerun would do next; it runs safely beside a migrating agent.

stdout carries the event stream (one JSON object per line); logs go to stderr.
Exit codes: 0 done or plan printed, 1 halted (resumable), 2 usage or config error,
3 cluster unreachable, 130/143 stopped by SIGINT/SIGTERM at a safe point.
)";
}

}  // namespace cnimig::cli
