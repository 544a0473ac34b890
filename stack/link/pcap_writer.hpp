// A pcap tap: writes every IPv4 packet crossing the stack's link to a capture that Wireshark
// and tshark open, even while running. pcapng (the default) carries a comment on each packet
// that says why it matters: the state change it caused, a retransmission, the stack's drop
// reason, a fault injected on purpose. Classic pcap (--pcap-format pcap) has no comments.
#pragma once
#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "stack/four_tuple.hpp"
#include "stack/trace/trace.hpp"

namespace tcplab::link {

// pcap's link type for packets that start with the IPv4 header (tcpdump.org/linktypes.html).
constexpr uint32_t kLinktypeRaw = 101;
// Bytes of each packet kept; larger packets are truncated (incl_len < orig_len).
constexpr uint32_t kPcapSnapLength = 65535;
// How stale the file on disk may get while packets flow: Wireshark's "reload" and a test's
// `tshark -r` see every packet older than this without a write() per packet.
constexpr std::chrono::milliseconds kPcapFlushInterval{100};

enum class PcapFormat { Pcap, Pcapng };
// "pcap" / "pcapng"; nothing for anything else.
std::optional<PcapFormat> parse_pcap_format(std::string_view text);

class PcapWriter final : public trace::Sink {
 public:
  // Creates (truncates) `path` and writes the file header. Check ok() afterwards. A FIFO
  // with no reader yet calls `waiting_for_reader` and waits for one (open_output).
  explicit PcapWriter(const std::string& path, PcapFormat format = PcapFormat::Pcapng,
                      const std::function<void()>& waiting_for_reader = {});
  ~PcapWriter() override;  // writes what is pending, flushes and closes
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;

  bool ok() const { return error_.empty(); }
  // "cannot open capture.pcap: Permission denied"; empty while ok().
  const std::string& error() const { return error_; }
  PcapFormat format() const { return format_; }

  // Records one packet. Timestamps are wall-clock time: the stack's steady Instant is
  // mapped through the (steady, system) clock pair taken at construction or set_origin().
  // In pcapng the record waits (in memory) until the events it causes are known: it is
  // written at the next packet, at advance() or at flush().
  void packet(Instant t, trace::Direction direction, std::span<const std::byte> ipv4) override;
  // The events that become packet comments (pcapng only).
  void segment(Instant t, const trace::SegmentEvent& e) override;
  void state_change(Instant t, const FourTuple& c, std::string_view from, std::string_view to,
                    std::string_view rule) override;
  void drop(Instant t, DropReason reason, std::span<const std::byte> ipv4, std::string_view detail) override;
  void fault(Instant t, trace::Direction direction, std::string_view what,
             std::span<const std::byte> ipv4) override;

  // Writes buffered records to the file now.
  void flush();
  // Writes the records whose events are all known, for step mode's pauses: everything but an
  // inbound pcapng record whose processing has not built a segment yet, which stays until the
  // events it causes have come (the pause before a packet is processed would otherwise cut
  // it off from its comments). The segments the stack built reach the tap when its turn ends.
  void flush_complete();
  // Flushes if records are buffered and the last flush was at least kPcapFlushInterval ago.
  // The event loop calls this every iteration and wakes up by next_flush_deadline(), so a
  // capture is complete on disk within ~100 ms even when traffic stops.
  void flush_due(Instant now);
  // When buffered records are due on disk, or nullopt if nothing is buffered. A pending
  // pcapng record is due at once (its events are known by the loop's next iteration).
  std::optional<Instant> next_flush_deadline() const;
  // The same two under the names loop::TimedAdapter expects, so the event loop can wake
  // for the flush: loop.add_client(*new TimedAdapter<PcapWriter>(pcap)).
  std::optional<Instant> next_deadline() const { return next_flush_deadline(); }
  void advance(Instant now);
  // For tests and replays on a virtual clock: `steady` corresponds to wall time `wall`.
  void set_origin(Instant steady, std::chrono::system_clock::time_point wall);

