#pragma once
// The bearer credential for requests: a static token, a tokenFile re-read
// whenever its modification time changes (projected service-account tokens
// rotate), or an exec plugin whose token is cached until its
// expirationTimestamp and discarded after a 401.

#include <chrono>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>

#include "cnimig/common/result.hpp"
#include "cnimig/kube/client_config.hpp"
#include "cnimig/kube/exec_credential.hpp"

namespace cnimig::kube {

class Credentials {
 public:
  explicit Credentials(const ClientConfig& config);

  // The Authorization header value ("Bearer ..."), or empty for no bearer auth.
  // Concurrent callers share one plugin run.
  boost::asio::awaitable<Result<std::string>> authorization();
  // Called after a 401: the next authorization() re-reads or re-runs the source.
  // Returns whether a refresh can change anything (false for a static token).
  bool invalidate();

 private:
  std::string token_;
  std::filesystem::path token_file_;
  std::optional<std::filesystem::file_time_type> token_file_mtime_;
  std::string file_token_;
  std::optional<ExecPluginConfig> exec_;
  std::optional<ExecCredential> exec_cached_;
  bool exec_running_ = false;
  // Made per plugin run on the caller's executor; cancelled when the run ends.
  std::shared_ptr<boost::asio::steady_timer> exec_done_;
};

}  // namespace cnimig::kube
