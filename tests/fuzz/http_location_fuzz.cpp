// Fuzz target for `tcplab get -L`'s Location resolution (http/client_request): the input is a
// Location value. Whatever it holds, resolving it against a base URL throws nothing, and a URL
// it yields is one parse_url takes again whole: an http:// URL with a dotted IPv4 address, a
// path that starts with '/', and no dot segment left in that path.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "http/client_request.hpp"
#include "tests/fuzz/fuzz_check.hpp"

using namespace tcplab::http;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const Url base = [] {
    std::string error;
    return *parse_url("http://192.0.2.1:8000/a/b/c?q=1", error);
  }();
  const std::string_view location(reinterpret_cast<const char*>(data), size);
  std::string error;
  const auto url = resolve_location(base, location, error);
  if (!url) {
    FUZZ_CHECK(!error.empty());
    return 0;
  }
  std::string again_error;
  const auto again = parse_url(url->text, again_error);
  FUZZ_CHECK(again.has_value());
  FUZZ_CHECK(again->path == url->path && again->authority == url->authority && again->port == url->port);
  FUZZ_CHECK(url->path.starts_with('/'));
  const std::string_view path = std::string_view(url->path).substr(0, url->path.find('?'));
  // RFC 3986 §5.2.4: what remove_dot_segments leaves has no "." or ".." segment.
  for (std::string_view dot : {"/./", "/../"}) FUZZ_CHECK(path.find(dot) == std::string_view::npos);
  FUZZ_CHECK(!path.ends_with("/.") && !path.ends_with("/.."));
  return 0;
}
