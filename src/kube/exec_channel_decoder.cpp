#include "cnimig/kube/exec_channel_decoder.hpp"

#include <charconv>

#include <boost/json.hpp>

namespace cnimig::kube {

namespace json = boost::json;

Result<int> parse_exec_status(std::string_view text) {
  boost::system::error_code ec;
  auto v = json::parse(text, ec);
  if (ec || !v.is_object())
    return make_error(Errc::protocol, "exec: status channel is not a JSON object");
  const auto& o = v.get_object();
  auto str = [](const json::object& obj, const char* key) -> std::string {
    auto* p = obj.if_contains(key);
    return p && p->is_string() ? std::string(p->get_string()) : std::string{};
  };
  std::string status = str(o, "status");
  if (status == "Success")
    return 0;
  if (status != "Failure")
    return make_error(Errc::protocol, "exec: status channel has no Success/Failure status");
  if (str(o, "reason") == "NonZeroExitCode") {
    if (auto* d = o.if_contains("details"); d && d->is_object()) {
      if (auto* causes = d->get_object().if_contains("causes"); causes && causes->is_array()) {
        for (const auto& c : causes->get_array()) {
          if (!c.is_object() || str(c.get_object(), "reason") != "ExitCode")
            continue;
          std::string m = str(c.get_object(), "message");
          int code = 0;
          auto [p, err] = std::from_chars(m.data(), m.data() + m.size(), code);
          if (err != std::errc() || p != m.data() + m.size())
            return make_error(Errc::protocol, "exec: ExitCode cause is not a number");
          return code;
        }
      }
    }
    return make_error(Errc::protocol, "exec: NonZeroExitCode without an ExitCode cause");
  }
  // e.g. the container is not running, or the command was not found.
  std::string msg = str(o, "message");
  return make_error(Errc::server_error, "exec failed: " + (msg.empty() ? str(o, "reason") : msg));
}

Result<void> ExecChannelDecoder::feed(std::string_view message) {
  if (message.empty())
    return {};  // keep-alive: no channel byte
  auto channel = static_cast<unsigned char>(message.front());
  auto payload = message.substr(1);
  auto append = [&](std::string& out) {
    std::size_t room = out.size() < max_output_ ? max_output_ - out.size() : 0;
    out.append(payload.substr(0, room));
  };
  switch (channel) {
    case 1:
      append(stdout_);
      return {};
    case 2:
      append(stderr_);
      return {};
    case 3: {
      if (payload.empty())
        return {};
      auto code = parse_exec_status(payload);
      if (!code)
        return code.error();
      exit_code_ = *code;
      return {};
    }
    case 0:    // stdin echoes: not expected, harmless
    case 4:    // resize: client to server only
    case 255:  // v5 close of a channel
      return {};
    default:
      return make_error(Errc::protocol, "exec: unknown channel " + std::to_string(channel));
  }
}

Result<ExecResult> ExecChannelDecoder::result() const {
  if (!exit_code_)
    return make_error(Errc::protocol, "exec: the stream ended without a status");
  return ExecResult{*exit_code_, stdout_, stderr_};
}

}  // namespace cnimig::kube
