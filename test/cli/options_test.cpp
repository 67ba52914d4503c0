#include "cnimig/cli/options.hpp"

#include <boost/test/data/test_case.hpp>
#include <boost/test/unit_test.hpp>

using namespace cnimig;
using namespace cnimig::cli;

namespace {

Result<Options> parse(std::initializer_list<std::string_view> args) {
  std::vector<std::string_view> v(args);
  return parse_options(v);
}

}  // namespace

BOOST_AUTO_TEST_SUITE(options)

BOOST_AUTO_TEST_CASE(defaults_with_config_only) {
  auto o = parse({"--config", "c.yaml"});
  BOOST_TEST_REQUIRE(o.has_value());
  BOOST_TEST(o->config->string() == "c.yaml");
  BOOST_TEST(!o->apply);
  BOOST_TEST(!o->steps_given);
  BOOST_TEST((o->steps == config::StepRange{config::Step::preflight, config::Step::cleanup}));
  BOOST_TEST(o->nodes.empty());
  BOOST_TEST((o->log_format == events::LogFormat::text));
  BOOST_TEST((o->log_level == spdlog::level::info));
  BOOST_TEST(!o->simulate.has_value());
}

BOOST_AUTO_TEST_CASE(every_flag_is_parsed) {
  auto o = parse({"--config=c.yaml", "--kubeconfig", "k", "--context", "prod", "--apply", "--steps",
                  "2-4", "--nodes", "n1,n2,n1", "--max-parallel-nodes", "3", "--max-unavailable",
                  "5", "--log-format", "json", "--log-level=debug", "--max-requests-in-flight=8"});
  BOOST_TEST_REQUIRE(o.has_value(), (o ? "" : o.error().message));
  BOOST_TEST(o->kubeconfig->string() == "k");
  BOOST_TEST(*o->context == "prod");
  BOOST_TEST(o->apply);
  BOOST_TEST(o->steps_given);
  BOOST_TEST((o->steps == config::StepRange{config::Step::roll, config::Step::migrate}));
  BOOST_TEST(o->nodes == (std::vector<std::string>{"n1", "n2"}));
  BOOST_TEST(*o->max_parallel_nodes == 3u);
  BOOST_TEST(o->max_unavailable->value == 5u);
  BOOST_TEST(*o->max_requests_in_flight == 8u);
  BOOST_TEST((o->log_format == events::LogFormat::json));
  BOOST_TEST((o->log_level == spdlog::level::debug));
}

BOOST_AUTO_TEST_CASE(status_is_a_subcommand_with_its_own_flags) {
  auto o = parse({"status", "--kubeconfig", "k", "--context", "prod", "-o", "json"});
  BOOST_TEST_REQUIRE(o.has_value(), (o ? "" : o.error().message));
  BOOST_TEST((o->command == Command::status));
  BOOST_TEST(o->output_json);
  BOOST_TEST(o->kubeconfig->string() == "k");
  BOOST_TEST(!o->config.has_value());  // status falls back to the default config
  auto table = parse({"status", "--output=table", "--config", "c.yaml"});
  BOOST_TEST_REQUIRE(table.has_value(), (table ? "" : table.error().message));
  BOOST_TEST(!table->output_json);
  BOOST_TEST((parse({"--config", "c.yaml"})->command == Command::run));
}

BOOST_AUTO_TEST_CASE(rollback_is_a_switch_with_nodes) {
  auto o = parse({"--config", "c.yaml", "--rollback", "--nodes", "a,b", "--apply"});
  BOOST_TEST_REQUIRE(o.has_value());
  BOOST_TEST(o->rollback);
  BOOST_TEST(o->apply);
  BOOST_TEST(o->nodes.size() == 2u);
  BOOST_TEST(!parse({"--config", "c.yaml"})->rollback);
}

BOOST_AUTO_TEST_CASE(plan_output_selects_the_summary_only) {
  auto full = parse({"--config", "c.yaml", "--plan-output", "full"});
  BOOST_TEST_REQUIRE(full.has_value(), (full ? "" : full.error().message));
  BOOST_TEST(!full->plan_summary_only);
  auto summary = parse({"--config", "c.yaml", "--plan-output=summary"});
  BOOST_TEST_REQUIRE(summary.has_value(), (summary ? "" : summary.error().message));
  BOOST_TEST(summary->plan_summary_only);
  BOOST_TEST(!parse({"--config", "c.yaml"})->plan_summary_only);
}

BOOST_AUTO_TEST_CASE(simulate_needs_no_config) {
  auto o = parse(
      {"--simulate", "8", "--apply", "--max-unavailable", "25%", "--max-parallel-nodes", "3"});
  BOOST_TEST_REQUIRE(o.has_value(), (o ? "" : o.error().message));
  BOOST_TEST(*o->simulate == 8u);
  BOOST_TEST(o->max_unavailable->percent);
}

