// Response heads (RFC 9112 §4, RFC 9110 §6.6): status line, Date, Server, framing, type,
// Connection/Keep-Alive as the policy decided. Pure functions: the date comes in as a value.
#pragma once
#include <array>
#include <cstdint>
#include <ctime>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "http/keepalive_policy.hpp"
#include "http/validators.hpp"

namespace tcplab::http {

struct ResponseHead {
  int status = 200;
  // Empty: no Content-Type. Always text with static storage (a literal, mime_type_for's table),
  // so that setting it per response copies nothing.
  std::string_view content_type;
  std::optional<uint64_t> content_length;  // nullopt: Transfer-Encoding: chunked
  bool close_delimited = false;            // no length, no chunked: the body ends at close (HTTP/1.0)
  bool accept_ranges = false;              // "Accept-Ranges: bytes" (RFC 9110 §14.3)
  // A file's ETag and Last-Modified (RFC 9110 §8.8), written before `headers`. Shared with the
  // --root file cache, which makes them once per check of the file, so a response for a cached
  // file copies no header text.
  std::shared_ptr<const Validators> validators;
  std::vector<std::pair<std::string, std::string>> headers;  // extra fields (Allow, ...)

  // The value of the extra field `name` (ETag, Last-Modified, Content-Range, ...) as it will be
  // written, from `headers` or `validators`; empty when there is none.
  std::string_view field(std::string_view name) const;
};

std::string_view reason_phrase(int status);

// The day and month names of an HTTP-date (RFC 9110 §5.6.7), Sunday first as struct tm counts.
inline constexpr std::array<std::string_view, 7> kHttpDayNames = {"Sun", "Mon", "Tue", "Wed",
                                                                  "Thu", "Fri", "Sat"};
inline constexpr std::array<std::string_view, 12> kHttpMonthNames = {
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

// IMF-fixdate (RFC 9110 §5.6.7): "Sun, 06 Nov 1994 08:49:37 GMT".
std::string format_http_date(std::time_t t);

// The whole head, ending in the empty line. keepalive_timeout_s feeds Keep-Alive: timeout=
// (left out when 0).
std::string render_head(const ResponseHead& head, const KeepAliveDecision& decision, std::string_view date,
                        uint64_t keepalive_timeout_s);
// The same appended to `out`, so a caller can put the head and the body in one buffer.
void append_head(std::string& out, const ResponseHead& head, const KeepAliveDecision& decision,
                 std::string_view date, uint64_t keepalive_timeout_s);
// Room enough for a head render_head writes with no extra fields and a short content type.
inline constexpr size_t kTypicalHeadSize = 256;

// Chunked framing (RFC 9112 §7.1) of one chunk into `out` (appends); an empty chunk is
// never written here because a zero-size chunk ends the body: use kLastChunk.
void append_chunk(std::string& out, std::string_view data);
inline constexpr std::string_view kLastChunk = "0\r\n\r\n";

}  // namespace tcplab::http
