// An ICMP error for one connection (RFC 1122 §4.2.3.9): protocol and port unreachable answering
// our SYN end the active open at once, as curl's "Connection refused"; every other unreachable
// code, time exceeded and parameter problem (which RFC 1122 §3.2.2.4-3.2.2.5 says MUST be passed
// to the transport layer), and any error in another state, are soft errors that change nothing
// but what the application can learn.
#include "stack/tcp/connection.hpp"
#include "stack/text/note_buffer.hpp"
#include "stack/wire/icmp.hpp"

namespace tcplab::tcp {
void Connection::icmp_error(Seq quoted_seq, uint8_t type, uint8_t code, wire::Ipv4Address from) {
  if (!quote_in_flight(quoted_seq, icmp_error_kind(type))) return;
  std::string_view name = icmp_error_name(type, code);
  bool hard = type == static_cast<uint8_t>(wire::IcmpType::DestinationUnreachable) &&
              (code == static_cast<uint8_t>(wire::UnreachableCode::Protocol) ||
               code == static_cast<uint8_t>(wire::UnreachableCode::Port));
  std::string from_text = from.to_string();
  std::string_view state = to_string(tcb_.state);
  text::NoteBuffer note;
  // RFC 1122 §4.2.3.9: codes 2 (protocol) and 3 (port) are hard errors, and "TCP SHOULD abort
  // the connection"; codes 0, 1 and 5 are soft, and TCP "MUST NOT abort"; the other codes,
  // added since, say something about the path, not about this connection.
  // Deviation (icmp-hard-error-in-syn-sent-only): a hard error aborts only an active open in
  // SYN-SENT, the one place its quote can only be of our SYN (SEG.SEQ = ISS). Like Linux, a
  // synchronized connection treats it as soft and carries on until its own timeouts: a forged
  // ICMP that guessed a sequence number in flight could otherwise reset it (RFC 5927 §5.2).
  // Linux also aborts SYN-SENT on the soft codes (EHOSTUNREACH); RFC 1122 says it MUST NOT.
  if (hard && tcb_.state == State::SynSent) {
    close_connection(code == static_cast<uint8_t>(wire::UnreachableCode::Port)
                         ? CloseReason::PortUnreachable
                         : CloseReason::ProtocolUnreachable,
                     note.format("RFC 1122 §4.2.3.9 (ICMP %.*s from %s for our SYN: a hard error)",
                                 static_cast<int>(name.size()), name.data(), from_text.c_str()));
    deliver_events();
    return;
  }
  ctx_.drop(DropReason::IcmpSoftError,
            note.format("ICMP %.*s (code %u) from %s in %.*s: soft error ignored (RFC 1122 §4.2.3.9)",
                        static_cast<int>(name.size()), name.data(), unsigned{code}, from_text.c_str(),
                        static_cast<int>(state.size()), state.data()));
  soft_error_ = IcmpSoftError{type, code, from};
}

}  // namespace tcplab::tcp