BOOST_AUTO_TEST_CASE(metrics_addr_takes_host_and_port) {
  auto o = parse({"--config", "c.yaml", "--metrics-addr", "127.0.0.1:0"});
  BOOST_TEST_REQUIRE(o.has_value(), (o ? "" : o.error().message));
  BOOST_TEST(*o->metrics_address == "127.0.0.1:0");
  BOOST_TEST(parse({"--config", "c.yaml", "--metrics-addr=[::1]:9464"}).has_value());
  BOOST_TEST(!parse({"--config", "c.yaml"})->metrics_address.has_value());
  for (const char* bad : {"9464", ":9464", "host:", "host:65536", "::1:9464", "[::1:9464"}) {
    auto r = parse({"--config", "c.yaml", "--metrics-addr", bad});
    BOOST_TEST_REQUIRE(!r.has_value(), bad);
    BOOST_TEST(r.error().message.starts_with("--metrics-addr: expected HOST:PORT"),
               r.error().message);
  }
}

BOOST_AUTO_TEST_CASE(help_and_version_win) {
  BOOST_TEST(parse({"--help"})->help);
  BOOST_TEST(parse({"-h"})->help);
  BOOST_TEST(parse({"--version"})->version);
  BOOST_TEST(parse({"--help", "--simulate", "3", "--kubeconfig", "x"})->help);  // no conflict check
  BOOST_TEST(usage_text().find("--max-unavailable") != std::string::npos);
}

struct BadArgs {
  std::vector<std::string_view> args;
  std::string expected;
};
std::ostream& operator<<(std::ostream& os, const BadArgs& b) {
  for (auto a : b.args)
    os << a << ' ';
  return os;
}

const std::vector<BadArgs> kBad = {
    {{}, "--config is required"},
    {{"--apply"}, "--config is required"},
    {{"--bogus"}, "unknown flag '--bogus'"},
    {{"-x"}, "unknown flag '-x'"},
    {{"config.yaml"}, "unexpected argument 'config.yaml'"},
    {{"--config"}, "--config needs a value"},
    {{"--config="}, "--config: expected a file name"},
    {{"--config", "a", "--config", "b"}, "--config given more than once"},
    {{"--apply=yes", "--config", "c"}, "--apply does not take a value"},
    {{"--config", "c", "--steps", "7"}, "--steps: expected a step or a range"},
    {{"--config", "c", "--steps", "4-2"}, "--steps: expected a step or a range"},
    {{"--config", "c", "--steps", "rolling"}, "--steps: expected a step or a range"},
    {{"--config", "c", "--nodes", "a,,b"}, "--nodes: invalid node name ''"},
    {{"--config", "c", "--nodes", "Node_1"}, "--nodes: invalid node name 'Node_1'"},
    {{"--config", "c", "--max-parallel-nodes", "0"},
     "--max-parallel-nodes: expected an integer from 1"},
    {{"--config", "c", "--max-parallel-nodes", "two"},
     "--max-parallel-nodes: expected an integer from 1"},
    {{"--config", "c", "--max-requests-in-flight", "0"},
     "--max-requests-in-flight: expected an integer from 1 to 1000"},
    {{"--config", "c", "--max-unavailable", "0"}, "--max-unavailable: expected a node count"},
    {{"--config", "c", "--max-unavailable", "120%"}, "--max-unavailable: expected a node count"},
    {{"--config", "c", "--max-parallel-nodes", "4", "--max-unavailable", "2"},
     "--max-parallel-nodes (4) exceeds --max-unavailable (2)"},
    {{"--config", "c", "--log-format", "xml"}, "--log-format: expected text or json"},
    {{"--config", "c", "--log-level", "loud"}, "--log-level: expected trace, debug"},
    {{"--simulate", "0"}, "--simulate: expected an integer from 1 to 5000"},
    {{"--simulate", "9999"}, "--simulate: expected an integer from 1 to 5000"},
    {{"--simulate", "3", "--kubeconfig", "k"},
     "--simulate runs its own cluster; it cannot be used with --kubeconfig"},
    {{"--simulate", "3", "--context", "c"},
     "--simulate runs its own cluster; it cannot be used with --context"},
    {{"status", "--apply"}, "status takes --config, --kubeconfig, --context, -o json|table"},
    {{"status", "--nodes", "a"}, "not --nodes"},
    {{"status", "-o", "yaml"}, "-o: expected json or table, got 'yaml'"},
    {{"--config", "c", "-o", "json"}, "-o belongs to 'cnimig-agent status'"},
    {{"--config", "c", "--plan-output", "brief"}, "--plan-output: expected full or summary"},
    {{"--config", "c", "--apply", "--plan-output", "summary"},
     "--plan-output shapes a plan's stdout; it cannot be used with --apply"},
    {{"--config", "c", "--rollback", "--steps", "migrate"},
     "--rollback runs the reverse of every step a node took; it cannot be used with --steps"},
    {{"--config", "c", "--steps", "2-4", "--rollback"}, "cannot be used with --steps"},
    {{"status", "--rollback"}, "status takes"},
};

BOOST_DATA_TEST_CASE(bad_flags_fail_with_one_line_reason, boost::unit_test::data::make(kBad), bad) {
  auto o = parse_options(bad.args);
  BOOST_TEST_REQUIRE(o.has_error());
  BOOST_TEST((o.error().code == Errc::invalid_argument));
  BOOST_TEST(o.error().message.find('\n') == std::string::npos);
  BOOST_TEST(o.error().message.find(bad.expected) != std::string::npos,
             "expected '" << bad.expected << "' in '" << o.error().message << "'");
}

BOOST_AUTO_TEST_SUITE_END()
