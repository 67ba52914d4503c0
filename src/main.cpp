// cnimig-agent: thin entry point; everything lives in src/cli.
#include "cnimig/cli/run.hpp"

int main(int argc, char** argv) { return cnimig::cli::run(argc, argv); }
