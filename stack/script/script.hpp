// A packet scenario script (packetdrill syntax, docs/scenarios.md) parsed into plain values:
// timed lines that inject a segment, expect one, or make a socket call; plus config directives.
#pragma once
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "stack/wire/tcp.hpp"

namespace tcplab::scenario {

// A mistake in the script itself (not in the stack): reported with file:line:column.
struct ScriptError {
  std::string file;
  int line = 0;
  int column = 0;  // 1-based; 0 when the whole line is meant
  std::string token;
  std::string message;
  std::string format() const;
};

// Microseconds of script time since the start of the script.
using Micros = int64_t;

struct TimeSpec {
  enum class Kind { Absolute, Relative, Any };
  Kind kind = Kind::Relative;
  Micros value = 0;
  // "A~B" or packetdrill's "A...B": the event may happen anywhere in [A, B] instead of
  // A ± tolerance. In "+A...B" the end counts from the previous line too, like the start.
  std::optional<std::pair<Kind, Micros>> range_end;
};

// One TCP option as written between < and >. A missing value is the wildcard `*`.
struct OptionSpec {
  enum class Kind { Mss, WindowScale, SackPermitted, Timestamps, Sack, Nop, Eol };
  Kind kind = Kind::Nop;
  std::optional<uint32_t> a;  // mss value, wscale shift, TS val
  std::optional<uint32_t> b;  // TS ecr
  // "sack 1001:2001 3001:4001": blocks relative to the ISN of the side being acknowledged.
  std::vector<std::pair<uint32_t, uint32_t>> blocks;
};

struct SegmentSpec {
  int peer = 1;  // "#2" selects remote peer 2 (its own port and ISN)
  bool peer_given = false;  // "#N" written: "> #N none" is about that peer's packets only
  wire::TcpFlags flags;
  bool seq_any = false;  // "*" instead of seq:end(len)
  uint32_t seq = 0;      // relative to the sender's ISN
  uint32_t len = 0;      // payload bytes (SYN/FIN not counted, like packetdrill)
  bool len_any = false;  // "seq:*(*)" on a '>' line: any payload length (tcplab extension)
  bool ack_given = false;
  std::optional<uint32_t> ack;  // nullopt with ack_given = "ack *"
  bool win_given = false;
  std::optional<uint32_t> win;  // raw value on the wire; nullopt with win_given = "win *"
  bool options_given = false;
  bool options_any = false;  // "<...>"
  std::vector<OptionSpec> options;
  bool bad_checksum = false;  // "badsum": inject with a corrupted TCP checksum
  // "GET / HTTP/1.1\r\n..." (tcplab extension), escapes decoded: on a '<' line the payload
  // itself (exactly len bytes); on a '>' line what the payload must start with. Without it
  // the payload is filler_byte() text, as packetdrill scripts expect.
  std::optional<std::string> text;
};

// "frag A:B" (tcplab extension): inject only bytes [A, B) of the IPv4 payload (transport
// header + data) as one fragment (RFC 791 §3.2). MF is set unless B is the payload's end.
struct FragmentSpec {
  uint32_t offset = 0;  // a multiple of 8: the header counts offsets in 8-byte units
  uint32_t end = 0;
};

// An ICMP message (RFC 792) in packetdrill's words: "icmp unreachable frag_needed mtu 1200
// [1:1461(1460)]". Only the error types tcplab's stack sends or reads are supported.
struct IcmpSpec {
  uint8_t type = 0;
  uint8_t code = 0;
  std::optional<uint16_t> mtu;  // next-hop MTU of frag_needed (RFC 1191 §4)
  // The quoted TCP segment the stack sent (its seq relative to the stack's ISN); required
  // on '<' lines, which quote it as RFC 792's "Internet Header + 64 bits" of it.
  bool quote_given = false;
  wire::TcpFlags quote_flags;
  uint32_t quote_seq = 0;
  uint32_t quote_len = 0;
};

// What a '<' or '>' line carries: a TCP segment, an ICMP message, or (packetdrill's
// "udp (LEN)") a UDP datagram of LEN payload bytes to the listening port.
enum class Protocol { Tcp, Icmp, Udp };

struct CallSpec {
  std::string name;
  std::vector<std::string> args;  // top-level comma-separated arguments, trimmed
  // Expected result: an integer (with an errno name when -1) or a word (state names).
  bool result_is_word = false;
  int64_t result = 0;
  std::string error;  // "EINPROGRESS", "EAGAIN", ... or the word for word results
};

struct Line {
  enum class Kind { Inject, Expect, ExpectNone, Call };
  int number = 0;    // 1-based line in the file
  std::string text;  // the line as written, for history and diagnoses
  TimeSpec time;
  Kind kind = Kind::Call;
  Protocol protocol = Protocol::Tcp;
  SegmentSpec segment;  // Tcp; `peer` also names the sender of Icmp and Udp lines
  IcmpSpec icmp;
  uint32_t udp_len = 0;
  std::optional<FragmentSpec> fragment;  // '<' Tcp and Udp lines only
  // Fragment lines with the same datagram text (the line between '<' and "frag") belong to
  // one IPv4 datagram: they share its identification.
  std::string datagram;
  CallSpec call;
};

struct ConfigEntry {
  int line = 0;
  std::string key;
  std::string value;
};

struct Script {
  std::string path;
  std::string name;  // file name without directory and ".pkt"
  // Read from stdin ("-", named "stdin" in diagnoses): a rerun has to pipe it in again.
  bool from_stdin = false;
  std::vector<ConfigEntry> config;
  std::vector<Line> lines;
  std::optional<std::string> expect_error;  // "// expect-error: TEXT" (self-test scripts)
  std::optional<std::string> pending;       // "// PENDING: reason"
  // packetdrill lines tcplab parses but never runs: `shell commands` and %{ python }% blocks.
  int skipped_shell_lines = 0;
  int skipped_python_blocks = 0;
};

// "skipped 3 shell lines and 1 python block: tcplab does not run them", or "" if none.
std::string skipped_note(const Script& script);

// Parses the text of a script; on the first mistake returns the error instead.
struct ParseResult {
  std::optional<Script> script;
  std::optional<ScriptError> error;
};
ParseResult parse_script(const std::string& path, const std::string& text);

// The text of a "// expect-error: TEXT" comment in `line`, trimmed; nothing if the line has
// none or the text is empty (an empty text would match every failure).
std::optional<std::string> expect_error_text(std::string_view line);

// packetdrill's names: "unreachable frag_needed", "time_exceeded exceeded_frag_time", or
// "type_N code_N" for a pair it has no name for.
std::string icmp_to_string(uint8_t type, uint8_t code);

// Payload bytes as a script would write them: printable ASCII as is, the C escapes \r \n \t
// \\ \" for those bytes and \xNN for any other; at most `limit` bytes, then "...".
std::string quote_text(std::string_view bytes, size_t limit);

// A TCP state as a script writes it - the RFC's name (TIME-WAIT) or Linux's (TCP_TIME_WAIT,
// SYN_RECV, FIN_WAIT1, CLOSE), in any case, '_' for '-' - as the RFC 9293 §3.3.2 name. With
// `linux_numbers` also Linux's tcpi_state numbers (1 ESTABLISHED ... 11 CLOSING). Nothing when
// the text names no state.
std::optional<std::string> rfc_state_name(std::string_view written, bool linux_numbers);

// The largest byte count a read() or write() line may name (the runner allocates it), and the
// largest listen() backlog, with the words the parser and the runner refuse a backlog in.
inline constexpr uint64_t kMaxCallCount = 64u << 20;
inline std::string backlog_range_text() {
  return "listen(): the backlog must be a number of connections from 0 to " + std::to_string(kMaxCallCount);
}

// The TCP_INFO fields the runner compares as numbers (docs/scenarios.md); tcpi_state is
// compared as a state, any other field is ignored.
inline constexpr std::string_view kTcpInfoNumbers[] = {
    "tcpi_rto", "tcpi_rtt", "tcpi_snd_cwnd", "tcpi_snd_ssthresh", "tcpi_snd_mss", "tcpi_total_retrans"};

// "S.", "FP.", "R": packetdrill's letters in its order (F S R P . U E W).
std::string flags_to_string(const wire::TcpFlags& flags);

}  // namespace tcplab::scenario
