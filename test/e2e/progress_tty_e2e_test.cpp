// Human progress on stderr (README.md "Progress on stderr"): under a pseudo-terminal a
// live status line redrawn in place ("\r\x1b[K[roll] 2/4 nodes | node-2
// roll-draining | 3s elapsed, ~3s left"); off a terminal plain log lines
// with no control sequences; with --log-format json, JSON lines.
#define BOOST_TEST_MODULE e2e_progress_tty
#include <regex>

#include <boost/json.hpp>
#include <boost/test/unit_test.hpp>

#include "sim_cluster.hpp"
#include <fcntl.h>
#include <poll.h>
#include <pty.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace cnimig::test;

namespace {

struct TtyRun {
  int exit_code = -1;
  std::string terminal;  // what the agent wrote to its stderr (the pty)
  std::string events;    // stdout (a pipe)
};

// Runs the agent with stderr on a pseudo-terminal and stdout on a pipe.
TtyRun run_on_pty(const std::vector<std::string>& argv, std::chrono::seconds timeout) {
  int out[2];
  BOOST_TEST_REQUIRE(pipe2(out, O_CLOEXEC) == 0);
  SpawnArguments spawn(argv, {"TERM=xterm"});
  int master = -1;
  const pid_t pid = forkpty(&master, nullptr, nullptr, nullptr);
  BOOST_TEST_REQUIRE(pid >= 0);
  if (pid == 0) {
    dup2(out[1], STDOUT_FILENO);  // events stay off the terminal
    execve(spawn.argv[0], spawn.argv.data(), spawn.envp.data());
    _exit(127);
  }
  close(out[1]);
  TtyRun r;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool tty_open = true, pipe_open = true;
  while ((tty_open || pipe_open) && std::chrono::steady_clock::now() < deadline) {
    pollfd fds[2] = {{tty_open ? master : -1, POLLIN, 0}, {pipe_open ? out[0] : -1, POLLIN, 0}};
    if (poll(fds, 2, 1000) <= 0)
      continue;
    char buf[65536];
    if (fds[0].revents != 0) {
      const ssize_t n = read(master, buf, sizeof buf);
      if (n <= 0)
        tty_open = false;  // EIO once the child and its pty slave are gone
      else
        r.terminal.append(buf, static_cast<std::size_t>(n));
    }
    if (fds[1].revents != 0) {
      const ssize_t n = read(out[0], buf, sizeof buf);
      if (n <= 0)
        pipe_open = false;
      else
        r.events.append(buf, static_cast<std::size_t>(n));
    }
  }
  if (tty_open || pipe_open)
    kill(pid, SIGKILL);
  int status = 0;
  waitpid(pid, &status, 0);
  close(master);
  close(out[0]);
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

const std::regex kStatus(
    R"(\r\x1b\[K\[(preflight|prepare|roll|priority|migrate|cleanup)\] \d/4 nodes)");

}  // namespace

BOOST_AUTO_TEST_CASE(on_a_terminal_a_live_status_line) {
  SimCluster cluster(4);
  auto r = run_on_pty(cluster.agent_argv({"--apply"}), 600s);
  BOOST_TEST_REQUIRE(r.exit_code == 0, r.terminal);
  BOOST_TEST(r.events.find("\"migration.completed\"") != std::string::npos);
  const auto& t = r.terminal;
  BOOST_TEST(std::distance(std::sregex_iterator(t.begin(), t.end(), kStatus),
                           std::sregex_iterator()) >= 10,
             "too few status redraws:\n"
                 << t);
  for (const char* step : {"[roll] ", "[priority] ", "[migrate] "})
    BOOST_TEST(t.find(std::string("\r\x1b[K") + step) != std::string::npos,
               "no " << step << "line");
  // The current node and its phase, the elapsed time and, once a node is
  // done, the estimate.
  BOOST_TEST(std::regex_search(t, std::regex(R"(\[roll\] \d/4 nodes \| node-\d roll-[a-z-]+)")));
  BOOST_TEST(t.find(" elapsed") != std::string::npos);
  BOOST_TEST(std::regex_search(
      t, std::regex(R"(\[(roll|priority|migrate)\] [123]/4 nodes.* elapsed, ~[0-9hms]+ left)")));
  // No progress log lines on a terminal: the live line replaces them.
  BOOST_TEST(t.find(" info  [roll] ") == std::string::npos);
  // The status line is cleared at exit: the shell prompt starts clean.
  BOOST_TEST(t.ends_with("\r\x1b[K"), "ends with: " << t.substr(t.size() > 80 ? t.size() - 80 : 0));
}

BOOST_AUTO_TEST_CASE(off_a_terminal_plain_log_lines_and_json_on_request) {
  SimCluster cluster(4);
  auto text = cluster.agent({"--apply", "--steps", "0-2"});
  BOOST_TEST_REQUIRE(text.exit_code == 0, text.stderr_text);
  BOOST_TEST(text.stderr_text.find('\x1b') == std::string::npos, "escape sequences off a terminal");
  BOOST_TEST(text.stderr_text.find('\r') == std::string::npos);
  for (int done = 0; done <= 3; ++done) {
    BOOST_TEST(
        text.stderr_text.find("[roll] " + std::to_string(done) + "/4 nodes") != std::string::npos,
        "no progress line for " << done << " rolled nodes:\n"
                                << text.stderr_text);
  }

  auto json = cluster.agent({"--apply", "--log-format", "json"});
  BOOST_TEST_REQUIRE(json.exit_code == 0, json.stderr_text);
  int progress = 0;
  for (const auto& line : lines(json.stderr_text)) {
    boost::system::error_code ec;
    const auto v = boost::json::parse(line, ec);
    BOOST_TEST_REQUIRE((!ec && v.is_object()), "not a JSON log line: " << line);
    const auto& o = v.as_object();
    BOOST_TEST((o.contains("ts") && o.contains("level") && o.contains("msg")), line);
    if (std::string_view(o.at("msg").as_string()).starts_with("[migrate] "))
      ++progress;
  }
  BOOST_TEST(progress >= 4, "progress as JSON log lines during the migrate step");
}
