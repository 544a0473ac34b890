// Incremental HTTP/1.x response parsing: status line, field lines (obs-fold unfolded), the
// body framing of RFC 9112 §6.3, Content-Length, chunked and close-delimited bodies, with a
// named error for every malformed input.
#include "http/response_parser.hpp"

#include <algorithm>

#include "http/syntax.hpp"

namespace tcplab::http {
namespace {

using syntax::iequals;
using syntax::is_digit;
using syntax::FieldLineFault;
using syntax::has_control_byte;
using syntax::lower;
using syntax::split_field_line;
using syntax::trim_ows;

// RFC 9110 §5.6.1 list elements, OWS trimmed, empty elements skipped, lower-cased.
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

// A line quoted in an error message: at most 60 characters, control bytes escaped.
std::string quote(std::string_view line) {
  std::string out = "'";
  for (size_t i = 0; i < line.size() && i < 60; ++i) {
    unsigned char c = static_cast<unsigned char>(line[i]);
    if (c >= 0x20 && c < 0x7F) {
      out += static_cast<char>(c);
    } else {
      static const char* hex = "0123456789abcdef";
      out += "\\x";
      out += hex[c >> 4];
      out += hex[c & 15];
    }
  }
  if (line.size() > 60) out += "...";
  return out + "'";
}

}  // namespace

std::string_view to_string(BodyFraming framing) {
  switch (framing) {
    case BodyFraming::None:
      return "no body";
    case BodyFraming::Length:
      return "Content-Length";
    case BodyFraming::Chunked:
      return "chunked";
    case BodyFraming::UntilClose:
      return "until close";
  }
  return "?";
}

std::string_view ReceivedHead::header(std::string_view name) const {
  for (const auto& h : headers)
    if (iequals(h.name, name)) return h.value;
  return {};
}

bool ReceivedHead::has_connection_token(std::string_view token) const {
  return std::find(connection.begin(), connection.end(), token) != connection.end();
}

ResponseParser::ResponseParser(ResponseLimits limits) : limits_(limits) {}

void ResponseParser::expect(bool head_request) {
  *this = ResponseParser(limits_);
  head_request_ = head_request;
}

void ResponseParser::fail(std::string detail) {
  stage_ = Stage::Failed;
  status_ = Status::Error;
  error_ = std::move(detail);
}

size_t ResponseParser::line_limit() const {
  return (stage_ == Stage::ChunkSize || stage_ == Stage::ChunkEnd) ? limits_.max_chunk_line
                                                                   : limits_.max_line;
}

void ResponseParser::deliver(std::string_view piece, const BodySink& body) {
  body_bytes_ += piece.size();
  if (body && !piece.empty()) body(piece);
}

size_t ResponseParser::feed(std::string_view data, const BodySink& body) {
  size_t i = 0;
  while (i < data.size() && status_ == Status::NeedMore) {
    started_ = true;
    if (stage_ == Stage::Body || stage_ == Stage::ChunkData) {
      size_t n = data.size() - i;
      if (framing_ != BodyFraming::UntilClose) n = static_cast<size_t>(std::min<uint64_t>(remaining_, n));
      deliver(data.substr(i, n), body);
      i += n;
      if (framing_ == BodyFraming::UntilClose) continue;
      remaining_ -= n;
      if (remaining_ == 0) {
        if (stage_ == Stage::ChunkData) {
          stage_ = Stage::ChunkEnd;
        } else {
          stage_ = Stage::Done;
          status_ = Status::Complete;
        }
      }
      continue;
    }
    // A line: the status line, a field line, a chunk-size line, the CRLF after chunk data,
    // or a trailer. RFC 9112 §2.2: a bare LF may be taken as the end of a line.
    size_t nl = data.find('\n', i);
    size_t end = nl == std::string_view::npos ? data.size() : nl;
    std::string_view piece = data.substr(i, end - i);
    bool in_head = stage_ == Stage::StatusLine || stage_ == Stage::Headers;
    if (line_.size() + piece.size() > line_limit() + 1) {  // +1: the CR before LF
      if (stage_ == Stage::StatusLine) {
        fail("the status line is longer than " + std::to_string(limits_.max_line) + " bytes");
      } else if (in_head) {
        fail("a header field line is longer than " + std::to_string(limits_.max_line) + " bytes");
      } else {
        fail("a chunk-size line is longer than " + std::to_string(limits_.max_chunk_line) + " bytes");
      }
      return i;
    }
    line_.append(piece);
    size_t used = (nl == std::string_view::npos ? end : nl + 1) - i;
    i += used;
    if (in_head) {
      header_bytes_ += used;
      if (header_bytes_ > limits_.max_header_bytes) {
        fail("the response head is larger than " + std::to_string(limits_.max_header_bytes) + " bytes");
        return i;
      }
    }
    if (nl == std::string_view::npos) break;
    std::string_view line = line_;
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find('\r') != std::string_view::npos) {
      fail("a bare CR inside a line (RFC 9112 §2.2): " + quote(line));
      return i;
    }
    on_line(line);
    line_.clear();
  }
  return i;
}

