#pragma once
// Human-readable logging: spdlog to stderr, as text or as JSON lines
// (`--log-format json`). stdout belongs to the event stream alone.

#include <memory>
#include <optional>
#include <string_view>

#include <spdlog/common.h>
#include <spdlog/logger.h>

#include "cnimig/events/progress_line.hpp"

namespace cnimig::events {

enum class LogFormat { text, json };

std::optional<LogFormat> parse_log_format(std::string_view text) noexcept;
std::optional<spdlog::level::level_enum> parse_log_level(std::string_view text) noexcept;

// A logger writing to `sink` in the given format; times are UTC.
std::shared_ptr<spdlog::logger> make_logger(LogFormat format, spdlog::level::level_enum level,
                                            spdlog::sink_ptr sink);

// Installs make_logger(format, level, <stderr sink>) as spdlog's default logger
// and returns its sink, through which the driver shows progress: a live status
// line when stderr is a terminal and the format is text, log lines otherwise.
std::shared_ptr<ProgressLine> configure_logging(LogFormat format, spdlog::level::level_enum level);

}  // namespace cnimig::events
