// Incremental HTTP/1.x request parser (RFC 9112), sans-IO like h11: fed whatever bytes
// arrive, split anywhere, it yields one request at a time or an error status with a reason.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace tcplab::http {

struct Header {
  std::string name;   // as sent
  std::string value;  // OWS trimmed (RFC 9112 §5.1)
};

struct Request {
  std::string method;
  std::string target;  // as sent (origin-form, absolute-form or "*")
  int minor = 1;       // HTTP/1.minor; only major version 1 is accepted
  std::vector<Header> headers;
  std::string body;  // decoded (chunked framing removed)
  bool chunked = false;
  std::optional<uint64_t> content_length;
  std::vector<std::string> connection;  // Connection tokens, lower-cased (RFC 9110 §7.6.1)
  bool expect_continue = false;         // Expect: 100-continue (RFC 9110 §10.1.1)

  // The first field called `name` (case-insensitive), or empty.
  std::string_view header(std::string_view name) const;
  // Every field line called `name` as one list, joined with ", " (RFC 9110 §5.3); nullopt when
  // there is none.
  std::optional<std::string> field_list(std::string_view name) const;
  bool has_connection_token(std::string_view token) const;
  // Empties every field for the next request but keeps what the strings and vectors have
  // allocated, so a parser reused request after request allocates nothing once warm.
  void clear();
};

// Hard limits on what a client may send. Each one maps to the status the RFCs ask for.
struct ParserLimits {
  size_t max_request_line = 8 * 1024;   // longer -> 414 URI Too Long (RFC 9112 §3)
  size_t max_header_bytes = 32 * 1024;  // all field lines -> 431 (RFC 6585 §5)
  size_t max_fields = 100;              // more field lines -> 431
  size_t max_body = 1 << 20;            // decoded body -> 413 Content Too Large (RFC 9110 §15.5.14)
  size_t max_chunk_line = 1024;         // chunk-size line with extensions -> 400
  size_t max_leading_empty_lines = 8;   // RFC 9112 §2.2: ignore at least one empty line before
};

// Methods RFC 9110 §9 defines: anything else is 501 Not Implemented (RFC 9110 §9.1).
bool is_known_method(std::string_view method);

class RequestParser {
 public:
  enum class Status { NeedMore, Complete, Error };

  explicit RequestParser(ParserLimits limits = {});

  // Consumes bytes of `data` until a request is complete, an error is found, or the data
  // runs out; returns how many bytes it consumed. Bytes after a complete request belong to
  // the next one (pipelining): call take() and feed the rest again.
  size_t feed(std::string_view data);

  Status status() const { return status_; }
  // True once any byte of the current request arrived (starts the header timer).
  bool in_progress() const { return started_; }
  // The head is parsed and a body is still expected (when to send 100 Continue).
  bool awaiting_body() const;
  const Request& request() const { return request_; }
  // The complete request; the parser is ready for the next one.
  Request take();
  // Ready for the next request like take(), but the finished request's storage is kept and
  // reused for it: request() is valid until this call.
  void next();
  int error_status() const { return error_status_; }
  std::string_view error_detail() const { return error_detail_; }

 private:
  enum class Stage { RequestLine, Headers, Body, ChunkSize, ChunkData, ChunkEnd, Trailers, Done, Failed };

  void restart();  // the parsing state of take() and next(), back to a request line
  bool fail(int status, std::string_view detail);
  bool on_line(std::string_view line);
  bool on_request_line(std::string_view line);
  bool on_header_line(std::string_view line);
  bool on_headers_end();
  bool on_chunk_size_line(std::string_view line);
  size_t line_limit() const;
  // A CR followed by something other than LF in line_ + piece, at an offset below limit.
  bool bare_cr_before(std::string_view piece, size_t limit) const;
  // A space in line_ + piece at an offset below limit: the method ended within the limit.
  bool space_before(std::string_view piece, size_t limit) const;
  int line_limit_status() const;
  std::string_view line_limit_detail() const;  // the error detail to go with it

  ParserLimits limits_;
  Stage stage_ = Stage::RequestLine;
  Status status_ = Status::NeedMore;
  Request request_;
  std::string line_;
  std::string complete_line_;  // the line on_line sees (line_ is free again by then)
  bool started_ = false;
  size_t empty_lines_ = 0;
  size_t header_bytes_ = 0;
  size_t fields_ = 0;
  size_t trailer_fields_ = 0;
  uint64_t remaining_ = 0;  // body or chunk bytes still to read
  int error_status_ = 0;
  std::string error_detail_;
};

}  // namespace tcplab::http
