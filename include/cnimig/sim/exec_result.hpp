#pragma once
// What a command run in a simulated container produced (pods/exec).

#include <string>

namespace cnimig::sim {

struct ExecResult {
  int exit_code = 0;
  std::string stdout_text;
  std::string stderr_text;
};

}  // namespace cnimig::sim
