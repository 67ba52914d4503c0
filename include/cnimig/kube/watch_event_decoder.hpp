#pragma once
// Decodes the body of a Kubernetes watch response: a stream of JSON
// documents {"type": ADDED|MODIFIED|DELETED|BOOKMARK|ERROR, "object": {...}}
// (the API server writes one per line, but nothing here depends on the
// newlines). Bytes arrive in arbitrary pieces - chunk boundaries fall
// anywhere, even inside a UTF-8 sequence - so the decoder keeps a streaming
// JSON parser across feeds. Pure (no sockets): unit-tested and fuzzable.

#include <string_view>
#include <vector>

#include <boost/json/object.hpp>
#include <boost/json/stream_parser.hpp>

#include "cnimig/common/result.hpp"

namespace cnimig::kube {

enum class RawWatchEventType { added, modified, deleted, bookmark, error };

struct RawWatchEvent {
  RawWatchEventType type;
  boost::json::object object;  // for `error`: a metav1.Status
};

class WatchEventDecoder {
 public:
  // Appends every event completed by `bytes` to `out`. After an error the
  // decoder is unusable (the stream is out of sync): reconnect.
  Result<void> feed(std::string_view bytes, std::vector<RawWatchEvent>& out);
  // No partial document is buffered.
  bool idle() const noexcept { return !in_document_; }
  void reset();

 private:
  boost::json::stream_parser parser_;
  bool in_document_ = false;
  bool failed_ = false;
};

}  // namespace cnimig::kube
