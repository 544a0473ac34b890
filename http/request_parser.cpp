// Incremental HTTP/1.x request parsing: request line, field lines, Content-Length and chunked
// bodies, with every limit and malformed-input case mapped to its status (RFC 9112).
#include "http/request_parser.hpp"

#include <algorithm>
#include <cctype>

#include "http/syntax.hpp"

namespace tcplab::http {
namespace {

using syntax::iequals;
using syntax::is_digit;
using syntax::is_tchar;
using syntax::starts_with_ci;
using syntax::lower;
using syntax::split_field_line;
using syntax::trim_ows;

// What a parser reused for the next request keeps of its buffers: enough for ordinary requests,
// while one that carried a large body or long lines gives that memory back.
constexpr size_t kKeptBodyCapacity = 16 * 1024;
constexpr size_t kKeptLineCapacity = 4 * 1024;

bool is_token(std::string_view s) { return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar); }

bool is_hexdig(char c) { return std::isxdigit(static_cast<unsigned char>(c)) != 0; }

// RFC 3986 §2.3 unreserved = ALPHA / DIGIT / "-" / "." / "_" / "~", and
// RFC 3986 §2.2 sub-delims = "!" / "$" / "&" / "'" / "(" / ")" / "*" / "+" / "," / ";" / "=".
constexpr syntax::ByteSet kUnreservedOrSubDelim = syntax::alnum_and("-._~" "!$&'()*+,;=");
bool is_unreserved_or_sub_delim(char c) { return syntax::in_set(kUnreservedOrSubDelim, c); }

// RFC 3986 §3.2.2 reg-name = *( unreserved / pct-encoded / sub-delims ); IPv4address is a
// subset of it. No "@" (userinfo), no ":" (that starts the port), no whitespace.
bool is_reg_name(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%') {
      if (i + 2 >= s.size() || !is_hexdig(s[i + 1]) || !is_hexdig(s[i + 2])) return false;
      i += 2;
    } else if (!is_unreserved_or_sub_delim(s[i])) {
      return false;
    }
  }
  return true;
}

// RFC 3986 §3.2.2 IP-literal = "[" ( IPv6address / IPvFuture ) "]", without the brackets:
// IPv6 as its character set (HEXDIG, ":", "." for an embedded IPv4 part, at least one ":"),
// IPvFuture = "v" 1*HEXDIG "." 1*( unreserved / sub-delims / ":" ).
bool is_ip_literal_body(std::string_view s) {
  if (!s.empty() && (s.front() == 'v' || s.front() == 'V')) {
    auto dot = s.find('.');
    if (dot == std::string_view::npos || dot < 2 || dot + 1 == s.size()) return false;
    auto version = s.substr(1, dot - 1);
    auto rest = s.substr(dot + 1);
    return std::all_of(version.begin(), version.end(), is_hexdig) &&
           std::all_of(rest.begin(), rest.end(),
                       [](char c) { return is_unreserved_or_sub_delim(c) || c == ':'; });
  }
  return s.find(':') != std::string_view::npos &&
         std::all_of(s.begin(), s.end(), [](char c) { return is_hexdig(c) || c == ':' || c == '.'; });
}

// RFC 9112 §3.2: Host = uri-host [ ":" port ] (RFC 3986 §3.2.2, §3.2.3 port = *DIGIT).
bool is_valid_host(std::string_view v) {
  std::string_view port;
  if (!v.empty() && v.front() == '[') {
    auto close = v.find(']');
    if (close == std::string_view::npos || !is_ip_literal_body(v.substr(1, close - 1))) return false;
    auto rest = v.substr(close + 1);
    if (!rest.empty() && rest.front() != ':') return false;
    if (!rest.empty()) port = rest.substr(1);
  } else {
    auto colon = v.find(':');
    if (!is_reg_name(v.substr(0, colon))) return false;
    if (colon != std::string_view::npos) port = v.substr(colon + 1);
  }
  return std::all_of(port.begin(), port.end(), is_digit);
}

// Appends the items of a comma-separated list (RFC 9110 §5.6.1) to `out`, lower-cased, OWS
// trimmed, empty elements skipped.
void append_list(std::string_view value, std::vector<std::string>& out) {
  while (true) {
    auto comma = value.find(',');
    auto item = trim_ows(value.substr(0, comma));
    if (!item.empty()) {
      std::string s(item);
      for (auto& c : s) c = lower(c);
      out.push_back(std::move(s));
    }
    if (comma == std::string_view::npos) break;
    value.remove_prefix(comma + 1);
  }
}

