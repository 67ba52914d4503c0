// Stand-in for libFuzzer's main in the default (gcc) build: replays every file
// of the corpus directory given on the command line, then a fixed set of
// mutations of each (truncations, byte flips, insertions of bytes that
// parsers find interesting), so the default suite exercises each fuzz target's
// error paths in a bounded, reproducible time.
#include <cstdint>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size);

namespace {

void run(const std::string& input) {
  LLVMFuzzerTestOneInput(reinterpret_cast<const std::uint8_t*>(input.data()), input.size());
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: %s CORPUS_DIR\n", argv[0]);
    return 2;
  }
  std::vector<std::string> seeds;
  for (const auto& entry : std::filesystem::directory_iterator(argv[1])) {
    if (!entry.is_regular_file())
      continue;
    std::ifstream in(entry.path(), std::ios::binary);
    std::ostringstream text;
    text << in.rdbuf();
    seeds.push_back(text.str());
  }
  if (seeds.empty()) {
    std::fprintf(stderr, "no seeds in %s\n", argv[1]);
    return 1;
  }
  std::mt19937 rng(20261125);  // fixed: the same inputs every run
  const std::string interesting[] = {"\0", "\xff", "\n", ":", "{",  "[",    "\"",   "'", "- ",
                                     "&a", "*a",   "!!", "%", "\\", "\x80", "\r\n", "\t"};
  std::size_t runs = 0;
  for (const auto& seed : seeds) {
    run(seed);
    ++runs;
    for (std::size_t cut = 0; cut < seed.size(); cut += 1 + seed.size() / 64) {
      run(seed.substr(0, cut));
      ++runs;
    }
    for (int i = 0; i < 400 && !seed.empty(); ++i) {
      std::string m = seed;
      const std::size_t pos = rng() % m.size();
      switch (rng() % 3) {
        case 0:
          m[pos] = static_cast<char>(m[pos] ^ (1u << (rng() % 8)));
          break;
        case 1:
          m.insert(pos, interesting[rng() % std::size(interesting)]);
          break;
        default:
          m.erase(pos, 1 + rng() % 8);
          break;
      }
      run(m);
      ++runs;
    }
  }
  std::printf("%zu inputs from %zu seeds ran without a crash\n", runs, seeds.size());
  return 0;
}
