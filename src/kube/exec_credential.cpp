#include "cnimig/kube/exec_credential.hpp"

#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <vector>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>

#include "cnimig/common/rfc3339.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace cnimig::kube {

Result<ExecCredential> parse_exec_credential(std::string_view json,
                                             std::string_view expected_api_version) {
  boost::system::error_code ec;
  auto v = boost::json::parse(json, ec);
  if (ec || !v.is_object())
    return make_error(Errc::unauthorized, "exec plugin: output is not a JSON object");
  const auto& o = v.get_object();
  auto str = [&](const boost::json::object& obj, const char* key) -> std::string {
    auto* p = obj.if_contains(key);
    return p && p->is_string() ? std::string(p->get_string()) : std::string{};
  };
  if (str(o, "kind") != "ExecCredential")
    return make_error(Errc::unauthorized, "exec plugin: output kind is not ExecCredential");
  if (str(o, "apiVersion") != expected_api_version)
    return make_error(Errc::unauthorized,
                      "exec plugin: output apiVersion \"" + str(o, "apiVersion") +
                          "\" does not match the configured " + std::string(expected_api_version));
  auto* status = o.if_contains("status");
  if (!status || !status->is_object())
    return make_error(Errc::unauthorized, "exec plugin: output has no status");
  ExecCredential cred;
  cred.token = str(status->get_object(), "token");
  if (cred.token.empty()) {
    // clientCertificateData/clientKeyData from a plugin would need a TLS
    // context per credential; not supported yet.
    return make_error(
        Errc::unauthorized,
        "exec plugin: status.token is empty (client certificates from plugins are not supported)");
  }
  std::string exp = str(status->get_object(), "expirationTimestamp");
  if (!exp.empty()) {
    cred.expiration = parse_rfc3339(exp);
    if (!cred.expiration)
      return make_error(Errc::unauthorized,
                        "exec plugin: status.expirationTimestamp is not RFC 3339");
  }
  return cred;
}

namespace {

// The plugin's argv and envp, built before fork: only async-signal-safe
// calls after it. Not movable: argv and envp point into the strings.
struct PluginCommand {
  std::vector<std::string> args;
  std::vector<std::string> env_strings;
  std::vector<char*> argv;
  std::vector<char*> envp;

  explicit PluginCommand(const ExecPluginConfig& config) {
    const std::string info = "{\"apiVersion\":\"" + config.api_version +
                             "\",\"kind\":\"ExecCredential\",\"spec\":{\"interactive\":false}}";
    args.push_back(config.command);
    args.insert(args.end(), config.args.begin(), config.args.end());
    for (auto& a : args)
      argv.push_back(a.data());
    argv.push_back(nullptr);
    for (char** e = environ; *e; ++e)
      env_strings.emplace_back(*e);
    for (const auto& [k, v] : config.env)
      env_strings.push_back(k + "=" + v);
    env_strings.push_back("KUBERNETES_EXEC_INFO=" + info);
    for (auto& e : env_strings)
      envp.push_back(e.data());
    envp.push_back(nullptr);
  }
  PluginCommand(const PluginCommand&) = delete;
  PluginCommand& operator=(const PluginCommand&) = delete;
};

struct RunningPlugin {
  pid_t pid;
  int stdout_fd;  // the read end of the plugin's stdout
};

// Starts the plugin with its stdout on a pipe and no stdin.
Result<RunningPlugin> start_plugin(const ExecPluginConfig& config, PluginCommand& command) {
  int out[2];
  if (pipe2(out, O_CLOEXEC) != 0)
    return make_error(Errc::unauthorized, "exec plugin: pipe failed");
  pid_t pid = fork();
  if (pid < 0) {
    close(out[0]);
    close(out[1]);
    return make_error(Errc::unauthorized, "exec plugin: fork failed");
  }
  if (pid == 0) {
    dup2(out[1], 1);
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0)
      dup2(devnull, 0);  // no stdin: never interactive
    if (config.command.find('/') != std::string::npos)
      execve(config.command.c_str(), command.argv.data(), command.envp.data());
    else
      execvpe(config.command.c_str(), command.argv.data(), command.envp.data());
    _exit(127);
  }
  close(out[1]);
  return RunningPlugin{pid, out[0]};
}

}  // namespace

boost::asio::awaitable<Result<ExecCredential>> run_exec_plugin(const ExecPluginConfig& config,
                                                               std::chrono::milliseconds timeout) {
  namespace asio = boost::asio;
  using namespace asio::experimental::awaitable_operators;
  if (config.interactive_mode == "Always")
    co_return make_error(Errc::unauthorized,
                         "exec plugin " + config.command +
                             ": interactiveMode Always needs a terminal; the agent has none");
  PluginCommand command(config);
  auto started = start_plugin(config, command);
  if (!started)
    co_return started.error();
  const pid_t pid = started->pid;
  auto ex = co_await asio::this_coro::executor;
  asio::posix::stream_descriptor pipe(ex, started->stdout_fd);
  std::string output;
  auto read_all = [&]() -> asio::awaitable<void> {
    char buf[4096];
    for (;;) {
      auto [ec, n] =
          co_await pipe.async_read_some(asio::buffer(buf), asio::as_tuple(asio::use_awaitable));
      output.append(buf, n);
      if (ec || output.size() > (1u << 20))
        co_return;
    }
  };
  asio::steady_timer deadline(ex, timeout);
  auto which = co_await (read_all() || deadline.async_wait(asio::as_tuple(asio::use_awaitable)));
  const bool timed_out = which.index() == 1;
  pipe.close();
  // Stdout is closed (the plugin is exiting) or the deadline passed (kill it):
  // reaping does not block for long either way.
  if (timed_out)
    kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out)
    co_return make_error(Errc::unauthorized, "exec plugin " + config.command + ": timed out");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    co_return make_error(
        Errc::unauthorized,
        "exec plugin " + config.command + ": exited with status " +
            std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status)));
  co_return parse_exec_credential(output, config.api_version);
}

}  // namespace cnimig::kube
