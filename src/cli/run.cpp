#include "cnimig/cli/run.hpp"

#include <iostream>

namespace cnimig::cli {

int run(int, char**) {
  std::cerr << "cnimig-agent: not implemented yet\n";
  return 2;
}

}  // namespace cnimig::cli
