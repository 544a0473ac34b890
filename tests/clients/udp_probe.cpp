// udp_probe ADDR PORT [TIMEOUT_MS]: sends one UDP datagram on a connected socket and reports
// whether the kernel turned an ICMP port unreachable into ECONNREFUSED (RFC 1122 §4.1.3.3).
// Exit 0 and "ECONNREFUSED" on refusal; 1 on silence, an answer or any other error.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: udp_probe ADDR PORT [TIMEOUT_MS]\n");
    return 2;
  }
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(static_cast<uint16_t>(std::atoi(argv[2])));
  if (inet_pton(AF_INET, argv[1], &to.sin_addr) != 1) {
    std::fprintf(stderr, "udp_probe: bad address %s\n", argv[1]);
    return 2;
  }
  int timeout_ms = argc > 3 ? std::atoi(argv[3]) : 2000;
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  // Only a connected UDP socket hears about ICMP errors for what it sent.
  if (fd < 0 || connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof to) != 0) {
    std::fprintf(stderr, "udp_probe: socket/connect: %s\n", std::strerror(errno));
    return 1;
  }
  const char probe[] = "tcplab udp probe";
  if (send(fd, probe, sizeof probe - 1, 0) < 0) {
    std::printf("udp_probe: send failed: %s\n", std::strerror(errno));
    return 1;
  }
  pollfd p{fd, POLLIN, 0};
  int ready = poll(&p, 1, timeout_ms);
  if (ready == 0) {
    std::printf("udp_probe: no answer within %d ms\n", timeout_ms);
    return 1;
  }
  char buf[64];
  ssize_t n = recv(fd, buf, sizeof buf, 0);
  if (n < 0 && errno == ECONNREFUSED) {
    std::printf("udp_probe: ECONNREFUSED\n");
    return 0;
  }
  if (n < 0) {
    std::printf("udp_probe: recv: %s\n", std::strerror(errno));
  } else {
    std::printf("udp_probe: unexpected answer of %zd bytes\n", n);
  }
  close(fd);
  return 1;
}
