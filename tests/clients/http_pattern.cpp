// Writes N bytes of the /bytes/N pattern (byte i = i % 251) to stdout, so integration tests
// can hash what the server should have sent: http_pattern N | sha256sum
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: http_pattern N\n");
    return 2;
  }
  uint64_t n = std::strtoull(argv[1], nullptr, 10);
  // 251 * 256 bytes: a whole number of periods, so every buffer is the same.
  std::vector<char> buf(251 * 256);
  for (size_t i = 0; i < buf.size(); ++i) buf[i] = static_cast<char>(i % 251);
  while (n > 0) {
    size_t chunk = n < buf.size() ? static_cast<size_t>(n) : buf.size();
    size_t off = 0;
    while (off < chunk) {
      ssize_t w = ::write(1, buf.data() + off, chunk - off);
      if (w <= 0) return 1;
      off += static_cast<size_t>(w);
    }
    n -= chunk;
  }
  return 0;
}
