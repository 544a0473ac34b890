// A scriptable kernel-socket HTTP client for integration tests: sends exact bytes (bad
// requests, pipelined batches in one write, a request dribbled slowly), then reports how
// the server ended the connection (FIN or RST) and when.
//
//   http_raw [--host A] [--port P] ACTION...
//     --send TEXT        one write() of TEXT; \r \n \t \\ and \xHH escapes are decoded
//     --sleep MS         pause
//     --responses N      read until N complete responses (Content-Length or chunked) arrived
//     --mark             start the stopwatch now
//     --wait-close SECS  read until the server closes (or SECS pass); discards nothing
//     --shut-wr          shutdown(SHUT_WR): our FIN
// Received bytes go to stdout; a last line on stderr says
//   "result: closed=fin|rst|open responses=N since_mark=S.SSS local_port=P"
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>

namespace {

using Clock = std::chrono::steady_clock;

std::string unescape(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '\\' || i + 1 >= s.size()) {
      out += s[i];
      continue;
    }
    char c = s[++i];
    if (c == 'r')
      out += '\r';
    else if (c == 'n')
      out += '\n';
    else if (c == 't')
      out += '\t';
    else if (c == 'x' && i + 2 < s.size()) {
      out += static_cast<char>(std::strtol(std::string(s.substr(i + 1, 2)).c_str(), nullptr, 16));
      i += 2;
    } else
      out += c;
  }
  return out;
}

struct Conn {
  int fd = -1;
  std::string in;     // everything received
  size_t parsed = 0;  // bytes of `in` belonging to complete responses
  int responses = 0;
  std::string closed = "open";
};

// Counts complete responses in c.in from c.parsed on.
void count_responses(Conn& c) {
  while (true) {
    std::string_view rest = std::string_view(c.in).substr(c.parsed);
    auto end = rest.find("\r\n\r\n");
    if (end == std::string_view::npos) return;
    std::string head(rest.substr(0, end));
    for (auto& ch : head) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    size_t body_start = end + 4;
    bool informational = head.rfind("http/1.1 1", 0) == 0;
    auto cl = head.find("\r\ncontent-length:");
    if (informational) {
      c.parsed += body_start;
      continue;
    }
    if (cl != std::string::npos) {
      size_t n = std::strtoull(head.c_str() + cl + 17, nullptr, 10);
      if (rest.size() < body_start + n) return;
      c.parsed += body_start + n;
      ++c.responses;
      continue;
    }
    if (head.find("transfer-encoding: chunked") != std::string::npos) {
      size_t pos = body_start;
      while (true) {
        auto eol = rest.find("\r\n", pos);
        if (eol == std::string_view::npos) return;
        size_t n = std::strtoull(std::string(rest.substr(pos, eol - pos)).c_str(), nullptr, 16);
        pos = eol + 2 + n + 2;
        if (pos > rest.size()) return;
        if (n == 0) break;
      }
      c.parsed += pos;
      ++c.responses;
      continue;
    }
    return;  // close-delimited: counted when the connection closes
  }
}

// Reads what is available within `ms`; false once the connection is closed.
bool read_some(Conn& c, int ms) {
  pollfd p{c.fd, POLLIN, 0};
  int r = ::poll(&p, 1, ms);
  if (r <= 0) return true;
  char buf[65536];
  ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
  if (n > 0) {
    c.in.append(buf, static_cast<size_t>(n));
    std::fwrite(buf, 1, static_cast<size_t>(n), stdout);
    count_responses(c);
    return true;
  }
  if (n == 0)
    c.closed = "fin";
  else if (errno == ECONNRESET)
    c.closed = "rst";
  else
    c.closed = std::string("error:") + std::strerror(errno);
  return false;
}

}  // namespace

int main(int argc, char** argv) {
  std::string host = "192.0.2.2";
  int port = 80;
  int i = 1;
  for (; i + 1 < argc; i += 2) {
    std::string_view a = argv[i];
    if (a == "--host")
      host = argv[i + 1];
    else if (a == "--port")
      port = std::atoi(argv[i + 1]);
    else
      break;
  }
  Conn c;
  c.fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, host.c_str(), &addr.sin_addr);
  if (::connect(c.fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    std::fprintf(stderr, "http_raw: connect: %s\nresult: closed=refused responses=0 since_mark=0\n",
                 std::strerror(errno));
    return 1;
  }
  sockaddr_in local{};
  socklen_t local_len = sizeof local;
  ::getsockname(c.fd, reinterpret_cast<sockaddr*>(&local), &local_len);
  auto mark = Clock::now();
  for (; i < argc; ++i) {
    std::string_view a = argv[i];
    bool has_arg = i + 1 < argc;
    if (a == "--send" && has_arg) {
      std::string data = unescape(argv[++i]);
      if (::send(c.fd, data.data(), data.size(), MSG_NOSIGNAL) != static_cast<ssize_t>(data.size()))
        std::fprintf(stderr, "http_raw: send: %s\n", std::strerror(errno));
    } else if (a == "--sleep" && has_arg) {
      ::usleep(static_cast<useconds_t>(std::atoi(argv[++i])) * 1000);
    } else if (a == "--mark") {
      mark = Clock::now();
    } else if (a == "--shut-wr") {
      ::shutdown(c.fd, SHUT_WR);
    } else if (a == "--responses" && has_arg) {
      int want = std::atoi(argv[++i]);
      auto until = Clock::now() + std::chrono::seconds(30);
      while (c.responses < want && c.closed == "open" && Clock::now() < until) read_some(c, 100);
    } else if (a == "--wait-close" && has_arg) {
      auto until = Clock::now() + std::chrono::milliseconds(static_cast<int>(std::atof(argv[++i]) * 1000));
      while (c.closed == "open" && Clock::now() < until) read_some(c, 20);
    } else {
      std::fprintf(stderr, "http_raw: bad argument '%s'\n", argv[i]);
      return 2;
    }
  }
  if (c.closed != "open" && c.parsed < c.in.size() && c.in.find("\r\n\r\n", c.parsed) != std::string::npos)
    ++c.responses;  // a close-delimited body ended with the connection
  std::fflush(stdout);
  double since = std::chrono::duration<double>(Clock::now() - mark).count();
  std::fprintf(stderr, "result: closed=%s responses=%d since_mark=%.3f local_port=%u\n", c.closed.c_str(),
               c.responses, since, ntohs(local.sin_port));
  ::close(c.fd);
  return 0;
}
