// A file's two validators (RFC 9110 §8.8): what a 200 for it carries as ETag and Last-Modified,
// and what a conditional request is compared against.
#pragma once
#include <ctime>
#include <string>

namespace tcplab::http {

struct Validators {
  // RFC 9110 §8.8.3: a strong entity-tag, quotes included, made from the file's inode, size
  // and modification time in nanoseconds (an edit changes at least one of them, except one
  // that keeps the size and lands in the same tick of the file system's clock).
  std::string etag;
  // RFC 9110 §8.8.2: the modification time in whole seconds, never later than `now` (an origin
  // server SHOULD NOT send a Last-Modified later than its Date, §8.8.2.1).
  std::time_t last_modified = 0;
  std::string last_modified_text;  // as IMF-fixdate

  bool operator==(const Validators&) const = default;
};

}  // namespace tcplab::http
