#include "cnimig/events/logging.hpp"

#include <boost/json/object.hpp>
#include <boost/json/serialize.hpp>
#include <spdlog/formatter.h>
#include <spdlog/pattern_formatter.h>
#include <spdlog/spdlog.h>

#include "cnimig/events/json_lines_writer.hpp"

#include <unistd.h>

namespace cnimig::events {
namespace {

// {"ts":...,"level":"info","msg":"..."} per line, with the same timestamp
// format and UTF-8 hygiene as the event stream.
class JsonLogFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    boost::json::object line;
    line["ts"] = format_timestamp(msg.time);
    const auto level = spdlog::level::to_string_view(msg.level);
    line["level"] = std::string_view(level.data(), level.size());
    line["msg"] = sanitize_utf8(std::string_view(msg.payload.data(), msg.payload.size()));
    const std::string text = boost::json::serialize(line) + "\n";
    dest.append(text.data(), text.data() + text.size());
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonLogFormatter>();
  }
};

}  // namespace

std::optional<LogFormat> parse_log_format(std::string_view text) noexcept {
  if (text == "text")
    return LogFormat::text;
  if (text == "json")
    return LogFormat::json;
  return std::nullopt;
}

std::optional<spdlog::level::level_enum> parse_log_level(std::string_view text) noexcept {
  using spdlog::level::level_enum;
  if (text == "trace")
    return level_enum::trace;
  if (text == "debug")
    return level_enum::debug;
  if (text == "info")
    return level_enum::info;
  if (text == "warn" || text == "warning")
    return level_enum::warn;
  if (text == "error")
    return level_enum::err;
  if (text == "off")
    return level_enum::off;
  return std::nullopt;
}

std::shared_ptr<spdlog::logger> make_logger(LogFormat format, spdlog::level::level_enum level,
                                            spdlog::sink_ptr sink) {
  auto logger = std::make_shared<spdlog::logger>("cnimig", std::move(sink));
  if (format == LogFormat::json) {
    logger->set_formatter(std::make_unique<JsonLogFormatter>());
  } else {
    logger->set_formatter(std::make_unique<spdlog::pattern_formatter>(
        "%Y-%m-%dT%H:%M:%S.%eZ %^%-5l%$ %v", spdlog::pattern_time_type::utc));
  }
  logger->set_level(level);
  logger->flush_on(spdlog::level::trace);
  return logger;
}

std::shared_ptr<ProgressLine> configure_logging(LogFormat format, spdlog::level::level_enum level) {
  auto sink = std::make_shared<ProgressLine>(
      stderr, format == LogFormat::text && ::isatty(STDERR_FILENO) == 1);
  spdlog::set_default_logger(make_logger(format, level, sink));
  return sink;
}

}  // namespace cnimig::events
