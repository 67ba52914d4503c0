#pragma once
// A long-running child (cnimig-sim, an agent under test) whose stdout is read
// line by line: tests wait for a line (e.g. the `sim.ready` event) with a
// deadline instead of sleeping, and the child is stopped on destruction.

#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <sys/types.h>

namespace cnimig::test {

class BackgroundProcess {
 public:
  BackgroundProcess(const std::vector<std::string>& argv, const std::vector<std::string>& env = {});
  ~BackgroundProcess();
  BackgroundProcess(const BackgroundProcess&) = delete;
  BackgroundProcess& operator=(const BackgroundProcess&) = delete;

  pid_t pid() const noexcept { return pid_; }

  // Reads stdout until a line satisfies `match`; nullopt on EOF or timeout.
  // Every line is offered once: a line read (and not matched) by one wait is
  // not offered to the next, so events that may come in any order are
  // awaited with one predicate, not one wait each.
  std::optional<std::string> wait_for_line(const std::function<bool(const std::string&)>& match,
                                           std::chrono::milliseconds timeout);

  // Sends `signal` and waits for exit; returns the exit code (128 + signal if killed).
  int stop(int signal, std::chrono::milliseconds timeout = std::chrono::seconds(30));

  // Every stdout line read so far, and all of stderr (collected into a file).
  const std::vector<std::string>& stdout_lines() const noexcept { return lines_; }
  std::string stderr_text() const;
  // What a failed wait reports: all of stderr and the last `lines` of stdout
  // (for the agent, its latest events: the gate it was waiting at).
  std::string diagnostics(std::size_t lines = 15) const;

 private:
  pid_t pid_ = -1;
  int stdout_fd_ = -1;
  std::string stderr_path_;
  std::string partial_;
  std::vector<std::string> lines_;
  std::size_t consumed_ = 0;  // lines already offered to wait_for_line
  std::optional<int> exit_code_;
};

}  // namespace cnimig::test