// RFC 9110 §8.6 Content-Length = 1*DIGIT and RFC 9112 §7.1 chunk-size = 1*HEXDIG: any number
// of digits, leading zeros included. What is limited is the value: `max_digits` significant
// digits at most, so the value cannot overflow 64 bits.
std::optional<uint64_t> parse_number(std::string_view digits, int base, size_t max_digits) {
  auto is_digit_of_base = [&](char c) { return base == 16 ? is_hexdig(c) : is_digit(c); };
  if (digits.empty() || !std::all_of(digits.begin(), digits.end(), is_digit_of_base)) return std::nullopt;
  auto first = digits.find_first_not_of('0');
  if (first == std::string_view::npos) return 0;
  digits.remove_prefix(first);
  if (digits.size() > max_digits) return std::nullopt;
  uint64_t n = 0;
  for (char c : digits) {
    char d = lower(c);
    n = n * static_cast<uint64_t>(base) + static_cast<uint64_t>(d <= '9' ? d - '0' : d - 'a' + 10);
  }
  return n;
}

// The same as a list of its own.
std::vector<std::string> split_list(std::string_view value) {
  std::vector<std::string> out;
  append_list(value, out);
  return out;
}

}  // namespace

std::string_view Request::header(std::string_view name) const {
  for (const auto& h : headers)
    if (iequals(h.name, name)) return h.value;
  return {};
}

std::optional<std::string> Request::field_list(std::string_view name) const {
  std::optional<std::string> joined;
  for (const auto& h : headers) {
    if (!iequals(h.name, name)) continue;
    if (joined)
      *joined += ", " + h.value;
    else
      joined = h.value;
  }
  return joined;
}

bool Request::has_connection_token(std::string_view token) const {
  return std::find(connection.begin(), connection.end(), token) != connection.end();
}

bool is_known_method(std::string_view m) {
  static constexpr std::string_view kKnown[] = {"GET",     "HEAD",    "POST",  "PUT",  "DELETE",
                                                "CONNECT", "OPTIONS", "TRACE", "PATCH"};
  return std::find(std::begin(kKnown), std::end(kKnown), m) != std::end(kKnown);
}

RequestParser::RequestParser(ParserLimits limits) : limits_(limits) {}

bool RequestParser::awaiting_body() const {
  return stage_ == Stage::Body || stage_ == Stage::ChunkSize || stage_ == Stage::ChunkData ||
         stage_ == Stage::ChunkEnd;
}

void Request::clear() {
  method.clear();
  target.clear();
  minor = 1;
  headers.clear();
  // A large body's buffer is given back rather than kept for requests that rarely need it.
  if (body.capacity() > kKeptBodyCapacity) body = std::string();
  body.clear();
  chunked = false;
  content_length.reset();
  connection.clear();
  expect_continue = false;
}

Request RequestParser::take() {
  Request out = std::move(request_);
  request_ = Request{};
  restart();
  return out;
}

void RequestParser::next() {
  request_.clear();
  restart();
  if (line_.capacity() > kKeptLineCapacity) line_ = std::string();
  if (complete_line_.capacity() > kKeptLineCapacity) complete_line_ = std::string();
}

void RequestParser::restart() {
  stage_ = Stage::RequestLine;
  status_ = Status::NeedMore;
  line_.clear();
  started_ = false;
  empty_lines_ = header_bytes_ = fields_ = trailer_fields_ = 0;
  remaining_ = 0;
}

bool RequestParser::fail(int status, std::string_view detail) {
  stage_ = Stage::Failed;
  status_ = Status::Error;
  error_status_ = status;
  error_detail_ = detail;
  return false;
}

size_t RequestParser::line_limit() const {
  switch (stage_) {
    case Stage::RequestLine:
      return limits_.max_request_line;
    case Stage::Headers:
    case Stage::Trailers:
      return limits_.max_header_bytes - std::min(header_bytes_, limits_.max_header_bytes);
    default:
      return limits_.max_chunk_line;
  }
}

