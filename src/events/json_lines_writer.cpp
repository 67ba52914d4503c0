#include "cnimig/events/json_lines_writer.hpp"

#include <boost/json/serialize.hpp>

#include "cnimig/common/rfc3339.hpp"

namespace cnimig::events {
namespace {

boost::json::value sanitized(const boost::json::value& v) {
  switch (v.kind()) {
    case boost::json::kind::string:
      return boost::json::value(sanitize_utf8(v.get_string()));
    case boost::json::kind::array: {
      boost::json::array out;
      for (const auto& item : v.get_array())
        out.push_back(sanitized(item));
      return out;
    }
    case boost::json::kind::object: {
      boost::json::object out;
      for (const auto& [key, item] : v.get_object())
        out[sanitize_utf8(key)] = sanitized(item);
      return out;
    }
    default:
      return v;
  }
}

}  // namespace

std::string format_timestamp(std::chrono::system_clock::time_point t) {
  return format_rfc3339(t);
}

std::string sanitize_utf8(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  const auto* s = reinterpret_cast<const unsigned char*>(text.data());
  const std::size_t n = text.size();
  std::size_t i = 0;
  while (i < n) {
    const unsigned char c = s[i];
    std::size_t len = 0;
    std::uint32_t min = 0;
    std::uint32_t cp = 0;
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    } else if ((c & 0xE0) == 0xC0) {
      len = 2, min = 0x80, cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3, min = 0x800, cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4, min = 0x10000, cp = c & 0x07;
    }
    bool valid = len != 0 && i + len <= n;
    for (std::size_t k = 1; valid && k < len; ++k) {
      if ((s[i + k] & 0xC0) != 0x80) {
        valid = false;
      } else {
        cp = (cp << 6) | (s[i + k] & 0x3F);
      }
    }
    // Overlong forms, UTF-16 surrogates and values past U+10FFFF are invalid too.
    if (valid && (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)))
      valid = false;
    if (valid) {
      out.append(text.substr(i, len));
      i += len;
    } else {
      out.append("\xEF\xBF\xBD");
      ++i;
    }
  }
  return out;
}

JsonLinesWriter::JsonLinesWriter(std::FILE* out, Clock clock)
    : out_(out), clock_(std::move(clock)) {}

std::string JsonLinesWriter::render(const Event& event) const {
  boost::json::object line;
  line["ts"] = format_timestamp(clock_());
  line["v"] = kSchemaVersion;
  line["event"] = sanitize_utf8(event.name());
  for (const auto& [key, value] : event.fields()) {
    if (key == "ts" || key == "v" || key == "event")
      continue;  // reserved: never overridden
    line[sanitize_utf8(key)] = sanitized(value);
  }
  return boost::json::serialize(line);
}

void JsonLinesWriter::emit(const Event& event) {
  std::string text = render(event);
  text.push_back('\n');
  std::lock_guard lock(mutex_);
  std::fwrite(text.data(), 1, text.size(), out_);
  std::fflush(out_);
}

}  // namespace cnimig::events
