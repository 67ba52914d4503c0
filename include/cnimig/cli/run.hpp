#pragma once

namespace cnimig::cli {

// Parses the command line, runs the requested mode and returns the process
// exit code (README.md "Exit codes": 0 done, 1 halted, 2 usage/config, 3 cluster
// unreachable, 130/143 stopped by signal).
int run(int argc, char** argv);

}  // namespace cnimig::cli
