#include "support/background_process.hpp"

#include <cstring>
#include <fstream>
#include <map>
#include <random>
#include <sstream>
#include <stdexcept>
#include <utility>

#include "support/process.hpp"
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace cnimig::test {

BackgroundProcess::BackgroundProcess(const std::vector<std::string>& argv,
                                     const std::vector<std::string>& env) {
  int out_pipe[2];
  if (pipe2(out_pipe, O_CLOEXEC) != 0)
    throw std::runtime_error("pipe failed");
  stderr_path_ = "/tmp/cnimig-bg-" + std::to_string(std::random_device{}()) + ".stderr";
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
  posix_spawn_file_actions_adddup2(&actions, out_pipe[1], 1);
  posix_spawn_file_actions_addopen(&actions, 2, stderr_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0600);

  SpawnArguments spawn(argv, env);
  const int rc =
      posix_spawnp(&pid_, spawn.argv[0], &actions, nullptr, spawn.argv.data(), spawn.envp.data());
  posix_spawn_file_actions_destroy(&actions);
  close(out_pipe[1]);
  if (rc != 0) {
    close(out_pipe[0]);
    throw std::runtime_error("cannot start " + argv[0] + ": " + std::strerror(rc));
  }
  stdout_fd_ = out_pipe[0];
}

BackgroundProcess::~BackgroundProcess() {
  if (!exit_code_)
    stop(SIGKILL, std::chrono::seconds(10));
  if (stdout_fd_ >= 0)
    close(stdout_fd_);
  ::unlink(stderr_path_.c_str());
}

std::optional<std::string> BackgroundProcess::wait_for_line(
    const std::function<bool(const std::string&)>& match, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (true) {
    while (consumed_ < lines_.size()) {
      const auto& line = lines_[consumed_++];
      if (match(line))
        return line;
    }
    if (stdout_fd_ < 0)
      return std::nullopt;
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      return std::nullopt;
    pollfd fd{stdout_fd_, POLLIN, 0};
    if (poll(&fd, 1, static_cast<int>(left.count())) <= 0)
      continue;
    char buf[65536];
    const ssize_t n = read(stdout_fd_, buf, sizeof buf);
    if (n <= 0) {
      close(stdout_fd_);
      stdout_fd_ = -1;
      if (!partial_.empty())
        lines_.push_back(std::exchange(partial_, {}));
      continue;
    }
    partial_.append(buf, static_cast<std::size_t>(n));
    std::size_t nl;
    while ((nl = partial_.find('\n')) != std::string::npos) {
      lines_.push_back(partial_.substr(0, nl));
      partial_.erase(0, nl + 1);
    }
  }
}

int BackgroundProcess::stop(int signal, std::chrono::milliseconds timeout) {
  if (exit_code_)
    return *exit_code_;
  ::kill(pid_, signal);
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  int status = 0;
  while (true) {
    // Keep draining stdout so a child blocked on a full pipe can exit.
    wait_for_line([](const std::string&) { return false; }, std::chrono::milliseconds(20));
    const pid_t r = ::waitpid(pid_, &status, WNOHANG);
    if (r == pid_)
      break;
    if (std::chrono::steady_clock::now() > deadline) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, &status, 0);
      break;
    }
  }
  exit_code_ = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return *exit_code_;
}

std::string BackgroundProcess::stderr_text() const {
  std::ifstream in(stderr_path_);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string BackgroundProcess::diagnostics(std::size_t lines) const {
  std::string out = stderr_text() + "--- last stdout lines:\n";
  const auto first = lines_.size() > lines ? lines_.size() - lines : 0;
  for (auto i = first; i < lines_.size(); ++i)
    out += lines_[i] + "\n";
  return out;
}

}  // namespace cnimig::test
