// What a ladder diagram is drawn from: TCP segments, state changes and notes in time order,
// read from a capture (pcap/pcapng, parsed with stack/wire) or from tcplab's JSON trace.
#pragma once
#include <compare>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "stack/capture/capture.hpp"
#include "stack/seq.hpp"
#include "stack/wire/ipv4.hpp"
#include "stack/wire/tcp.hpp"

namespace tcplab::ladder {

struct Endpoint {
  wire::Ipv4Address ip;
  uint16_t port = 0;
  std::string to_string() const;  // "192.0.2.1:40000"
  auto operator<=>(const Endpoint&) const = default;
  // "192.0.2.1:40000" -> Endpoint; nothing when malformed.
  static std::optional<Endpoint> parse(std::string_view text);
};

// "SYN-RECEIVED -> ESTABLISHED (RFC 9293 §3.10.7.4)" as found in a pcapng comment: which
// side it is about is not said, the ladder works it out from the states.
struct StateComment {
  std::string from, to, rule;
};

struct SegmentInput {
  int64_t time_ns = 0;
  Endpoint src, dst;
  wire::TcpFlags flags;
  Seq seq, ack;  // as on the wire
  uint32_t payload_length = 0;
  uint16_t window = 0;
  std::vector<std::string> notes;            // "retransmission", "fault injector: dropped (...)", ...
  std::vector<StateComment> state_comments;  // from capture comments
};

// A state change whose side is known (the JSON trace names the local endpoint).
struct StateInput {
  int64_t time_ns = 0;
  Endpoint local, remote;
  std::string from, to, rule;
};

// A note about a connection (JSON "note" events with local/remote).
struct NoteInput {
  int64_t time_ns = 0;
  Endpoint local, remote;
  std::string text;
};

using Event = std::variant<SegmentInput, StateInput, NoteInput>;

struct Input {
  std::vector<Event> events;  // in file order
  uint64_t skipped = 0;       // packets/events that are not TCP over IPv4 or do not parse
  // Of those, the packets whose link type tcplab cannot unwrap, by link type.
  std::map<uint32_t, uint64_t> unsupported_linktypes;
  // Of those, TCP over IPv4 that cannot be drawn: the snap length cut into a header, or
  // IPv4 fragments whose datagram the capture does not hold whole.
  uint64_t header_cut = 0;
  uint64_t fragments = 0;
  uint64_t fragments_cut = 0;  // fragments whose bytes the snap length cut
  // Segments drawn although the snap length cut their payload (their length is the real one).
  uint64_t truncated = 0;
  std::string source;         // "pcap", "pcapng", "JSON trace"
};

// Splits a capture comment into state changes and notes ("; " or newlines separate several).
void classify_comment(std::string_view comment, std::vector<StateComment>& states,
                      std::vector<std::string>& notes);

// Every TCP-over-IPv4 packet of the capture as a segment; everything else counted as skipped.
// A segment the snap length cut keeps its length from the IPv4 header and says it was cut;
// fragments are reassembled when the capture holds them all (captured_tcp.hpp).
Input from_capture(const capture::Capture& capture);

// tcplab's JSON trace (stack/trace/json_sink.cpp). Nothing, with `error` set to
// "line 3: ...", when a line is not a JSON object of the expected shape.
std::optional<Input> from_json_trace(std::string_view text, std::string& error);

// True when the text looks like JSON lines (first non-blank character is '{').
bool looks_like_json_trace(std::string_view text);

}  // namespace tcplab::ladder

namespace tcplab::ladder {

// Any of the three by content: pcapng or pcap by magic number, else a JSON trace. Nothing,
// with `error` set, for a truncated or corrupt file or one of none of these kinds.
std::optional<Input> read_input(std::span<const std::byte> file, std::string& error);

}  // namespace tcplab::ladder