std::string_view RequestParser::line_limit_detail() const {
  switch (stage_) {
    case Stage::RequestLine:
      return "request line too long";
    case Stage::Headers:
    case Stage::Trailers:
      return "header section too large";
    default:
      return "chunk line too long";  // a chunk-size line with its extensions, or chunk data's CRLF
  }
}

int RequestParser::line_limit_status() const {
  switch (stage_) {
    case Stage::RequestLine:
      return 414;  // RFC 9112 §3: a request-target longer than we parse
    case Stage::Headers:
    case Stage::Trailers:
      return 431;  // RFC 6585 §5: Request Header Fields Too Large
    default:
      return 400;
  }
}

size_t RequestParser::feed(std::string_view data) {
  size_t used = 0;
  while (used < data.size() && status_ == Status::NeedMore) {
    auto rest = data.substr(used);
    if (stage_ == Stage::Body || stage_ == Stage::ChunkData) {
      // Bulk copy: bodies are not scanned byte by byte.
      size_t n = static_cast<size_t>(std::min<uint64_t>(remaining_, rest.size()));
      request_.body.append(rest.substr(0, n));
      used += n;
      remaining_ -= n;
      if (remaining_ == 0) {
        if (stage_ == Stage::Body) {
          stage_ = Stage::Done;
          status_ = Status::Complete;
        } else {
          stage_ = Stage::ChunkEnd;
        }
      }
      continue;
    }
    // Line-oriented stages: collect up to LF, enforcing the stage's limit as bytes arrive so
    // an endless line is refused early instead of buffered.
    started_ = true;
    auto lf = rest.find('\n');
    auto piece = rest.substr(0, lf == std::string_view::npos ? rest.size() : lf);
    // The line limit excludes the CRLF itself; a final CR whose LF has not arrived yet may
    // be the start of that CRLF, so it does not count either (the verdict must not depend on
    // where the bytes were split).
    size_t content = line_.size() + piece.size();
    if (content > 0 && (piece.empty() ? line_.back() : piece.back()) == '\r') --content;
    if (content > line_limit()) {
      // The verdict must not depend on how the bytes were split: fed one byte at a time, a
      // bare CR whose next byte arrives before the limit is passed is refused first.
      if (bare_cr_before(piece, line_limit())) {
        fail(400, "bare CR");
        return used;
      }
      if (stage_ == Stage::RequestLine && !space_before(piece, line_limit())) {
        // RFC 9112 §3: a method longer than any we implement is 501, not a long target (414).
        fail(501, "method too long");
        return used;
      }
      fail(line_limit_status(), line_limit_detail());
      return used;
    }
    // A line that arrived whole is parsed where it lies; only one split across reads is
    // gathered in line_ first (on_line copies what it keeps, so a view into `data` will do).
    const bool in_place = line_.empty() && lf != std::string_view::npos;
    if (!in_place) line_.append(piece);
    if (lf == std::string_view::npos) {
      used += piece.size();
      // A CR may only end a line; anything after it inside the line is a bare CR.
      break;
    }
    used += piece.size() + 1;
    std::string_view line = in_place ? piece : std::string_view(line_);
    // RFC 9112 §2.2: lines end in CRLF; we also accept a bare LF there (a MAY) but a CR
    // anywhere else is a bare CR, which the same section says to reject or replace.
    bool crlf = !line.empty() && line.back() == '\r';
    if (crlf) line.remove_suffix(1);
    // That MAY is not taken in the chunked framing (RFC 9112 §7.1 spells every chunk line
    // with CRLF): a peer that reads a bare LF differently from us there sees a different body
    // end, which is how request smuggling begins (RFC 9112 §11.2).
    if (!crlf && (stage_ == Stage::ChunkSize || stage_ == Stage::ChunkEnd || stage_ == Stage::Trailers)) {
      fail(400, "bare LF in chunked framing");
      return used;
    }
    if (line.find('\r') != std::string_view::npos) {
      fail(400, "bare CR");
      return used;
    }
    if (!in_place) {
      complete_line_.assign(line);  // on_line may clear line_; both keep their buffers
      line_.clear();
      line = complete_line_;
    }
    if (!on_line(line)) return used;
  }
  if (stage_ != Stage::Body && stage_ != Stage::ChunkData && status_ == Status::NeedMore) {
    // A CR followed by something other than LF inside a pending line is also a bare CR.
    auto cr = line_.find('\r');
    if (cr != std::string::npos && cr + 1 < line_.size()) fail(400, "bare CR");
  }
  return used;
}

