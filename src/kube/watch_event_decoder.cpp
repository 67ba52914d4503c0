#include "cnimig/kube/watch_event_decoder.hpp"

#include <boost/json/value.hpp>

namespace cnimig::kube {

namespace {

Result<RawWatchEvent> to_event(boost::json::value v) {
  if (!v.is_object())
    return make_error(Errc::protocol, "watch: event is not a JSON object");
  auto& o = v.get_object();
  auto* t = o.if_contains("type");
  auto* obj = o.if_contains("object");
  if (!t || !t->is_string())
    return make_error(Errc::protocol, "watch: event has no type");
  if (!obj || !obj->is_object())
    return make_error(Errc::protocol, "watch: event has no object");
  std::string_view type = t->get_string();
  RawWatchEventType k;
  if (type == "ADDED")
    k = RawWatchEventType::added;
  else if (type == "MODIFIED")
    k = RawWatchEventType::modified;
  else if (type == "DELETED")
    k = RawWatchEventType::deleted;
  else if (type == "BOOKMARK")
    k = RawWatchEventType::bookmark;
  else if (type == "ERROR")
    k = RawWatchEventType::error;
  else
    return make_error(Errc::protocol, "watch: unknown event type \"" + std::string(type) + "\"");
  return RawWatchEvent{k, std::move(obj->get_object())};
}

bool is_space(char c) {
  return c == ' ' || c == '\n' || c == '\r' || c == '\t';
}

}  // namespace

void WatchEventDecoder::reset() {
  parser_.reset();
  in_document_ = false;
  failed_ = false;
}

Result<void> WatchEventDecoder::feed(std::string_view bytes, std::vector<RawWatchEvent>& out) {
  if (failed_)
    return make_error(Errc::protocol, "watch: decoder used after an error");
  while (!bytes.empty()) {
    if (!in_document_) {
      // Between documents: skip the separators so an idle stream holds no state.
      std::size_t skip = 0;
      while (skip < bytes.size() && is_space(bytes[skip]))
        ++skip;
      bytes.remove_prefix(skip);
      if (bytes.empty())
        break;
      in_document_ = true;
    }
    boost::system::error_code ec;
    std::size_t used = parser_.write_some(bytes.data(), bytes.size(), ec);
    if (ec) {
      failed_ = true;
      return make_error(Errc::protocol, "watch: invalid JSON in the event stream: " + ec.message());
    }
    bytes.remove_prefix(used);
    if (parser_.done()) {
      auto ev = to_event(parser_.release());
      parser_.reset();
      in_document_ = false;
      if (!ev) {
        failed_ = true;
        return ev.error();
      }
      out.push_back(std::move(*ev));
    }
  }
  return {};
}

}  // namespace cnimig::kube