void ResponseParser::on_line(std::string_view line) {
  switch (stage_) {
    case Stage::StatusLine:
      on_status_line(line);
      break;
    case Stage::Headers:
      if (line.empty()) {
        on_headers_end();
      } else {
        on_header_line(line);
      }
      break;
    case Stage::ChunkSize:
      on_chunk_size_line(line);
      break;
    case Stage::ChunkEnd:
      if (!line.empty()) {
        fail("chunk data is not followed by CRLF (RFC 9112 §7.1): " + quote(line));
        return;
      }
      stage_ = Stage::ChunkSize;
      break;
    case Stage::Trailers:
      // RFC 9112 §7.1.2: trailer fields are read and, here, ignored; an empty line ends them.
      if (line.empty()) {
        stage_ = Stage::Done;
        status_ = Status::Complete;
      } else {
        on_trailer_line(line);
      }
      break;
    default:
      break;
  }
}

// RFC 9112 §4: status-line = HTTP-version SP status-code SP [ reason-phrase ]
void ResponseParser::on_status_line(std::string_view line) {
  // Deviation (stray-crlf-before-status): tolerate a stray CRLF a sloppy server left after a
  // body (RFC 9112 §2.2 asks this only of servers, before a request-line).
  if (line.empty()) return;
  if (line.size() < 12 || line.substr(0, 5) != "HTTP/" || !is_digit(line[5]) || line[6] != '.' ||
      !is_digit(line[7]) || line[8] != ' ') {
    fail("not an HTTP/1.x status line: " + quote(line));
    return;
  }
  if (line[5] != '1') {
    fail("the server answered HTTP/" + std::string(1, line[5]) + "; only HTTP/1.x is supported");
    return;
  }
  if (!is_digit(line[9]) || !is_digit(line[10]) || !is_digit(line[11]) ||
      (line.size() > 12 && line[12] != ' ')) {
    fail("the status code is not three digits: " + quote(line));
    return;
  }
  head_.minor = line[7] - '0';
  head_.status = (line[9] - '0') * 100 + (line[10] - '0') * 10 + (line[11] - '0');
  if (head_.status < 100) {
    fail("status code below 100: " + quote(line));
    return;
  }
  // RFC 9112 §4: reason-phrase = 1*( HTAB / SP / VCHAR / obs-text ). A control byte in it
  // (an escape sequence, a NUL) would be printed to the user's terminal as it came.
  const std::string_view reason = line.size() > 13 ? line.substr(13) : std::string_view();
  if (has_control_byte(reason)) {
    fail("a control character in the reason phrase (RFC 9112 §4): " + quote(line));
    return;
  }
  head_.reason = std::string(reason);
  stage_ = Stage::Headers;
}

void ResponseParser::on_header_line(std::string_view line) {
  if (line.front() == ' ' || line.front() == '\t') {
    // RFC 9112 §5.2: a user agent replaces obs-fold with SP.
    if (head_.headers.empty()) {
      fail("a continuation line before any field: " + quote(line));
      return;
    }
    auto more = trim_ows(line);
    if (has_control_byte(more)) {
      fail("a control character in a header field value (RFC 9110 §5.5): " + quote(line));
      return;
    }
    auto& value = head_.headers.back().value;
    if (!more.empty()) value += (value.empty() ? "" : " ") + std::string(more);
    return;
  }
  std::string_view name, value;
  const auto fault = split_field_line(line, name, value);
  if (fault == FieldLineFault::ControlByte) {
    fail("a control character in a header field value (RFC 9110 §5.5): " + quote(line));
    return;
  }
  if (fault != FieldLineFault::None) {
    fail("malformed header field line: " + quote(line));
    return;
  }
  if (++fields_ > limits_.max_fields) {
    fail("more than " + std::to_string(limits_.max_fields) + " header fields");
    return;
  }
  head_.headers.push_back({std::string(name), std::string(value)});
}

// RFC 9112 §7.1.2: trailer fields are field lines like those of the header section, checked
// the same way; their values are not used.
void ResponseParser::on_trailer_line(std::string_view line) {
  std::string_view name, value;
  const auto fault = split_field_line(line, name, value);
  if (fault == FieldLineFault::ControlByte) {
    fail("a control character in a trailer field value (RFC 9110 §5.5): " + quote(line));
  } else if (fault != FieldLineFault::None) {
    fail("malformed trailer field line: " + quote(line));
  } else if (++fields_ > limits_.max_fields) {
    fail("more than " + std::to_string(limits_.max_fields) + " header and trailer fields");
  }
}

