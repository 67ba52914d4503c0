#pragma once
// Decodes the Kubernetes remote-command channel protocol carried by a pod
// exec WebSocket (v4.channel.k8s.io and v5.channel.k8s.io). Every binary
// message starts with one channel byte: 0 stdin, 1 stdout, 2 stderr,
// 3 error/status (a metav1.Status JSON), 4 resize, and in v5 255 "close"
// (the peer closed the channel named by the next byte). The status is
// Success, or Failure with reason NonZeroExitCode and
// details.causes[{reason: ExitCode, message: "<n>"}].
// Pure (no sockets), so it is unit-tested and fuzzable.

#include <optional>
#include <string>
#include <string_view>

#include "cnimig/common/result.hpp"

namespace cnimig::kube {

struct ExecResult {
  int exit_code = 0;
  std::string stdout_text;
  std::string stderr_text;
};

// Exit code from a status-channel document: 0 for Success, n for
// NonZeroExitCode; any other Failure is an error carrying its message.
Result<int> parse_exec_status(std::string_view status_json);

class ExecChannelDecoder {
 public:
  // Caps on collected output: a chatty command must not exhaust memory.
  explicit ExecChannelDecoder(std::size_t max_output = 1 << 20) : max_output_(max_output) {}

  // One complete WebSocket message.
  Result<void> feed(std::string_view message);

  bool has_status() const noexcept { return exit_code_.has_value(); }
  // The result, once the status arrived (error otherwise).
  Result<ExecResult> result() const;

 private:
  std::size_t max_output_;
  std::string stdout_;
  std::string stderr_;
  std::optional<int> exit_code_;
};

}  // namespace cnimig::kube
