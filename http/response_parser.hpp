// Incremental HTTP/1.x response parser (RFC 9112) for `tcplab get`, sans-IO like the request
// parser: fed whatever bytes arrive, split anywhere, it finds the status line and fields,
// picks the body framing (RFC 9112 §6.3) and hands body bytes out as they come, so a large
// body is never held in memory. Malformed input becomes an error with a one-line reason.
#pragma once
#include <cstddef>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/request_parser.hpp"  // Header

namespace tcplab::http {

// How the end of a response body is found (RFC 9112 §6.3).
enum class BodyFraming {
  None,        // HEAD, 1xx, 204, 304: no body whatever the fields say
  Length,      // Content-Length
  Chunked,     // Transfer-Encoding ending in chunked
  UntilClose,  // no framing: the body ends when the server closes the connection
};

std::string_view to_string(BodyFraming framing);

struct ReceivedHead {
  int minor = 1;  // HTTP/1.minor
  int status = 0;
  std::string reason;
  std::vector<Header> headers;
  std::vector<std::string> connection;  // Connection tokens, lower-cased (RFC 9110 §7.6.1)
  std::optional<uint64_t> content_length;
  bool chunked = false;
  bool transfer_encoding = false;  // any Transfer-Encoding field, whatever its codings

  // The first field called `name` (case-insensitive), or empty.
  std::string_view header(std::string_view name) const;
  bool has_connection_token(std::string_view token) const;
};

struct ResponseLimits {
  size_t max_line = 8 * 1024;           // status line or one field line
  size_t max_header_bytes = 64 * 1024;  // all field lines of one head
  size_t max_fields = 200;
  size_t max_chunk_line = 1024;  // chunk-size line with extensions
  size_t max_interim = 10;       // 1xx responses before the final one
};

class ResponseParser {
 public:
  enum class Status { NeedMore, Complete, Error };
  using BodySink = std::function<void(std::string_view)>;

  explicit ResponseParser(ResponseLimits limits = {});

  // Prepares for the response to the next request. A response to HEAD has no body
  // (RFC 9110 §9.3.2) whatever its Content-Length says.
  void expect(bool head_request = false);
  // Consumes bytes until the response is complete, an error is found or the data runs out;
  // body bytes go to `body` as they are decoded. Returns how many bytes it consumed: bytes
  // after a complete response are not part of it.
  size_t feed(std::string_view data, const BodySink& body);
  // The server closed the connection: completes a close-delimited body; anywhere else the
  // response was cut short, which is an error.
  void eof();

  Status status() const { return status_; }
  // True once any byte of the response arrived.
  bool started() const { return started_; }
  bool head_complete() const { return stage_ > Stage::Headers; }
  const ReceivedHead& head() const { return head_; }
  BodyFraming framing() const { return framing_; }
  uint64_t header_bytes() const { return header_bytes_; }    // the final head's status line and fields
  uint64_t interim_bytes() const { return interim_bytes_; }  // the 1xx heads before it
  uint64_t body_bytes() const { return body_bytes_; }        // decoded body
  // Everything of the response taken so far: interim heads, the final head, the decoded body.
  uint64_t received_bytes() const { return interim_bytes_ + header_bytes_ + body_bytes_; }
  size_t interim_responses() const { return interim_; }      // 1xx skipped
  const std::string& error() const { return error_; }

 private:
  enum class Stage { StatusLine, Headers, Body, ChunkSize, ChunkData, ChunkEnd, Trailers, Done, Failed };

  void fail(std::string detail);
  void on_line(std::string_view line);
  void on_status_line(std::string_view line);
  void on_header_line(std::string_view line);
  void on_trailer_line(std::string_view line);
  void on_headers_end();
  void on_chunk_size_line(std::string_view line);
  void deliver(std::string_view piece, const BodySink& body);
  size_t line_limit() const;

  ResponseLimits limits_;
  bool head_request_ = false;
  Stage stage_ = Stage::StatusLine;
  Status status_ = Status::NeedMore;
  ReceivedHead head_;
  BodyFraming framing_ = BodyFraming::None;
  std::string line_;
  bool started_ = false;
  uint64_t header_bytes_ = 0;
  uint64_t interim_bytes_ = 0;
  uint64_t body_bytes_ = 0;
  uint64_t remaining_ = 0;  // body or chunk bytes still to read
  size_t fields_ = 0;
  size_t interim_ = 0;
  std::string error_;
};

}  // namespace tcplab::http
