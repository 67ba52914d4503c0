#pragma once
// Human progress on stderr. On a terminal, one status line is kept at the
// bottom and redrawn in place; log messages are printed above it (the sink
// clears the line, writes the message, redraws). Off a terminal there is no
// status line: progress appears as ordinary log lines.

#include <chrono>
#include <cstdio>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <spdlog/sinks/base_sink.h>

namespace cnimig::events {

struct ProgressSnapshot {
  std::string step;
  std::size_t nodes_done = 0;
  std::size_t nodes_total = 0;
  std::vector<std::pair<std::string, std::string>> in_flight;  // node, phase
  std::chrono::milliseconds elapsed{0};
};

// "[roll] 3/8 nodes | node-4 draining, node-5 cordoned | 2m10s elapsed, ~3m36s left"
// The estimate assumes the remaining nodes take as long as the done ones did.
std::string format_progress(const ProgressSnapshot& p, std::size_t width = 0);

class ProgressLine final : public spdlog::sinks::base_sink<std::mutex> {
 public:
  // `terminal`: whether `out` is a TTY (the status line is only drawn there).
  ProgressLine(std::FILE* out, bool terminal);

  void update(const ProgressSnapshot& snapshot);
  void clear_status();  // e.g. at exit, so the shell prompt starts on a clean line
  bool terminal() const noexcept { return terminal_; }

 protected:
  void sink_it_(const spdlog::details::log_msg& msg) override;
  void flush_() override;

 private:
  void draw_unlocked();

  std::FILE* out_;
  bool terminal_;
  std::string status_;
};

}  // namespace cnimig::events
