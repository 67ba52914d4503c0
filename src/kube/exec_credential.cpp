#include "cnimig/kube/exec_credential.hpp"

#include <cerrno>
#include <cstdlib>
#include <ctime>
#include <vector>

#include <boost/json.hpp>

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace cnimig::kube {

std::optional<std::chrono::system_clock::time_point> parse_rfc3339(std::string_view s) {
  // YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm)
  if (s.size() < 20)
    return std::nullopt;
  std::tm tm{};
  auto num = [&](std::size_t pos, std::size_t len, int& out) {
    out = 0;
    for (std::size_t i = pos; i < pos + len; ++i) {
      if (s[i] < '0' || s[i] > '9')
        return false;
      out = out * 10 + (s[i] - '0');
    }
    return true;
  };
  int y, mo, d, h, mi, se;
  if (!num(0, 4, y) || s[4] != '-' || !num(5, 2, mo) || s[7] != '-' || !num(8, 2, d) ||
      (s[10] != 'T' && s[10] != 't') || !num(11, 2, h) || s[13] != ':' || !num(14, 2, mi) ||
      s[16] != ':' || !num(17, 2, se))
    return std::nullopt;
  tm.tm_year = y - 1900;
  tm.tm_mon = mo - 1;
  tm.tm_mday = d;
  tm.tm_hour = h;
  tm.tm_min = mi;
  tm.tm_sec = se;
  std::size_t i = 19;
  if (i < s.size() && s[i] == '.') {
    ++i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9')
      ++i;
  }
  long offset = 0;
  if (i < s.size() && (s[i] == 'Z' || s[i] == 'z')) {
    ++i;
  } else if (i + 6 == s.size() && (s[i] == '+' || s[i] == '-')) {
    int oh, om;
    if (!num(i + 1, 2, oh) || s[i + 3] != ':' || !num(i + 4, 2, om))
      return std::nullopt;
    offset = (oh * 3600L + om * 60L) * (s[i] == '-' ? -1 : 1);
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != s.size())
    return std::nullopt;
  time_t t = timegm(&tm);
  return std::chrono::system_clock::from_time_t(t - offset);
}

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

Result<ExecCredential> run_exec_plugin(const ExecPluginConfig& config,
                                       std::chrono::milliseconds timeout) {
  if (config.interactive_mode == "Always")
    return make_error(Errc::unauthorized,
                      "exec plugin " + config.command +
                          ": interactiveMode Always needs a terminal; the agent has none");
  std::string info = "{\"apiVersion\":\"" + config.api_version +
                     "\",\"kind\":\"ExecCredential\",\"spec\":{\"interactive\":false}}";
  // Build argv and envp before fork: only async-signal-safe calls after it.
  std::vector<std::string> args{config.command};
  args.insert(args.end(), config.args.begin(), config.args.end());
  std::vector<char*> argv;
  for (auto& a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e)
    env_strings.emplace_back(*e);
  for (const auto& [k, v] : config.env)
    env_strings.push_back(k + "=" + v);
  env_strings.push_back("KUBERNETES_EXEC_INFO=" + info);
  std::vector<char*> envp;
  for (auto& e : env_strings)
    envp.push_back(e.data());
  envp.push_back(nullptr);

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
      execve(config.command.c_str(), argv.data(), envp.data());
    else
      execvpe(config.command.c_str(), argv.data(), envp.data());
    _exit(127);
  }
  close(out[1]);
  std::string output;
  auto deadline = std::chrono::steady_clock::now() + timeout;
  bool timed_out = false;
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{out[0], POLLIN, 0};
    int r = poll(&p, 1, static_cast<int>(left.count()));
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0) {
      timed_out = r == 0;
      break;
    }
    char buf[4096];
    ssize_t n = read(out[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    output.append(buf, static_cast<std::size_t>(n));
    if (output.size() > (1u << 20))
      break;
  }
  close(out[0]);
  if (timed_out)
    kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out)
    return make_error(Errc::unauthorized, "exec plugin " + config.command + ": timed out");
  if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
    return make_error(
        Errc::unauthorized,
        "exec plugin " + config.command + ": exited with status " +
            std::to_string(WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status)));
  return parse_exec_credential(output, config.api_version);
}

}  // namespace cnimig::kube
