#pragma once
// Pod exec over WebSocket as the kube-apiserver and the kubelet speak it
// (v5/v4.channel.k8s.io): the subprotocol choice, the upgrade, and the
// channel frames of a finished command (1 stdout, 2 stderr, 3 status). The
// command runs before the upgrade (the simulator's exec is synchronous), so a
// session is: accept, send the frames, close.

#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/awaitable.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/message.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

#include "cnimig/sim/exec_result.hpp"

namespace cnimig::sim {

using SslStream = boost::beast::ssl_stream<boost::beast::tcp_stream>;

// The first subprotocol of a Sec-WebSocket-Protocol offer this server speaks
// (kubectl 1.32 offers v5 first); empty when there is none.
std::string exec_subprotocol(std::string_view offered);

// The channel-3 status document of a finished command, as the kubelet writes it.
std::string exec_status(const ExecResult& result, const std::vector<std::string>& command);

struct ExecStreams {
  bool stdout_wanted = true;
  bool stderr_wanted = true;
};

// Accepts the upgrade in `req` with `subprotocol`, sends `result` as channel
// frames and closes normally. Returns when the peer has the close frame or
// the connection failed; the stream is not reusable afterwards.
boost::asio::awaitable<void> answer_exec(
    SslStream& stream, const boost::beast::http::request<boost::beast::http::string_body>& req,
    const std::string& subprotocol, const ExecResult& result,
    const std::vector<std::string>& command, ExecStreams streams);

}  // namespace cnimig::sim