void ResponseParser::on_headers_end() {
  std::vector<std::string> codings;
  for (const auto& h : head_.headers) {
    if (iequals(h.name, "connection")) append_list(h.value, head_.connection);
    if (iequals(h.name, "transfer-encoding")) {
      head_.transfer_encoding = true;
      append_list(h.value, codings);
    }
    if (iequals(h.name, "content-length")) {
      // RFC 9110 §8.6: a list of identical values may be taken as one; anything else is
      // an unrecoverable framing error (RFC 9112 §6.3 rule 5).
      std::vector<std::string> values;
      append_list(h.value, values);
      if (values.empty()) {
        fail("an empty Content-Length");
        return;
      }
      for (const auto& v : values) {
        if (v.size() > 18 || !std::all_of(v.begin(), v.end(), is_digit)) {
          fail("an invalid Content-Length: '" + h.value + "'");
          return;
        }
        uint64_t n = std::stoull(v);
        if (head_.content_length && *head_.content_length != n) {
          fail("conflicting Content-Length values");
          return;
        }
        head_.content_length = n;
      }
    }
  }
  if (head_.status >= 100 && head_.status < 200) {
    if (head_.status == 101) {
      fail("101 Switching Protocols: tcplab get speaks only HTTP/1.x");
      return;
    }
    // RFC 9110 §15.2: interim responses are skipped; the final response follows.
    if (++interim_ > limits_.max_interim) {
      fail("more than " + std::to_string(limits_.max_interim) + " interim (1xx) responses");
      return;
    }
    head_ = ReceivedHead{};
    fields_ = 0;
    interim_bytes_ += header_bytes_;  // header_bytes() is the final head's alone
    header_bytes_ = 0;
    stage_ = Stage::StatusLine;
    return;
  }
  head_.chunked = !codings.empty() && codings.back() == "chunked";
  // RFC 9112 §6.3, in its order.
  if (head_request_ || head_.status == 204 || head_.status == 304) {
    framing_ = BodyFraming::None;  // rule 1
  } else if (head_.transfer_encoding && head_.content_length) {
    // Rule 3: both "ought to be handled as an error" (a response splitting or smuggling
    // attempt, or a broken intermediary): which of the two frames the body is unknowable.
    fail("both Transfer-Encoding and Content-Length: the body framing is ambiguous (RFC 9112 §6.3 rule 3)");
    return;
  } else if (!codings.empty()) {
    // Rule 4: chunked last means chunked; any other final coding runs to the close.
    framing_ = head_.chunked ? BodyFraming::Chunked : BodyFraming::UntilClose;
  } else if (head_.content_length) {
    framing_ = BodyFraming::Length;  // rule 6
  } else {
    framing_ = BodyFraming::UntilClose;  // rule 8
  }
  switch (framing_) {
    case BodyFraming::None:
      stage_ = Stage::Done;
      break;
    case BodyFraming::Length:
      remaining_ = *head_.content_length;
      stage_ = remaining_ == 0 ? Stage::Done : Stage::Body;
      break;
    case BodyFraming::Chunked:
      stage_ = Stage::ChunkSize;
      break;
    case BodyFraming::UntilClose:
      stage_ = Stage::Body;
      break;
  }
  if (stage_ == Stage::Done) status_ = Status::Complete;
}

// RFC 9112 §7.1: chunk-size [ chunk-ext ] CRLF, chunk-size = 1*HEXDIG.
void ResponseParser::on_chunk_size_line(std::string_view line) {
  uint64_t size = 0;
  size_t digits = 0;
  for (char c : line) {
    int v;
    if (c >= '0' && c <= '9') {
      v = c - '0';
    } else if (c >= 'a' && c <= 'f') {
      v = c - 'a' + 10;
    } else if (c >= 'A' && c <= 'F') {
      v = c - 'A' + 10;
    } else {
      break;
    }
    // RFC 9112 §7.1: chunk-size = 1*HEXDIG, so leading zeros are allowed; what is limited is
    // the value (15 significant hex digits), not how it is written.
    ++digits;
    if (size >> 56 != 0) {
      fail("a chunk size too large: " + quote(line));
      return;
    }
    size = size * 16 + static_cast<uint64_t>(v);
  }
  if (digits == 0 || !syntax::is_chunk_ext(line.substr(digits))) {
    fail("an invalid chunk-size line: " + quote(line));
    return;
  }
  if (size == 0) {
    stage_ = Stage::Trailers;
  } else {
    remaining_ = size;
    stage_ = Stage::ChunkData;
  }
}

void ResponseParser::eof() {
  if (status_ != Status::NeedMore) return;
  if (stage_ == Stage::Body && framing_ == BodyFraming::UntilClose) {
    stage_ = Stage::Done;  // RFC 9112 §6.3 rule 8: the close ends the body.
    status_ = Status::Complete;
    return;
  }
  if (!started_) {
    fail("the server closed the connection without sending a response");
  } else if (!head_complete()) {
    fail("the server closed the connection before the end of the response header");
  } else if (stage_ == Stage::Trailers) {
    fail(
        "the server closed the connection after the last chunk but before the end of the trailer "
        "section (the empty line that ends a chunked body, RFC 9112 §7.1)");
  } else if (framing_ == BodyFraming::Length) {
    fail("the server closed the connection after " + std::to_string(body_bytes_) + " of " +
         std::to_string(*head_.content_length) + " body bytes");
  } else {
    fail("the server closed the connection inside the chunked body (after " + std::to_string(body_bytes_) +
         " bytes, before the last chunk)");
  }
}

}  // namespace tcplab::http
