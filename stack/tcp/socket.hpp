// The application's view of TCP (architecture rule 6): a small socket-like API driven by
// callbacks. The HTTP server and the classic services use only this; tests fake it.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "stack/four_tuple.hpp"
#include "stack/tcp/state.hpp"
#include "stack/time.hpp"

namespace tcplab::tcp {

enum class CloseReason {
  Normal,       // both FINs exchanged (or our FIN acknowledged in LAST-ACK)
  ResetByPeer,  // an acceptable RST arrived
  Aborted,      // we called abort(): RST sent
  TimedOut,     // retransmissions exhausted: RST sent (RFC 9293 §3.8.3). (The FIN-WAIT-2
                // --fin-timeout ends only released connections, whose application is not told.)
  Refused,      // active open answered with RST
  // Active open answered with ICMP destination unreachable, port or protocol: hard errors
  // (RFC 1122 §4.2.3.9), typically a firewall's reject rule.
  PortUnreachable,
  ProtocolUnreachable,
};

constexpr std::string_view to_string(CloseReason r) {
  switch (r) {
    case CloseReason::Normal:
      return "normal";
    case CloseReason::ResetByPeer:
      return "reset-by-peer";
    case CloseReason::Aborted:
      return "aborted";
    case CloseReason::TimedOut:
      return "timed-out";
    case CloseReason::Refused:
      return "refused";
    case CloseReason::PortUnreachable:
      return "port-unreachable";
    case CloseReason::ProtocolUnreachable:
      return "protocol-unreachable";
  }
  return "?";
}

// The name of an ICMP destination unreachable code (RFC 792, RFC 1122 §3.2.2.1).
constexpr std::string_view icmp_unreachable_name(uint8_t code) {
  switch (code) {
    case 0:
      return "net unreachable";
    case 1:
      return "host unreachable";
    case 2:
      return "protocol unreachable";
    case 3:
      return "port unreachable";
    case 5:
      return "source route failed";
    case 13:
      return "administratively prohibited";
    default:
      return "destination unreachable";
  }
}

// The name of an ICMP error TCP is told about: destination unreachable (by code), time exceeded
// or parameter problem (RFC 792, RFC 1122 §3.2.2.4-3.2.2.5).
constexpr std::string_view icmp_error_name(uint8_t type, uint8_t code) {
  if (type == 11) return code == 1 ? "time exceeded (fragment reassembly)" : "time exceeded (TTL)";
  if (type == 12) return "parameter problem";
  return icmp_unreachable_name(code);
}

// The kind of an ICMP error, for drop reasons: "destination unreachable", "time exceeded"...
constexpr std::string_view icmp_error_kind(uint8_t type) {
  if (type == 11) return "time exceeded";
  if (type == 12) return "parameter problem";
  return "destination unreachable";
}

// The last ICMP soft error about a connection (RFC 1122 §4.2.3.9: TCP MUST NOT abort on it but
// "SHOULD make it available to the application"): a connection that then times out can say
// why, as a "no route to host" would.
struct IcmpSoftError {
  uint8_t type = 3;  // destination unreachable, time exceeded (11) or parameter problem (12)
  uint8_t code = 0;
  wire::Ipv4Address from{};
};

// A snapshot for /tcp, SIGUSR1 listings and tests. Sequence numbers relative to iss/irs.
struct ConnectionInfo {
  FourTuple tuple;
  State state = State::Closed;
  uint32_t snd_una = 0, snd_nxt = 0, rcv_nxt = 0;  // relative
  uint32_t snd_wnd = 0, rcv_wnd = 0;               // bytes, after scaling
  Duration srtt{}, rto{};
  uint64_t bytes_received = 0, bytes_sent = 0;
  uint32_t retransmissions = 0;
  uint64_t buffer_bytes = 0;  // memory the send and receive buffers hold right now
  std::optional<IcmpSoftError> icmp_soft_error;
};

class Socket;

class SocketHandler {
 public:
  virtual ~SocketHandler() = default;
  virtual void on_connected(Socket&) {}  // active open reached ESTABLISHED
  virtual void on_readable(Socket&) {}   // in-order bytes (or the peer's FIN) can be read
  virtual void on_writable(Socket&) {}   // send space freed after send() accepted less or send_space() was 0
  virtual void on_peer_fin(Socket&) {}   // the peer will send nothing more
  // The last call for this socket: after it returns the Socket& is gone.
  virtual void on_closed(Socket&, CloseReason) {}
};

// The lingering close a released connection does for its application (release with
// linger_on_data): the HTTP server's notes for it (RFC 9112 §9.6), word for word, whether the
// session, the connection or the compact record writes them. Here, with release(), so the
// application needs nothing of TCP's internals to write them itself.
inline constexpr std::string_view kLingerNote =
    "lingering close: request bytes are still arriving, so the server reads and discards them and "
    "sends RST if the client has not closed after --linger";
inline constexpr std::string_view kLingerStartNote =
    "request bytes arrived after our FIN; lingering close: request bytes are still arriving, so the server "
    "reads and discards them and sends RST if the client has not closed after --linger";
inline constexpr std::string_view kLingerOverNote =
    "lingering close over: request bytes kept arriving and the client did not close within --linger, "
    "sending RST";
static_assert(kLingerStartNote.ends_with(kLingerNote), "the session writes why + \"; \" + kLingerNote");
class Socket {
 public:
  virtual ~Socket() = default;
  // Attaches the application; if bytes or a FIN already wait, on_readable follows.
  virtual void set_handler(SocketHandler* handler) = 0;
  // Queues up to send_space() bytes and returns how many were taken (backpressure).
  virtual size_t send(std::span<const std::byte> data) = 0;
  virtual size_t send_space() const = 0;
  // Bytes given to send() that the peer has not acknowledged yet (unsent ones included): the
  // application's data is delivered when this reaches 0.
  virtual size_t send_queued() const = 0;
  // When an ACK last acknowledged new data (nothing: none yet, or not known): how an
  // application tells a slow reader, still taking its data, from an idle peer.
  virtual std::optional<Instant> last_acknowledged() const { return std::nullopt; }
  // Whether the peer's window is shut (zero), so nothing can be sent until it reopens; nothing
  // when not known. An application waiting for an ACK tells a client that takes nothing (shut)
  // from a path losing packets, which TCP's own retransmissions and their limit look after.
  virtual std::optional<bool> peer_window_shut() const { return std::nullopt; }
  // Copies in-order received bytes out; reading frees receive window.
  virtual size_t receive(std::span<std::byte> out) = 0;
  virtual size_t readable() const = 0;
  // The peer's FIN has arrived and every byte before it has been read.
  virtual bool peer_closed() const = 0;
  // RFC 9293 §3.9.1 SEND with PUSH: what is queued so far is a whole message (an HTTP
  // response). Its last, short segment then leaves at once rather than wait for an ACK: a
  // departure from Nagle, which holds data "regardless of the PSH bit" (see Connection's
  // send_one_data_segment, push-ends-nagle).
  virtual void push() {}
  // RFC 9293 §3.10.4 CLOSE: FIN after queued data; receiving continues (half-close).
  virtual void close() = 0;
  // RFC 9293 §3.10.5 ABORT: RST now; on_closed(Aborted) follows.
  virtual void abort() = 0;
  // After close(): the application is done with this socket for good - it will read nothing
  // more and wants no further callback, not even on_closed; TCP finishes the close alone.
  // Bytes the peer still sends are acknowledged and thrown away (RFC 9293 §3.10.7.4 seventh
  // lets FIN-WAIT-1/2 receive them; nobody will read them). True if the socket was let go:
  // the Socket& must not be used again. False if this TCP cannot (the caller keeps the
  // socket, and on_closed comes as before).
  // linger_on_data: the application's lingering close (RFC 9112 §9.6), done by TCP alone:
  // the first bytes arriving start a deadline this long; if the peer has not sent its FIN
  // when it passes (and our FIN is acknowledged), TCP resets the connection.
  virtual bool release(std::optional<Duration> linger_on_data = std::nullopt) {
    (void)linger_on_data;
    return false;
  }
  virtual const FourTuple& tuple() const = 0;
  virtual State state() const = 0;
  virtual ConnectionInfo info() const = 0;
};

// Told when a listener's accept queue gains a connection; the application then calls
// TcpHost::accept(port) as often as it wants connections (it may leave them queued).
class AcceptHandler {
 public:
  virtual ~AcceptHandler() = default;
  virtual void on_acceptable(uint16_t port) = 0;
};

}  // namespace tcplab::tcp
