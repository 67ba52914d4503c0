#include "cnimig/cli/options.hpp"

#include <charconv>
#include <map>
#include <set>

#include "cnimig/agent/metrics_server.hpp"
#include "cnimig/common/split.hpp"
#include "cnimig/config/duration.hpp"
#include "cnimig/config/kubernetes_names.hpp"

namespace cnimig::cli {
namespace {

Error usage(std::string message) {
  return make_error(Errc::invalid_argument, std::move(message));
}

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

// ---------------------------------------------------------------- the flags
// Each sets its field of Options from the flag's value ("" for switches).

Result<void> set_file(std::optional<std::filesystem::path>& out, std::string_view flag,
                      std::string_view v) {
  if (v.empty())
    return usage(std::string(flag) + ": expected a file name");
  out = std::filesystem::path(v);
  return {};
}

Result<void> set_context(Options& o, std::string_view, std::string_view v) {
  if (v.empty())
    return usage("--context: expected a context name");
  o.context = std::string(v);
  return {};
}

Result<void> set_steps(Options& o, std::string_view, std::string_view v) {
  auto range = config::parse_step_range(v);
  if (!range) {
    return usage(
        "--steps: expected a step or a range such as 0-5, 2-4, migrate or roll-cleanup, got '" +
        std::string(v) +
        "' (steps: 0 preflight, 1 prepare, 2 roll, 3 priority, 4 migrate, 5 cleanup)");
  }
  o.steps = *range;
  o.steps_given = true;
  return {};
}

Result<void> set_nodes(Options& o, std::string_view, std::string_view v) {
  std::set<std::string> unique;
  for (const auto name : split(v, ',')) {
    if (auto why = config::check_dns1123_subdomain(name); !why.empty())
      return usage("--nodes: invalid node name '" + std::string(name) + "': " + why);
    if (unique.insert(std::string(name)).second)
      o.nodes.emplace_back(name);
  }
  return {};
}

Result<void> set_positive(std::optional<unsigned>& out, std::string_view flag, std::string_view v,
                          unsigned max) {
  auto n = positive(flag, v, max);
  if (!n)
    return n.error();
  out = *n;
  return {};
}

Result<void> set_max_unavailable(Options& o, std::string_view, std::string_view v) {
  auto m = config::parse_max_unavailable(v);
  if (!m) {
    return usage(
        "--max-unavailable: expected a node count of at least 1 or a percentage from 1% to "
        "100%, got '" +
        std::string(v) + "'");
  }
  o.max_unavailable = *m;
  return {};
}

Result<void> set_log_format(Options& o, std::string_view, std::string_view v) {
  auto f = events::parse_log_format(v);
  if (!f)
    return usage("--log-format: expected text or json, got '" + std::string(v) + "'");
  o.log_format = *f;
  return {};
}

Result<void> set_log_level(Options& o, std::string_view, std::string_view v) {
  auto l = events::parse_log_level(v);
  if (!l) {
    return usage("--log-level: expected trace, debug, info, warn, error or off, got '" +
                 std::string(v) + "'");
  }
  o.log_level = *l;
  return {};
}

Result<void> set_metrics_address(Options& o, std::string_view, std::string_view v) {
  if (auto parts = agent::split_host_port(v); !parts)
    return usage("--metrics-addr: " + parts.error().message);
  o.metrics_address = std::string(v);
  return {};
}

Result<void> set_output(Options& o, std::string_view flag, std::string_view v) {
  if (v != "json" && v != "table")
    return usage(std::string(flag) + ": expected json or table, got '" + std::string(v) + "'");
  o.output_json = v == "json";
  return {};
}

Result<void> set_plan_output(Options& o, std::string_view, std::string_view v) {
  if (v != "full" && v != "summary")
    return usage("--plan-output: expected full or summary, got '" + std::string(v) + "'");
  o.plan_summary_only = v == "summary";
  return {};
}

Result<void> set_help(Options& o, std::string_view, std::string_view) {
  o.help = true;
  return {};
}

Result<void> set_version(Options& o, std::string_view, std::string_view) {
  o.version = true;
  return {};
}

Result<void> set_apply(Options& o, std::string_view, std::string_view) {
  o.apply = true;
  return {};
}

Result<void> set_rollback(Options& o, std::string_view, std::string_view) {
  o.rollback = true;
  return {};
}

Result<void> set_config(Options& o, std::string_view flag, std::string_view v) {
  return set_file(o.config, flag, v);
}

Result<void> set_kubeconfig(Options& o, std::string_view flag, std::string_view v) {
  return set_file(o.kubeconfig, flag, v);
}

Result<void> set_max_parallel_nodes(Options& o, std::string_view flag, std::string_view v) {
  return set_positive(o.max_parallel_nodes, flag, v, 10000);
}

Result<void> set_max_requests_in_flight(Options& o, std::string_view flag, std::string_view v) {
  return set_positive(o.max_requests_in_flight, flag, v, 1000);
}

Result<void> set_simulate(Options& o, std::string_view flag, std::string_view v) {
  return set_positive(o.simulate, flag, v, 5000);
}

struct Flag {
  std::string_view name;
  bool takes_value;  // else a switch
  Result<void> (*set)(Options& o, std::string_view flag, std::string_view value);
};

// Every flag (usage_text() describes them).
const Flag kFlags[] = {
    {"--help", false, set_help},
    {"-h", false, set_help},
    {"--version", false, set_version},
    {"--apply", false, set_apply},
    {"--rollback", false, set_rollback},
    {"--config", true, set_config},
    {"--kubeconfig", true, set_kubeconfig},
    {"--context", true, set_context},
    {"--steps", true, set_steps},
    {"--nodes", true, set_nodes},
    {"--max-parallel-nodes", true, set_max_parallel_nodes},
    {"--max-requests-in-flight", true, set_max_requests_in_flight},
    {"--max-unavailable", true, set_max_unavailable},
    {"--log-format", true, set_log_format},
    {"--log-level", true, set_log_level},
    {"--metrics-addr", true, set_metrics_address},
    {"-o", true, set_output},
    {"--output", true, set_output},
    {"--plan-output", true, set_plan_output},
    {"--simulate", true, set_simulate},
};

const Flag* find_flag(std::string_view name) {
  for (const auto& f : kFlags) {
    if (f.name == name)
      return &f;
  }
  return nullptr;
}

// One flag of the command line, with its value ("" for a switch).
struct FlagUse {
  const Flag* flag;
  std::string_view name;
  std::string_view value;
};

// The flag at args[i]: `--flag=value`, or `--flag value` (then i moves to
// the value).
Result<FlagUse> next_flag(std::span<const std::string_view> args, std::size_t& i) {
  std::string_view arg = args[i];
  std::string_view flag = arg;
  std::optional<std::string_view> value;
  if (const auto eq = arg.find('='); arg.starts_with("--") && eq != std::string_view::npos) {
    flag = arg.substr(0, eq);
    value = arg.substr(eq + 1);
  }
  const Flag* known = find_flag(flag);
  if (known != nullptr && !known->takes_value) {
    if (value)
      return usage(std::string(flag) + " does not take a value");
  } else if (known != nullptr) {
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
  return FlagUse{known, flag, value.value_or("")};
}

// `status` reads; flags that shape a run mean nothing to it, so they are refused
// by name rather than silently ignored.
const std::set<std::string_view> kStatusFlags = {"--config",    "--kubeconfig", "--context",
                                                 "-o",          "--output",     "--log-format",
                                                 "--log-level", "--help",       "-h"};

using SeenFlags = std::map<std::string_view, std::string_view>;  // flag -> value

Result<void> check_command_flags(const Options& o, const SeenFlags& seen) {
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

// Flags that cannot go together, once every flag has been read.
Result<void> check_conflicts(const Options& o, const SeenFlags& seen) {
  if (auto flags = check_command_flags(o, seen); !flags)
    return flags.error();
  if (o.command == Command::status)
    return {};  // the default config is fine: status needs only labels and the Lease
  if (o.simulate && o.kubeconfig)
    return usage("--simulate runs its own cluster; it cannot be used with --kubeconfig");
  if (o.simulate && o.context)
    return usage("--simulate runs its own cluster; it cannot be used with --context");
  if (o.rollback && o.steps_given) {
    return usage(
        "--rollback runs the reverse of every step a node took; it cannot be used with --steps");
  }
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
  return {};
}

}  // namespace

Result<Options> parse_options(std::span<const std::string_view> args) {
  Options o;
  if (!args.empty() && args.front() == "status") {
    o.command = Command::status;
    args = args.subspan(1);
  }
  SeenFlags seen;  // to reject repeats
  for (std::size_t i = 0; i < args.size(); ++i) {
    auto use = next_flag(args, i);
    if (!use)
      return use.error();
    if (!seen.emplace(use->name == "-h" ? "--help" : use->name, use->value).second)
      return usage(std::string(use->name) + " given more than once");
    if (auto set = use->flag->set(o, use->name, use->value); !set)
      return set.error();
  }
  // --help and --version win over everything else, as usual.
  if (o.help || o.version)
    return o;
  if (auto conflicts = check_conflicts(o, seen); !conflicts)
    return conflicts.error();
  return o;
}

std::string usage_text() {
  return R"(Usage: cnimig-agent --config FILE [--apply] [flags]
       cnimig-agent --config FILE --rollback [--nodes A,B,...] [--apply] [flags]
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
  --nodes A,B,...            only these nodes in steps 2-4 (with --rollback: only these
                             nodes go back, as far as the other nodes allow)
  --rollback                 return the nodes to the source CNI through the reverse of the
                             steps they took (possible until cleanup starts)
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
