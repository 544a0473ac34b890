// A small HTTP/1.0 and HTTP/1.1 client on kernel sockets for the keep-alive demo.
#include "tools/tcplab/demo_client.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <optional>
#include <thread>

#include "http/response_parser.hpp"

namespace tcplab::cli {
namespace {

// Every blocking call gives up after this long, so a stuck run ends with an error line.
constexpr int kIoTimeoutSeconds = 10;

class Connection {
 public:
  Connection() = default;
  Connection(const Connection&) = delete;
  Connection& operator=(const Connection&) = delete;
  ~Connection() { close(); }

  bool open(const std::string& address, uint16_t port, std::string& error) {
    fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd_ < 0) return fail("socket", error);
    timeval tv{kIoTimeoutSeconds, 0};
    ::setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ::setsockopt(fd_, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    if (::inet_pton(AF_INET, address.c_str(), &sin.sin_addr) != 1) {
      error = "not an IPv4 address: " + address;
      return false;
    }
    if (::connect(fd_, reinterpret_cast<sockaddr*>(&sin), sizeof sin) != 0) return fail("connect", error);
    buffered_.clear();
    return true;
  }
  bool is_open() const { return fd_ >= 0; }
  void close() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }
  // True when the server has closed its side while we were idle (its FIN is waiting): a
  // browser notices this before reusing a connection, and so do we.
  bool peer_closed() const {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 0) <= 0) return false;
    char byte;
    return ::recv(fd_, &byte, 1, MSG_PEEK | MSG_DONTWAIT) == 0;
  }
  bool send_all(const std::string& data, std::string& error) {
    size_t sent = 0;
    while (sent < data.size()) {
      ssize_t n = ::send(fd_, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return fail("send", error);
      sent += static_cast<size_t>(n);
    }
    return true;
  }
  // Reads until `buffered()` holds at least `want` bytes; false on EOF or error.
  bool fill(size_t want, std::string& error) {
    while (buffered_.size() < want) {
      if (!read_some(error)) return false;
    }
    return true;
  }
  // Reads until the peer closes; true when it did.
  bool read_to_eof(std::string& error) {
    while (true) {
      char buf[4096];
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n == 0) return true;
      if (n < 0) return fail("recv", error);
    }
  }
  bool read_some(std::string& error) {
    char buf[16384];
    while (true) {
      ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
      if (n < 0 && errno == EINTR) continue;
      if (n == 0) {
        error = "the server closed the connection in the middle of a response";
        return false;
      }
      if (n < 0) return fail("recv", error);
      buffered_.append(buf, static_cast<size_t>(n));
      return true;
    }
  }
  std::string& buffered() { return buffered_; }

 private:
  bool fail(const char* what, std::string& error) {
    error = std::string(what) + ": " + std::strerror(errno);
    return false;
  }
  int fd_ = -1;
  std::string buffered_;
};

// Reads one response with the HTTP layer's own parser (http/response_parser), leaving what
// follows it buffered. Tells whether the server will close the connection after it.
bool read_response(Connection& conn, http::ResponseParser& parser, int& status, bool& close,
                   std::string& error) {
  parser.expect();
  while (true) {
    std::string& buffered = conn.buffered();
    size_t used = parser.feed(buffered, [](std::string_view) {});
    buffered.erase(0, used);
    if (parser.status() == http::ResponseParser::Status::Error) {
      error = "bad response: " + parser.error();
      return false;
    }
    if (parser.status() == http::ResponseParser::Status::Complete) break;
    if (!conn.read_some(error)) return false;
  }
  const auto& head = parser.head();
  status = head.status;
  // RFC 9112 §9.3: HTTP/1.0 closes unless keep-alive was agreed; Connection: close closes.
  close = parser.framing() == http::BodyFraming::UntilClose || head.has_connection_token("close") ||
          (head.minor == 0 && !head.has_connection_token("keep-alive"));
  return true;
}

}  // namespace

DemoClientResult run_demo_client(const http::demo::Plan& plan, const std::string& address, uint16_t port) {
  DemoClientResult result;
  Connection conn;
  http::ResponseParser parser;
  const auto start = std::chrono::steady_clock::now();
  auto last_response = start;
  for (const auto& request : plan.requests) {
    if (request.pause_before.count() > 0) std::this_thread::sleep_for(request.pause_before);
    if (conn.is_open() && conn.peer_closed()) conn.close();
    if (!conn.is_open()) {
      if (!conn.open(address, port, result.error)) return result;
      ++result.connects;
    }
    const std::string version = plan.http10 ? "HTTP/1.0" : "HTTP/1.1";
    const std::string text = "GET " + request.path + " " + version + "\r\nHost: " + address +
                             "\r\nUser-Agent: tcplab-demo\r\nAccept: */*\r\n\r\n";
    int status = 0;
    bool close = false;
    if (!conn.send_all(text, result.error) || !read_response(conn, parser, status, close, result.error))
      return result;
    if (status != 200) {
      result.error = request.path + ": status " + std::to_string(status);
      return result;
    }
    ++result.requests;
    last_response = std::chrono::steady_clock::now();
    if (close) {
      // Wait for the server's FIN before closing our side, as a browser does: the server
      // closed first, so the TIME-WAIT is its own (RFC 9293 §3.6).
      if (!conn.read_to_eof(result.error)) return result;
      conn.close();
    }
  }
  result.seconds = std::chrono::duration<double>(last_response - start).count();
  result.ok = true;
  return result;
}

}  // namespace tcplab::cli
