// The application's calls on a connection (RFC 9293 §3.10.2-3.10.5: SEND, RECEIVE, CLOSE,
// ABORT) behind the Socket API.
#include "stack/tcp/connection.hpp"

namespace tcplab::tcp {
namespace {

bool accepts_send(State s) {
  // RFC 9293 §3.10.2: SEND is queued in SYN-SENT/SYN-RECEIVED and sent in ESTABLISHED and
  // CLOSE-WAIT; after CLOSE it is an error ("connection closing").
  return s == State::SynSent || s == State::SynReceived || s == State::Established || s == State::CloseWait;
}

}  // namespace

void Connection::set_handler(SocketHandler* handler) {
  handler_ = handler;
  // Whatever arrived before the application attached is announced now.
  if (readable() > 0 || fin_.peer_fin) events_.readable = true;
  deliver_events();
}

size_t Connection::send(std::span<const std::byte> data) {
  if (!accepts_send(tcb_.state) || fin_.close_requested) return 0;
  size_t taken = send_.push(data);
  if (taken < data.size()) want_writable_ = true;
  output_or_defer();
  deliver_events();
  return taken;
}

void Connection::output_or_defer() {
  // Inside a callback the application usually has more to say: an HTTP server sends a
  // response, pushes it and closes. Sending when the callback returns lets the FIN ride on
  // the last data segment (RFC 9293 §3.10.4: the FIN follows the queued data) and several
  // sends share segments, instead of a segment per call.
  if (events_.delivering)
    events_.output_owed = true;
  else
    output();
}

void Connection::push() {
  if (!accepts_send(tcb_.state) || unsent_bytes() == 0) return;
  push_end_ = tcb_.snd_nxt + static_cast<uint32_t>(unsent_bytes());
  output_or_defer();
  deliver_events();
}

size_t Connection::send_space() const {
  if (!accepts_send(tcb_.state) || fin_.close_requested) return 0;
  // An application that sees a full buffer waits for on_writable, whether it learned that
  // from a short send() or from here.
  if (send_.free() == 0) want_writable_ = true;
  return send_.free();
}

size_t Connection::receive(std::span<std::byte> out) {
  size_t n = receive_.read(out);
  if (events_.closed_once_read && receive_.readable() == 0) {
    // The last unread byte is out (enter_time_wait): now the application hears of the close.
    events_.closed_once_read = false;
    events_.closed = CloseReason::Normal;
    deliver_events();
    return n;
  }
  if (n > 0) window_opened();
  return n;
}

void Connection::window_opened() {
  if (tcb_.state == State::Closed) return;
  // Reading frees window: output() sends a window update if it opened enough (§3.8.6.2.2).
  // Inside a callback the application usually answers next (an HTTP response); RFC 9293
  // §3.8.6.3 wants ACKs to ride on data where they can, so the update waits for the callback
  // to return (deliver_events) instead of leaving as a pure ACK just before that data.
  if (events_.delivering) {
    ack_.window_update_owed = true;
  } else {
    output(true);
    deliver_events();
  }
}

size_t Connection::readable() const { return receive_.readable(); }

bool Connection::peer_closed() const { return fin_.peer_fin && receive_.readable() == 0; }

void Connection::close() {
  switch (tcb_.state) {
    case State::SynSent:
      // RFC 9293 §3.10.4, SYN-SENT: "Delete the TCB and return 'error: closing' responses to
      // any queued SENDs, or RECEIVEs".
      // Deviation (close-in-syn-sent-quiet): data already taken by send() is dropped without an
      // error of its own; the socket then reads as a clean end of stream (0) and refuses writes
      // (EPIPE), as after any close: the socket interface has no call left to report it on.
      close_connection(CloseReason::Normal, "RFC 9293 §3.10.4 (CLOSE in SYN-SENT)");
      break;
    case State::SynReceived:
      // RFC 9293 §3.10.4, SYN-RECEIVED: "If no SENDs have been issued and there is no pending
      // data to send, then form a FIN segment and send it, and enter FIN-WAIT-1 state;
      // otherwise, queue for processing after entering ESTABLISHED state" (ack_in_syn_received).
      fin_.close_requested = true;
      if (send_.size() > 0) break;
      set_state(State::FinWait1, "RFC 9293 §3.10.4 (CLOSE in SYN-RECEIVED, nothing to send)");
      break;
    case State::Established:
      fin_.close_requested = true;
      set_state(State::FinWait1, "RFC 9293 §3.10.4 (CLOSE in ESTABLISHED)");
      break;
    case State::CloseWait:
      fin_.close_requested = true;
      set_state(State::LastAck, "RFC 9293 §3.10.4 (CLOSE in CLOSE-WAIT)");
      break;
    default:
      return;  // already closing: "error: connection closing"
  }
  output_or_defer();
  deliver_events();
}

void Connection::abort() {
  switch (tcb_.state) {
    case State::SynReceived:
    case State::Established:
    case State::FinWait1:
    case State::FinWait2:
    case State::CloseWait:
      // RFC 9293 §3.10.5: "Send a reset segment: <SEQ=SND.NXT><CTL=RST>".
      send_rst(acceptable_seq());
      break;
    case State::Closed:
      return;
    default:
      break;  // SYN-SENT, CLOSING, LAST-ACK, TIME-WAIT: just delete the TCB
  }
  close_connection(CloseReason::Aborted, kAbortRule);
  deliver_events();
}

}  // namespace tcplab::tcp
