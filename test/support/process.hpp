#pragma once
// Runs a program to completion and captures what it wrote: for tests that
// drive the real binaries (cnimig-agent, cnimig-sim, kubectl) from outside.

#include <chrono>
#include <string>
#include <vector>

namespace cnimig::test {

struct ProcessResult {
  int exit_code = -1;  // 128 + signal when killed by a signal
  std::string stdout_text;
  std::string stderr_text;
  bool timed_out = false;
};

// `argv[0]` is the program path. `env` entries ("K=V") are added to (and
// override) the current environment. The child is killed after `timeout`.
ProcessResult run_process(const std::vector<std::string>& argv,
                          const std::vector<std::string>& env = {},
                          std::chrono::milliseconds timeout = std::chrono::seconds(60),
                          const std::string& stdin_text = {});

// argv and envp for posix_spawnp: `env` entries ("K=V") added to, and
// overriding, the current environment. The pointers refer into `storage`.
struct SpawnArguments {
  std::vector<std::string> storage;
  std::vector<char*> argv;
  std::vector<char*> envp;
  SpawnArguments(const std::vector<std::string>& args, const std::vector<std::string>& env);
};

// Splits on '\n', dropping a trailing empty line.
std::vector<std::string> lines(const std::string& text);

}  // namespace cnimig::test
