#pragma once
// A FILE* backed by memory, to capture what a writer or sink prints.

#include <cstdio>
#include <cstdlib>
#include <string>

namespace cnimig::test {

struct MemoryFile {
  char* buffer = nullptr;
  std::size_t size = 0;
  std::FILE* file = open_memstream(&buffer, &size);
  ~MemoryFile() {
    std::fclose(file);
    std::free(buffer);
  }
  std::string text() {
    std::fflush(file);
    return std::string(buffer, size);
  }
};

}  // namespace cnimig::test