  uint64_t packets_written() const { return packets_; }
  uint64_t comments_written() const { return comments_; }

 private:
  // The packet whose comments are still being collected. Its block header and bytes are
  // already in out_ (at `offset`); the options and the block's length follow when it ends.
  struct Record {
    Instant t;
    trace::Direction direction = trace::Direction::In;
    size_t offset = 0;         // where its block starts in out_
    uint32_t length = 0;       // the packet's length (orig_len)
    uint32_t kept = 0;         // the bytes kept in the block (incl_len)
    std::vector<std::string> comments;
    std::optional<FourTuple> tuple;  // a TCP segment's connection, from the stack's side
    bool answered = false;           // inbound: the stack has built a segment since it came
  };
  // An outbound segment as the stack built it (segment event), with its comments, waiting for
  // the packet to reach the tap; matched by ports, sequence and acknowledgment numbers, flags,
  // window and length. Every segment has one, noted or not, so that of two alike (a segment
  // and its retransmission in one turn) each packet takes its own.
  struct OutboundNote {
    uint16_t source_port = 0, destination_port = 0;
    uint32_t seq = 0, length = 0;
    uint8_t flags = 0;
    uint32_t ack = 0;
    uint16_t window = 0;
    std::vector<std::string> comments;
  };
  // A state change a user call or timer made, waiting for the segment that goes with it: for
  // a CLOSE (to FIN-WAIT-1 or LAST-ACK) the one that carries the FIN, whenever it leaves.
  struct StateNote {
    Instant t;
    FourTuple tuple;
    std::string text;
    bool on_fin = false;
  };
  // A fault that changes how an inbound packet reaches the stack (delay, duplicate, ...),
  // waiting for that packet to reach the tap. Matched by its bytes; the notes of one packet
  // share the time the injector decided.
  struct InboundNote {
    Instant t;
    std::vector<std::byte> bytes;
    std::string text;
    int copies = 1;         // a duplicated packet arrives twice
    int seen = 0;
    bool numbered = false;  // the duplicate itself: "copy 1 of 2", "copy 2 of 2"
  };

  void fail(const std::string& what);
  void write_classic(Instant t, std::span<const std::byte> ipv4);
  void write_pending();
  void start_pending(Instant t, trace::Direction direction, std::span<const std::byte> ipv4);
  // The pending packet's bytes as they sit in out_.
  std::span<const std::byte> pending_bytes() const;
  // Bytes in out_ that are complete records (all but the pending one).
  size_t committed() const { return has_pending_ ? pending_.offset : out_.size(); }
  // write()s the first `n` bytes of out_ to the file and drops them from out_.
  void write_out(size_t n);
  // How many of out_'s first `n` bytes are whole records (or file headers), from its start.
  size_t whole_records_in(size_t n) const;
  uint64_t wall_nanoseconds(Instant t) const;

  PcapFormat format_;
  // Every record is built in place here, packet bytes copied once, and reaches the file in
  // one write() per kOutBufferSize (or per flush): no allocation or stdio call per packet.
  std::vector<std::byte> out_;
  int fd_ = -1;
  uint64_t on_disk_ = 0;  // bytes of whole records (and headers) in the file
  std::string path_;
  std::string error_;
  Instant steady_origin_;
  std::chrono::system_clock::time_point wall_origin_;
  std::optional<Instant> last_flush_;
  bool dirty_ = false;  // complete records in out_ that are not on disk yet
  uint64_t packets_ = 0;
  uint64_t comments_ = 0;
  bool has_pending_ = false;
  Record pending_;  // reused: its comment list keeps its capacity between packets
  std::deque<OutboundNote> outbound_notes_;
  std::vector<StateNote> state_notes_;
  std::deque<InboundNote> inbound_notes_;
};

}  // namespace tcplab::link