bool RequestParser::space_before(std::string_view piece, size_t limit) const {
  // Only the first `limit` bytes count, so that the verdict is the same however the line
  // was split (fed a byte at a time, the parser never sees past limit + 1 bytes).
  if (line_.substr(0, limit).find(' ') != std::string::npos) return true;
  if (line_.size() >= limit) return false;
  return piece.substr(0, limit - line_.size()).find(' ') != std::string_view::npos;
}

bool RequestParser::bare_cr_before(std::string_view piece, size_t limit) const {
  // line_ never holds a bare CR (feed() refuses it as soon as the byte after it arrives),
  // but it may end in a CR whose next byte is piece's first.
  size_t cr = std::string::npos;
  char next = 0;
  if (!line_.empty() && line_.back() == '\r' && !piece.empty()) {
    cr = line_.size() - 1;
    next = piece.front();
  } else {
    auto k = piece.find('\r');
    if (k != std::string_view::npos && k + 1 < piece.size()) {
      cr = line_.size() + k;
      next = piece[k + 1];
    }
  }
  if (cr == std::string::npos) return false;
  // Fed a byte at a time, the byte after the CR is taken (and the bare CR seen) if the line
  // is still within the limit with it; a final CR does not count towards the limit, so a
  // second CR there fits one byte later than anything else would.
  size_t counted = next == '\r' ? cr + 1 : cr + 2;
  return counted <= limit;
}

bool RequestParser::on_line(std::string_view line) {
  switch (stage_) {
    case Stage::RequestLine:
      if (line.empty()) {
        // RFC 9112 §2.2: a server SHOULD ignore at least one empty line before the request.
        if (++empty_lines_ > limits_.max_leading_empty_lines) return fail(400, "too many empty lines");
        started_ = false;
        return true;
      }
      return on_request_line(line);
    case Stage::Headers:
      header_bytes_ += line.size() + 2;
      if (header_bytes_ > limits_.max_header_bytes) return fail(431, "header section too large");
      if (line.empty()) return on_headers_end();
      return on_header_line(line);
    case Stage::ChunkSize:
      return on_chunk_size_line(line);
    case Stage::ChunkEnd:
      // RFC 9112 §7.1: chunk-data is followed by CRLF.
      if (!line.empty()) return fail(400, "chunk data longer than its size");
      stage_ = Stage::ChunkSize;
      return true;
    case Stage::Trailers:
      // RFC 9112 §7.1.2: trailer fields are parsed but we use none of them.
      header_bytes_ += line.size() + 2;
      if (header_bytes_ > limits_.max_header_bytes) return fail(431, "trailer section too large");
      if (line.empty()) {
        stage_ = Stage::Done;
        status_ = Status::Complete;
        return true;
      }
      if (++trailer_fields_ + fields_ > limits_.max_fields) return fail(431, "too many trailer fields");
      {
        // Trailer fields are field lines like those of the header section (RFC 9112 §7.1.2),
        // and malformed ones get the same 400 even though none of them is used.
        std::string_view name, value;
        if (auto fault = split_field_line(line, name, value); fault != syntax::FieldLineFault::None)
          return fail(400, "trailer: " + std::string(syntax::describe(fault)));
      }
      return true;
    default:
      return fail(400, "unexpected state");
  }
}

