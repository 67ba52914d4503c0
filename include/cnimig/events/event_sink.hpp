#pragma once

#include "cnimig/events/event.hpp"

namespace cnimig::events {

// Where events go: stdout in production, a vector in tests.
class EventSink {
 public:
  virtual ~EventSink() = default;
  virtual void emit(const Event& event) = 0;
};

}  // namespace cnimig::events
