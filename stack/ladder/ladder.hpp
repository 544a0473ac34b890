// The sequence ("ladder") diagram of TCP connections as a model the renderers draw: one
// Connection per handshake (client = the SYN's sender, drawn left), one Row per segment,
// state change or note, in time order. States come from the input when it says them (JSON
// trace, pcapng comments) and are otherwise inferred from the flags (RFC 9293 §3.3.2
// Figure 5) and marked so. Numbers are Wireshark's relative ones unless asked for raw.
#pragma once
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "stack/ladder/input.hpp"

namespace tcplab::ladder {

struct StateCell {
  std::string name;  // "ESTABLISHED"; empty when nothing changed on this row
  bool inferred = false;
  std::string rule;  // the RFC rule that caused the change, when the input says (SVG tooltip)
  bool empty() const { return name.empty(); }
  std::string text() const { return name.empty() ? "" : name + (inferred ? "?" : ""); }
};

enum class RowKind { Segment, State, Note };

struct Row {
  RowKind kind = RowKind::Segment;
  int64_t time_ns = 0;             // since the input's first event
  bool to_server = true;           // the arrow's direction (Segment rows)
  std::string label;               // "S. seq=0 ack=1 len=0 win=65535" (Segment), the note (Note)
  bool lost = false;               // an injected drop: the arrow does not arrive
  std::vector<std::string> notes;  // "retransmission", "fault injector: dropped (...)", ...
  StateCell client_state, server_state;
  bool note_from_client = false;  // Note rows: whose note (the local endpoint)
};

struct Connection {
  int number = 0;  // 1-based, in order of the first segment
  Endpoint client, server;
  bool handshake_seen = false;  // the file starts this connection with its SYN
  StateCell client_initial, server_initial;
  std::vector<Row> rows;
  uint64_t segments = 0;
};

struct LadderOptions {
  bool absolute = false;  // raw sequence numbers instead of relative ones
};

struct Ladder {
  std::vector<Connection> connections;
  uint64_t skipped = 0;  // from Input
  std::map<uint32_t, uint64_t> unsupported_linktypes;  // from Input
  uint64_t header_cut = 0, fragments = 0, fragments_cut = 0, truncated = 0;  // from Input
  std::string source;
  bool any_inferred = false;  // some state on some row is inferred: print the legend
};

Ladder build_ladder(const Input& input, const LadderOptions& options = {});

// The segment label: flags, seq, ack (if ACK), len and win, e.g. "P. seq=1 ack=1 len=78 win=502".
std::string segment_label(const wire::TcpFlags& flags, uint32_t seq, uint32_t ack, uint32_t len,
                          uint16_t window);

// The legend line for inferred states.
constexpr const char* kInferredLegend =
    "? = state inferred from the flags (the input does not say: tcplab's JSON trace and pcapng give "
    "tcplab's own)";

}  // namespace tcplab::ladder
