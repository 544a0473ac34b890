// The close-path table (docs/keepalive.md, "How the server closes"). First matching row wins:
//
//  | # | situation                                          | path      | why                     |
//  |---|----------------------------------------------------|-----------|-------------------------|
//  | 1 | the client already sent its FIN                    | FIN       | nothing more can arrive |
//  | 2 | idle timeout or shutdown of an idle connection     | FIN       | no request is pending   |
//  | 3 | any other close, request bytes still arriving      | lingering | see below               |
//  | 4 | any other close (Connection: close, HTTP/1.0,      | FIN       | the client has what it  |
//  |   | max requests, error, header timeout), no bytes     |           | asked for               |
//
// Row 2: a request that crosses our idle FIN on the wire was never started; the client sees
// the FIN before any response and may retry on a new connection (RFC 9112 §9.3.1), so it is
// discarded and TCP closes as usual. The session need not even read it: it lets go of the
// socket (tcp::Socket::release) and TCP acknowledges and discards it alone.
// Row 3 is RFC 9112 §9.6: closing at once while the client is still sending would make TCP
// answer its data with RST, which can destroy the response it has not read yet; so the server
// keeps reading and throws the bytes away, and resets only after --linger (Apache httpd's
// lingering close).
// Row 4: bytes arriving after this FIN would turn it into row 3. The session lets go of the
// socket all the same, asking TCP to do that lingering close for it (tcp::Socket::release
// with linger_on_data), so a client that keeps its side open costs a compact record, not a
// session and a whole TCB.
#include "http/session_close.hpp"

namespace tcplab::http {

ClosePath choose_close_path(const CloseInput& in) {
  if (in.peer_closed) return ClosePath::Fin;
  if (in.by == CloseBy::Timeout || in.by == CloseBy::Shutdown) return ClosePath::Fin;
  if (in.request_bytes_arriving) return ClosePath::Lingering;
  return ClosePath::Fin;
}

std::string_view to_string(ClosePath path) {
  switch (path) {
    case ClosePath::Fin:
      return "FIN";
    case ClosePath::Lingering:
      return "lingering close";
  }
  return "?";
}

}  // namespace tcplab::http
