#include "cnimig/kube/credentials.hpp"

#include <fstream>
#include <sstream>
#include <system_error>

namespace cnimig::kube {

Credentials::Credentials(const ClientConfig& config)
    : token_(config.token), token_file_(config.token_file), exec_(config.exec) {}

Result<std::string> Credentials::authorization() {
  if (!token_.empty())
    return "Bearer " + token_;
  if (!token_file_.empty()) {
    std::error_code ec;
    auto mtime = std::filesystem::last_write_time(token_file_, ec);
    if (ec)
      return make_error(Errc::unauthorized, "tokenFile " + token_file_.string() + ": cannot stat");
    if (!token_file_mtime_ || *token_file_mtime_ != mtime || file_token_.empty()) {
      std::ifstream in(token_file_, std::ios::binary);
      if (!in)
        return make_error(Errc::unauthorized,
                          "tokenFile " + token_file_.string() + ": cannot read");
      std::ostringstream ss;
      ss << in.rdbuf();
      std::string t = ss.str();
      while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' '))
        t.pop_back();
      if (t.empty())
        return make_error(Errc::unauthorized, "tokenFile " + token_file_.string() + ": empty");
      file_token_ = std::move(t);
      token_file_mtime_ = mtime;
    }
    return "Bearer " + file_token_;
  }
  if (exec_) {
    // Renew slightly before expiry so a request never carries a token that
    // expires in flight.
    auto now = std::chrono::system_clock::now();
    if (exec_cached_ && exec_cached_->expiration &&
        *exec_cached_->expiration <= now + std::chrono::seconds(10))
      exec_cached_.reset();
    if (!exec_cached_) {
      auto cred = run_exec_plugin(*exec_);
      if (!cred)
        return cred.error();
      exec_cached_ = std::move(*cred);
    }
    return "Bearer " + exec_cached_->token;
  }
  return std::string{};
}

bool Credentials::invalidate() {
  if (!token_.empty())
    return false;
  if (!token_file_.empty()) {
    token_file_mtime_.reset();
    file_token_.clear();
    return true;
  }
  if (exec_) {
    exec_cached_.reset();
    return true;
  }
  return false;
}

}  // namespace cnimig::kube
