#include "cnimig/events/progress_line.hpp"

#include "cnimig/config/duration.hpp"

namespace cnimig::events {
namespace {

constexpr const char* kClearLine = "\r\x1b[K";

std::string human(std::chrono::milliseconds d) {
  return config::format_duration(std::chrono::duration_cast<std::chrono::seconds>(d));
}

}  // namespace

std::string format_progress(const ProgressSnapshot& p, std::size_t width) {
  std::string out = "[" + p.step + "] " + std::to_string(p.nodes_done) + "/" +
                    std::to_string(p.nodes_total) + " nodes";
  if (!p.in_flight.empty()) {
    out += " | ";
    for (std::size_t i = 0; i < p.in_flight.size(); ++i) {
      out += (i == 0 ? "" : ", ") + p.in_flight[i].first + " " + p.in_flight[i].second;
    }
  }
  out += " | " + human(p.elapsed) + " elapsed";
  if (p.nodes_done > 0 && p.nodes_total > p.nodes_done) {
    const auto per_node = p.elapsed / static_cast<long>(p.nodes_done);
    out += ", ~" + human(per_node * static_cast<long>(p.nodes_total - p.nodes_done)) + " left";
  }
  if (width > 3 && out.size() > width) {
    out.resize(width - 3);
    out += "...";
  }
  return out;
}

ProgressLine::ProgressLine(std::FILE* out, bool terminal) : out_(out), terminal_(terminal) {}

void ProgressLine::update(const ProgressSnapshot& snapshot) {
  std::lock_guard lock(mutex_);
  status_ = format_progress(snapshot, 160);
  if (terminal_)
    draw_unlocked();
}

void ProgressLine::clear_status() {
  std::lock_guard lock(mutex_);
  if (terminal_ && !status_.empty())
    std::fputs(kClearLine, out_);
  status_.clear();
  std::fflush(out_);
}

void ProgressLine::sink_it_(const spdlog::details::log_msg& msg) {
  spdlog::memory_buf_t formatted;
  formatter_->format(msg, formatted);
  if (terminal_ && !status_.empty())
    std::fputs(kClearLine, out_);
  std::fwrite(formatted.data(), 1, formatted.size(), out_);
  if (terminal_)
    draw_unlocked();
  std::fflush(out_);
}

void ProgressLine::flush_() {
  std::fflush(out_);
}

void ProgressLine::draw_unlocked() {
  if (status_.empty())
    return;
  std::fputs(kClearLine, out_);
  std::fputs(status_.c_str(), out_);
  std::fflush(out_);
}

}  // namespace cnimig::events
