#pragma once
// Writes events as JSON lines: one object per line, flushed per line so a log
// shipper sees each event as it happens. Strings are made valid UTF-8 first
// (invalid bytes become U+FFFD) and Boost.JSON escapes control characters, so
// every line is one parseable JSON object whatever the event carried.

#include <chrono>
#include <cstdio>
#include <functional>
#include <mutex>

#include "cnimig/events/event_sink.hpp"

namespace cnimig::events {

class JsonLinesWriter : public EventSink {
 public:
  using Clock = std::function<std::chrono::system_clock::time_point()>;

  explicit JsonLinesWriter(
      std::FILE* out, Clock clock = [] { return std::chrono::system_clock::now(); });

  void emit(const Event& event) override;

  // The line `emit` writes, without the newline.
  std::string render(const Event& event) const;

 private:
  std::FILE* out_;
  Clock clock_;
  std::mutex mutex_;
};

// RFC 3339, UTC, millisecond precision: "2026-11-25T08:30:00.123Z".
std::string format_timestamp(std::chrono::system_clock::time_point t);

// Replaces each invalid UTF-8 sequence with U+FFFD.
std::string sanitize_utf8(std::string_view text);

}  // namespace cnimig::events
