// How a session ends once it has decided to close, as one pure function: a plain FIN that lets
// TCP finish (FIN-WAIT-2, TIME-WAIT), or a lingering close that reads and discards what the
// client still sends and resets the connection if the client does not close in time.
#pragma once
#include <string_view>

#include "http/stats.hpp"

namespace tcplab::http {

enum class ClosePath {
  // FIN, then TCP's own close: FIN-WAIT-2 until the client's FIN, TIME-WAIT for 2 MSL (or
  // LAST-ACK when the client closed first). TCP's --fin-timeout bounds a silent client.
  Fin,
  // FIN, read and discard for --linger, then RST if the client still has not closed.
  Lingering,
};

struct CloseInput {
  CloseBy by = CloseBy::Server;  // why the session closes
  // Request bytes the server will never answer: requests pipelined behind the last one it
  // answers, bytes TCP holds that the session has not read yet (a large body refused with
  // 413), or bytes arriving after its FIN. The unread rest of a bad request already in the
  // session's buffer does not count: it says nothing about more coming.
  bool request_bytes_arriving = false;
  bool peer_closed = false;  // the client's FIN already arrived
};

ClosePath choose_close_path(const CloseInput& in);
std::string_view to_string(ClosePath path);

}  // namespace tcplab::http