bool RequestParser::on_request_line(std::string_view line) {
  // RFC 9112 §3: request-line = method SP request-target SP HTTP-version
  auto sp1 = line.find(' ');
  auto sp2 = sp1 == std::string_view::npos ? sp1 : line.find(' ', sp1 + 1);
  if (sp2 == std::string_view::npos || line.find(' ', sp2 + 1) != std::string_view::npos)
    return fail(400, "request line is not 'method target version'");
  auto method = line.substr(0, sp1);
  auto target = line.substr(sp1 + 1, sp2 - sp1 - 1);
  auto version = line.substr(sp2 + 1);
  if (!is_token(method)) return fail(400, "bad method token");
  // Kept even if the rest of the line is refused: an error response to HEAD has no content.
  request_.method = std::string(method);
  // The version first: a request of another major version is not parsed by HTTP/1.1's rules
  // for its target (the HTTP/2 connection preface "PRI * HTTP/2.0" gets 505, not a 400 for
  // its asterisk-form).
  // RFC 9112 §2.3: HTTP-version = "HTTP/" DIGIT "." DIGIT
  if (version.size() != 8 || !version.starts_with("HTTP/") || version[6] != '.' || version[5] < '0' ||
      version[5] > '9' || version[7] < '0' || version[7] > '9')
    return fail(400, "malformed HTTP version");
  int major = version[5] - '0';
  int minor = version[7] - '0';
  // RFC 9110 §6.2 / §15.6.6: we speak HTTP/1.x only; 0.9, 2 and 3 get 505.
  if (major != 1) return fail(505, "HTTP version not supported");
  if (target.empty()) return fail(400, "empty request target");
  // Deviation (raw-bytes-in-target): bytes above 0x7F are let through, although a URI is ASCII
  // with the rest percent-encoded (RFC 3986 §2): curl sends a UTF-8 name typed in a URL
  // unescaped, and nginx serves it; the file lookup treats both spellings alike.
  for (char c : target)
    if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return fail(400, "control character in target");
  // RFC 9112 §3.2: no form of request-target has a fragment; a client strips "#..." before it
  // sends (RFC 9110 §4.2.5), and taking one as part of the path or query would answer a URL
  // the client never meant.
  if (target.find('#') != std::string_view::npos) return fail(400, "fragment (#) in request target");
  // RFC 9112 §3.2: origin-form, absolute-form, authority-form (CONNECT) or asterisk-form.
  // RFC 3986 §3.1: the scheme of an absolute-form target is case-insensitive.
  std::string_view authority;
  bool absolute = false;
  for (std::string_view scheme : {"http://", "https://"}) {
    if (!starts_with_ci(target, scheme)) continue;
    absolute = true;
    authority = target.substr(scheme.size());
    authority = authority.substr(0, authority.find_first_of("/?#"));
  }
  if (absolute) {
    // RFC 9110 §4.2.4: userinfo in an http(s) URI is to be treated as an error (it is how
    // credentials leak and how a reader is misled about the host); the same 400 as in Host.
    if (authority.find('@') != std::string_view::npos) return fail(400, "userinfo in request target");
    // RFC 9110 §4.2.1: an http URI with an empty host is invalid and must be rejected.
    if (authority.empty() || authority.front() == ':' || !is_valid_host(authority))
      return fail(400, "invalid authority in request target");
  } else if (target.front() != '/' && target != "*") {
    // RFC 9112 §3.2.3: authority-form = uri-host ":" port, used only by CONNECT; the request
    // is well-formed (the site answers 405: this server is not a proxy).
    auto colon = target.rfind(':');
    auto port = colon == std::string_view::npos ? std::string_view() : target.substr(colon + 1);
    bool has_port = colon != 0 && !port.empty() && std::all_of(port.begin(), port.end(), is_digit);
    if (method != "CONNECT" || !has_port || !is_valid_host(target))
      return fail(400, "bad request-target form");
  }
  // RFC 9112 §3.2.4: the asterisk-form is only for a server-wide OPTIONS.
  if (target == "*" && method != "OPTIONS")
    return fail(400, "asterisk-form with a method other than OPTIONS");
  // RFC 9110 §2.5: a higher minor version of 1.x is understood as 1.1 (what we implement).
  request_.minor = std::min(minor, 1);
  request_.target = std::string(target);
  started_ = true;
  // RFC 9110 §9.1: a method we do not recognise is 501 Not Implemented.
  if (!is_known_method(method)) return fail(501, "unknown method");
  stage_ = Stage::Headers;
  return true;
}

bool RequestParser::on_header_line(std::string_view line) {
  std::string_view name, value;
  // RFC 9112 §5.2: obs-fold in a request is 400, as is any other malformed field line.
  if (auto fault = split_field_line(line, name, value); fault != syntax::FieldLineFault::None)
    return fail(400, syntax::describe(fault));
  if (++fields_ > limits_.max_fields) return fail(431, "too many header fields");
  request_.headers.push_back(Header{std::string(name), std::string(value)});
  return true;
}

