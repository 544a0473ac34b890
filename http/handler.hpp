// What a session asks of the content side: one response per parsed request. The site, the
// static root and the tests' fakes implement Responder.
#pragma once
#include <memory>

#include "http/body_source.hpp"
#include "http/request_parser.hpp"
#include "http/response.hpp"

namespace tcplab::http {

struct Response {
  ResponseHead head;                 // content_length is filled from body by the session
  std::unique_ptr<BodySource> body;  // null: empty body
  bool byte_ranges = false;          // a GET may ask for part of it (RFC 9110 §14): files, /bytes/N
  bool preconditions_evaluated = false;  // If-* already answered against its own validators (files)
};

// A response with a small in-memory body. `content_type` must be static text (a literal,
// mime_type_for's table): the response keeps a view of it, not a copy.
Response text_response(int status, std::string_view content_type, std::string body);

class Responder {
 public:
  virtual ~Responder() = default;
  // HEAD requests get the GET response here; the session drops the body (RFC 9110 §9.3.2).
  virtual Response respond(const Request& request) = 0;
  // Whether respond() would read the content of a request with this head (the body not yet
  // arrived). A client that sent Expect: 100-continue waits for our go-ahead before the body;
  // where the answer does not depend on the body, the session answers at once instead
  // (RFC 9110 §10.1.1), and the body is never sent. True unless a responder knows better.
  virtual bool takes_body(const Request& head) {
    (void)head;
    return true;
  }
};

}  // namespace tcplab::http
