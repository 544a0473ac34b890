// Conditional requests for files under --root (RFC 9110 §8.8, §13): every file is sent with
// two validators, an entity-tag and its modification time, and a client that already holds a
// copy (a browser's cache, `curl --etag-compare`, `curl -z`) asks "only if it changed" and
// gets 304 Not Modified with no content. Pure functions: the request, the validators and the
// current time come in as values.
#pragma once
#include <sys/stat.h>

#include <ctime>
#include <optional>
#include <string>
#include <string_view>

#include "http/request_parser.hpp"
#include "http/validators.hpp"

namespace tcplab::http {

Validators validators_for(const struct stat& st, std::time_t now);

// RFC 9110 §5.6.7: a recipient MUST accept all three HTTP-date forms: IMF-fixdate
// ("Sun, 06 Nov 1994 08:49:37 GMT"), the obsolete RFC 850 form ("Sunday, 06-Nov-94 08:49:37
// GMT") and asctime's ("Sun Nov  6 08:49:37 1994"). Seconds since the epoch, or nullopt.
// `now` places RFC 850's two-digit years: one more than 50 years ahead is the century before.
std::optional<std::time_t> parse_http_date(std::string_view text, std::time_t now);

// RFC 9110 §8.8.3.2: weak comparison (the W/ prefix is ignored) when `weak`, else strong
// (both tags strong and the same). True when any member of the list `field` (the field value,
// several field lines joined with ", ") matches `etag`, or when it is "*". A malformed list
// matches nothing.
bool entity_tag_list_matches(std::string_view field, std::string_view etag, bool weak);

// What the preconditions of a GET or HEAD decide (RFC 9110 §13.2.2).
enum class Precondition {
  Serve,        // no precondition, or all of them true: 200 as usual
  NotModified,  // If-None-Match or If-Modified-Since false: 304
  Failed,       // If-Match or If-Unmodified-Since false: 412
};

// Evaluates If-Match, If-Unmodified-Since, If-None-Match and If-Modified-Since in the order
// and with the precedence RFC 9110 §13.2.2 gives, for a resource that exists. `validators`
// null: one that has none (the built-in pages, /bytes/N, POST /echo), where only "*" holds
// ("If-Match: *") or fails ("If-None-Match: *"), a list of entity-tags matches nothing
// (§13.1.1, §13.1.2), and the two dates, with no modification time to compare, are ignored
// (§13.1.3, §13.1.4).
Precondition evaluate_preconditions(const Request& request, const Validators* validators, std::time_t now);

}  // namespace tcplab::http