bool RequestParser::on_headers_end() {
  auto& r = request_;
  size_t hosts = 0;
  std::vector<std::string> te;
  bool te_seen = false;
  std::optional<uint64_t> length;
  for (const auto& h : r.headers) {
    if (iequals(h.name, "host")) {
      ++hosts;
      // RFC 9112 §3.2: a Host field with an invalid value gets 400 (userinfo, spaces, a port
      // that is not all digits): it is what the server would route on.
      if (!is_valid_host(h.value)) return fail(400, "invalid Host");
    } else if (iequals(h.name, "connection")) {
      append_list(h.value, r.connection);
    } else if (iequals(h.name, "transfer-encoding")) {
      te_seen = true;
      for (auto& t : split_list(h.value)) te.push_back(std::move(t));
    } else if (iequals(h.name, "expect")) {
      // RFC 9110 §10.1.1: Expect is a list, its expectations case-insensitive; 100-continue is
      // the only one defined, and a server MAY ignore (or 417) the others.
      for (const auto& expectation : split_list(h.value))
        if (iequals(expectation, "100-continue")) r.expect_continue = true;
    } else if (iequals(h.name, "content-length")) {
      // RFC 9110 §8.6: a list of identical values may be accepted as one; anything else,
      // and any non-digit, is an invalid Content-Length -> 400 (RFC 9112 §6.3 item 5).
      std::string_view v = h.value;
      auto items = split_list(v);
      if (items.empty()) return fail(400, "empty Content-Length");
      for (const auto& item : items) {
        auto n = parse_number(item, 10, 18);
        if (!n) return fail(400, "invalid Content-Length");
        if (length && *length != *n) return fail(400, "conflicting Content-Length");
        length = n;
      }
    }
  }
  // RFC 9112 §3.2: a 1.1 request without Host, or with more than one, gets 400.
  if (r.minor == 1 && hosts != 1) return fail(400, hosts == 0 ? "missing Host" : "more than one Host");
  if (hosts > 1) return fail(400, "more than one Host");
  if (te_seen) {
    // RFC 9112 §6.1: Transfer-Encoding in an HTTP/1.0 message means faulty framing.
    if (r.minor == 0) return fail(400, "Transfer-Encoding in HTTP/1.0");
    // RFC 9112 §6.3 item 3 and §11.2: TE with CL is how requests are smuggled; refuse it.
    if (length) return fail(400, "Transfer-Encoding with Content-Length");
    // RFC 9112 §6.3: chunked must be the final coding, else the length is unknowable -> 400.
    if (te.empty() || te.back() != "chunked") return fail(400, "chunked is not the final transfer coding");
    // RFC 9112 §6.1: a sender MUST NOT apply chunked more than once; refusing such a request
    // is our choice.
    if (std::count(te.begin(), te.end(), "chunked") > 1) return fail(400, "chunked applied twice");
    // RFC 9112 §6.1: a transfer coding we do not implement -> 501.
    if (te.size() > 1) return fail(501, "unsupported transfer coding");
    r.chunked = true;
    stage_ = Stage::ChunkSize;
    return true;
  }
  r.content_length = length;
  if (length && *length > limits_.max_body) return fail(413, "body larger than the limit (--max-body)");
  if (length && *length > 0) {
    remaining_ = *length;
    stage_ = Stage::Body;
    return true;
  }
  // RFC 9112 §6.3 item 7: no CL, no TE -> a request has no body.
  stage_ = Stage::Done;
  status_ = Status::Complete;
  return true;
}

bool RequestParser::on_chunk_size_line(std::string_view line) {
  // RFC 9112 §7.1: chunk-size = 1*HEXDIG, then optional chunk extensions (checked, ignored).
  size_t i = 0;
  while (i < line.size() && is_hexdig(line[i])) ++i;
  if (i == 0) return fail(400, "bad chunk size");
  auto parsed = parse_number(line.substr(0, i), 16, 15);
  if (!parsed) return fail(400, "chunk size too large");
  uint64_t size = *parsed;
  if (!syntax::is_chunk_ext(line.substr(i))) return fail(400, "bad chunk size line");
  if (size == 0) {
    stage_ = Stage::Trailers;
    return true;
  }
  if (request_.body.size() + size > limits_.max_body)
    return fail(413, "chunked body larger than the limit (--max-body)");
  remaining_ = size;
  stage_ = Stage::ChunkData;
  return true;
}

}  // namespace tcplab::http
