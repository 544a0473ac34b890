// The eleven connection states of RFC 9293 §3.3.2, printed with the RFC's own names.
#pragma once
#include <optional>
#include <string_view>

namespace tcplab::tcp {

enum class State {
  Closed,
  Listen,
  SynSent,
  SynReceived,
  Established,
  FinWait1,
  FinWait2,
  CloseWait,
  Closing,
  LastAck,
  TimeWait,
};

constexpr std::string_view to_string(State s) {
  switch (s) {
    case State::Closed:
      return "CLOSED";
    case State::Listen:
      return "LISTEN";
    case State::SynSent:
      return "SYN-SENT";
    case State::SynReceived:
      return "SYN-RECEIVED";
    case State::Established:
      return "ESTABLISHED";
    case State::FinWait1:
      return "FIN-WAIT-1";
    case State::FinWait2:
      return "FIN-WAIT-2";
    case State::CloseWait:
      return "CLOSE-WAIT";
    case State::Closing:
      return "CLOSING";
    case State::LastAck:
      return "LAST-ACK";
    case State::TimeWait:
      return "TIME-WAIT";
  }
  return "?";
}

// A state as people write it: the RFC's names in any case, with '_' for '-', and Linux's
// (TCP_SYN_RECV, fin_wait1, close); nothing for anything else.
std::optional<State> state_from_name(std::string_view written);

// RFC 9293 §3.3.2: ESTABLISHED and every later state have seen the peer's SYN.
constexpr bool is_synchronized(State s) {
  return s != State::Closed && s != State::Listen && s != State::SynSent && s != State::SynReceived;
}

}  // namespace tcplab::tcp
