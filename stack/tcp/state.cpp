// Reading a state's name as people write it (state.hpp).
#include "stack/tcp/state.hpp"

#include <cctype>
#include <string>

namespace tcplab::tcp {

std::optional<State> state_from_name(std::string_view written) {
  std::string s(written);
  for (auto& c : s) c = static_cast<char>(c == '_' ? '-' : std::toupper(static_cast<unsigned char>(c)));
  if (s.starts_with("TCP-")) s = s.substr(4);
  // Linux's names (its tcp_states.h) next to the RFC's.
  if (s == "SYN-RECV") s = "SYN-RECEIVED";
  if (s == "FIN-WAIT1") s = "FIN-WAIT-1";
  if (s == "FIN-WAIT2") s = "FIN-WAIT-2";
  if (s == "CLOSE") s = "CLOSED";
  for (int i = 0; i <= static_cast<int>(State::TimeWait); ++i)
    if (to_string(static_cast<State>(i)) == s) return static_cast<State>(i);
  return std::nullopt;
}

}  // namespace tcplab::tcp
