#include "stack/text/shortest_seconds.hpp"

#include <charconv>
#include <chrono>
#include <system_error>

namespace tcplab::text {

std::string shortest_seconds(Duration d) {
  const double seconds = std::chrono::duration<double>(d).count();
  char text[32];
  auto [end, ec] = std::to_chars(text, text + sizeof text, seconds);
  return ec == std::errc() ? std::string(text, end) : std::to_string(seconds);
}

}  // namespace tcplab::text
