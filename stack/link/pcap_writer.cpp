// Capture files (see pcap_writer.hpp). Classic pcap: a 24-byte global header, then per packet
// a 16-byte record header and the bytes. pcapng (pcapng spec, draft-ietf-opsawg-pcapng): a
// Section Header Block, one Interface Description Block (LINKTYPE_RAW, nanosecond
// timestamps), then one Enhanced Packet Block per packet with opt_comment options and
// epb_flags for the direction. Every field is written little-endian (readers detect the byte
// order from the magic), so files are identical on any host.
#include "stack/link/pcap_writer.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "stack/link/open_output.hpp"
#include "stack/wire/ipv4.hpp"
#include "stack/wire/tcp.hpp"

namespace tcplab::link {

namespace {

constexpr uint32_t kPcapMagicMicroseconds = 0xa1b2c3d4;
constexpr uint16_t kPcapVersionMajor = 2;
constexpr uint16_t kPcapVersionMinor = 4;
constexpr size_t kOutBufferSize = 256 * 1024;  // a burst of full-size packets per write()
// An Enhanced Packet Block up to its packet data: type, total length, interface ID,
// timestamp (high, low), captured length, original length.
constexpr size_t kEpbHeaderSize = 28;

// pcapng block types and option codes.
constexpr uint32_t kSectionHeaderBlock = 0x0A0D0D0A;
constexpr uint32_t kInterfaceDescriptionBlock = 0x00000001;
constexpr uint32_t kEnhancedPacketBlock = 0x00000006;
constexpr uint32_t kByteOrderMagic = 0x1A2B3C4D;
constexpr uint16_t kOptEndOfOpt = 0;
constexpr uint16_t kOptComment = 1;
constexpr uint16_t kShbUserAppl = 4;
constexpr uint16_t kIfName = 2;
constexpr uint16_t kIfTsResol = 9;
constexpr uint16_t kEpbFlags = 2;
constexpr uint8_t kNanosecondResolution = 9;  // if_tsresol: 10^-9 s
constexpr uint32_t kEpbFlagInbound = 1;       // epb_flags bits 0-1: direction
constexpr uint32_t kEpbFlagOutbound = 2;
constexpr size_t kMaxOptionLength = 65535;
// Bounds on notes waiting for their packet, so a note that never finds one cannot pile up.
constexpr size_t kMaxWaitingNotes = 256;
// Outbound segments built and not yet seen by the tap: one turn may build a whole window.
constexpr size_t kMaxWaitingSegments = 4096;
constexpr size_t kMaxLookahead = 64;

void put_le16(std::byte* at, uint16_t v) {
  at[0] = std::byte(v & 0xff);
  at[1] = std::byte(v >> 8);
}
void put_le32(std::byte* at, uint32_t v) {
  put_le16(at, static_cast<uint16_t>(v & 0xffff));
  put_le16(at + 2, static_cast<uint16_t>(v >> 16));
}

void append_le16(std::vector<std::byte>& out, uint16_t v) {
  out.resize(out.size() + 2);
  put_le16(&out[out.size() - 2], v);
}
void append_le32(std::vector<std::byte>& out, uint32_t v) {
  out.resize(out.size() + 4);
  put_le32(&out[out.size() - 4], v);
}
void append_padded(std::vector<std::byte>& out, std::span<const std::byte> data) {
  out.insert(out.end(), data.begin(), data.end());
  out.resize((out.size() + 3) & ~size_t{3}, std::byte{0});  // pcapng pads to 32 bits
}
void append_option(std::vector<std::byte>& out, uint16_t code, std::span<const std::byte> value) {
  if (value.size() > kMaxOptionLength) value = value.first(kMaxOptionLength);
  append_le16(out, code);
  append_le16(out, static_cast<uint16_t>(value.size()));
  append_padded(out, value);
}
void append_option(std::vector<std::byte>& out, uint16_t code, std::string_view text) {
  append_option(out, code, std::as_bytes(std::span(text.data(), text.size())));
}

// A whole pcapng block: type, total length, body, total length again.
void append_block(std::vector<std::byte>& out, uint32_t type, std::span<const std::byte> body) {
  const auto total = static_cast<uint32_t>(12 + body.size());
  append_le32(out, type);
  append_le32(out, total);
  out.insert(out.end(), body.begin(), body.end());
  append_le32(out, total);
}

bool same_bytes(std::span<const std::byte> a, std::span<const std::byte> b) {
  return a.size() == b.size() && std::equal(a.begin(), a.end(), b.begin());
}

// The TCP header fields of a raw packet, checksum not verified (the tap must describe any
// packet); nothing for anything but TCP.
struct TcpKey {
  wire::Ipv4Address source, destination;
  uint16_t source_port = 0, destination_port = 0;
  uint32_t seq = 0, length = 0;
  uint8_t flags = 0;
  uint32_t ack = 0;
  uint16_t window = 0;
};
std::optional<TcpKey> tcp_key(std::span<const std::byte> ipv4) {
  auto ip = wire::parse_ipv4(ipv4);
  if (!ip || ip->header.protocol != static_cast<uint8_t>(wire::IpProtocol::Tcp)) return std::nullopt;
  auto seg = wire::parse_tcp(ip->payload, ip->header.source, ip->header.destination, false);
  if (!seg) return std::nullopt;
  return TcpKey{ip->header.source,     ip->header.destination, seg->source_port,
                seg->destination_port, seg->seq.raw(),         static_cast<uint32_t>(seg->payload.size()),
                seg->flags.to_byte(),  seg->ack.raw(),         seg->window};
}

}  // namespace

std::optional<PcapFormat> parse_pcap_format(std::string_view text) {
  if (text == "pcap") return PcapFormat::Pcap;
  if (text == "pcapng") return PcapFormat::Pcapng;
  return std::nullopt;
}

PcapWriter::PcapWriter(const std::string& path, PcapFormat format,
                       const std::function<void()>& waiting_for_reader)
    : format_(format),
      path_(path),
      steady_origin_(std::chrono::steady_clock::now()),
      wall_origin_(std::chrono::system_clock::now()) {
  fd_ = open_output(path, waiting_for_reader);
  if (fd_ < 0) {
    fail("cannot open");
    return;
  }
  // Room for a full buffer plus the largest record, so appending never reallocates.
  out_.reserve(kOutBufferSize + kPcapSnapLength + 1024);
  if (format_ == PcapFormat::Pcap) {
    append_le32(out_, kPcapMagicMicroseconds);
    append_le16(out_, kPcapVersionMajor);
    append_le16(out_, kPcapVersionMinor);
    append_le32(out_, 0);  // thiszone: timestamps are UTC
    append_le32(out_, 0);  // sigfigs: always 0
    append_le32(out_, kPcapSnapLength);
    append_le32(out_, kLinktypeRaw);
  } else {
    std::vector<std::byte> body;
    append_le32(body, kByteOrderMagic);
    append_le16(body, 1);           // major version
    append_le16(body, 0);           // minor version
    append_le32(body, 0xFFFFFFFF);  // section length: not given (64 bits of all ones)
    append_le32(body, 0xFFFFFFFF);
    append_option(body, kShbUserAppl, std::string_view("tcplab"));
    append_option(body, kOptEndOfOpt, std::span<const std::byte>{});
    append_block(out_, kSectionHeaderBlock, body);
    body.clear();
    append_le16(body, static_cast<uint16_t>(kLinktypeRaw));
    append_le16(body, 0);  // reserved
    append_le32(body, kPcapSnapLength);
    append_option(body, kIfName, std::string_view("tcplab"));
    const std::byte resolution{kNanosecondResolution};
    append_option(body, kIfTsResol, std::span(&resolution, 1));
    append_option(body, kOptEndOfOpt, std::span<const std::byte>{});
    append_block(out_, kInterfaceDescriptionBlock, body);
  }
  // The header goes to disk at once so even an empty capture is a valid file.
  flush();
}

PcapWriter::~PcapWriter() {
  flush();
  if (fd_ >= 0) ::close(fd_);
}

void PcapWriter::fail(const std::string& what) {
  if (error_.empty()) error_ = what + " " + path_ + ": " + std::strerror(errno);
}

void PcapWriter::set_origin(Instant steady, std::chrono::system_clock::time_point wall) {
  steady_origin_ = steady;
  wall_origin_ = wall;
}

uint64_t PcapWriter::wall_nanoseconds(Instant t) const {
  auto wall =
      wall_origin_ + std::chrono::duration_cast<std::chrono::system_clock::duration>(t - steady_origin_);
  auto ns = std::chrono::duration_cast<std::chrono::nanoseconds>(wall.time_since_epoch()).count();
  return ns < 0 ? 0 : static_cast<uint64_t>(ns);  // a virtual clock far before the origin: clamp
}

size_t PcapWriter::whole_records_in(size_t n) const {
  auto le32_at = [this](size_t at) {
    return static_cast<uint32_t>(out_[at]) | static_cast<uint32_t>(out_[at + 1]) << 8 |
           static_cast<uint32_t>(out_[at + 2]) << 16 | static_cast<uint32_t>(out_[at + 3]) << 24;
  };
  size_t pos = 0;
  if (format_ == PcapFormat::Pcap) {
    constexpr size_t kGlobalHeader = 24, kRecordHeader = 16;
    if (on_disk_ == 0) {
      if (n < kGlobalHeader) return 0;
      pos = kGlobalHeader;
    }
    // Each record: ts_sec, ts_usec, incl_len, orig_len, then incl_len bytes.
    while (pos + kRecordHeader <= n && pos + kRecordHeader + le32_at(pos + 8) <= n)
      pos += kRecordHeader + le32_at(pos + 8);
    return pos;
  }
  // pcapng: every block, the section header included, starts with its type and total length.
  while (pos + 8 <= n && le32_at(pos + 4) >= 12 && pos + le32_at(pos + 4) <= n) pos += le32_at(pos + 4);
  return pos;
}

void PcapWriter::write_out(size_t n) {
  if (fd_ < 0 || !ok()) return;
  size_t done = 0;
  while (done < n) {
    ssize_t w = ::write(fd_, out_.data() + done, n - done);
    if (w < 0 && errno == EINTR) continue;
    if (w <= 0) {
      fail("cannot write");
      // A full disk took part of a record: the file is cut back to the last whole one, as
      // docs/observability.md promises, so Wireshark and tcplab ladder read what was recorded.
      // (A pipe cannot be cut; what it took stays.)
      [[maybe_unused]] int cut = ::ftruncate(fd_, static_cast<off_t>(on_disk_ + whole_records_in(done)));
      return;
    }
    done += static_cast<size_t>(w);
  }
  on_disk_ += n;
  out_.erase(out_.begin(), out_.begin() + static_cast<std::ptrdiff_t>(n));
  if (has_pending_) pending_.offset -= n;
}

void PcapWriter::write_classic(Instant t, std::span<const std::byte> ipv4) {
  uint64_t us = wall_nanoseconds(t) / 1000;
  uint32_t orig_len = static_cast<uint32_t>(ipv4.size());
  uint32_t incl_len = orig_len < kPcapSnapLength ? orig_len : kPcapSnapLength;
  append_le32(out_, static_cast<uint32_t>(us / 1000000));
  append_le32(out_, static_cast<uint32_t>(us % 1000000));
  append_le32(out_, incl_len);
  append_le32(out_, orig_len);
  out_.insert(out_.end(), ipv4.begin(), ipv4.begin() + incl_len);
  ++packets_;
  dirty_ = true;
  if (out_.size() >= kOutBufferSize) write_out(out_.size());
}

void PcapWriter::write_pending() {
  if (!has_pending_) return;
  has_pending_ = false;
  if (fd_ < 0 || !ok()) return;
  const Record& r = pending_;
  for (const auto& comment : r.comments) append_option(out_, kOptComment, comment);
  std::array<std::byte, 4> flags{};
  put_le32(flags.data(), r.direction == trace::Direction::In ? kEpbFlagInbound : kEpbFlagOutbound);
  append_option(out_, kEpbFlags, flags);
  append_option(out_, kOptEndOfOpt, std::span<const std::byte>{});
  const auto total = static_cast<uint32_t>(out_.size() + 4 - r.offset);
  append_le32(out_, total);
  put_le32(&out_[r.offset + 4], total);
  ++packets_;
  comments_ += r.comments.size();
  dirty_ = true;
}

std::span<const std::byte> PcapWriter::pending_bytes() const {
  return std::span(out_).subspan(pending_.offset + kEpbHeaderSize, pending_.kept);
}

void PcapWriter::start_pending(Instant t, trace::Direction direction, std::span<const std::byte> ipv4) {
  write_pending();
  if (fd_ < 0 || !ok()) return;
  if (out_.size() >= kOutBufferSize) write_out(out_.size());
  pending_.t = t;
  pending_.direction = direction;
  pending_.offset = out_.size();
  pending_.length = static_cast<uint32_t>(ipv4.size());
  pending_.kept = std::min(pending_.length, kPcapSnapLength);
  pending_.comments.clear();
  pending_.tuple.reset();
  pending_.answered = false;
  has_pending_ = true;
  // The block up to the packet's end is known now; the length is patched in write_pending.
  const uint64_t ns = wall_nanoseconds(t);
  out_.resize(out_.size() + kEpbHeaderSize);
  std::byte* header = &out_[pending_.offset];
  put_le32(header, kEnhancedPacketBlock);
  put_le32(header + 4, 0);  // total length: once the comments are known
  put_le32(header + 8, 0);  // interface ID: the one interface
  put_le32(header + 12, static_cast<uint32_t>(ns >> 32));
  put_le32(header + 16, static_cast<uint32_t>(ns & 0xFFFFFFFF));
  put_le32(header + 20, pending_.kept);
  put_le32(header + 24, pending_.length);
  append_padded(out_, ipv4.first(pending_.kept));
}

void PcapWriter::packet(Instant t, trace::Direction direction, std::span<const std::byte> ipv4) {
  if (fd_ < 0 || !ok()) return;
  if (format_ == PcapFormat::Pcap) {
    write_classic(t, ipv4);
    // The first packet after a quiet spell goes out at once; a burst collects in the buffer.
    flush_due(t);
    return;
  }
  start_pending(t, direction, ipv4);
  if (direction == trace::Direction::In) {
    if (auto key = tcp_key(ipv4))
      pending_.tuple = FourTuple{key->destination, key->destination_port, key->source, key->source_port};
    // The faults the injector made to this packet on its way in (delay, duplicate, ...): all
    // those of one decision (a packet both corrupted and duplicated has two), each copy of a
    // duplicate numbered.
    auto first = std::find_if(inbound_notes_.begin(), inbound_notes_.end(),
                              [&](const InboundNote& n) { return same_bytes(n.bytes, ipv4); });
    if (first != inbound_notes_.end()) {
      const Instant decided = first->t;
      for (auto it = first; it != inbound_notes_.end();) {
        if (it->t != decided || !same_bytes(it->bytes, ipv4)) {
          ++it;
          continue;
        }
        ++it->seen;
        std::string text = "fault injector: " + it->text;
        if (it->numbered) text += ", copy " + std::to_string(it->seen) + " of " + std::to_string(it->copies);
        pending_.comments.push_back(std::move(text));
        it = it->seen >= it->copies ? inbound_notes_.erase(it) : it + 1;
      }
    }
  } else if (!outbound_notes_.empty()) {
    // Segments wait in the order the stack built them, which is the order they leave, so the
    // packet is at or near the front; a packet no segment event stands for (a GSO super-packet
    // with --offload) looks no further than kMaxLookahead.
    if (auto key = tcp_key(ipv4)) {
      const auto end = outbound_notes_.begin() +
                       static_cast<std::ptrdiff_t>(std::min(outbound_notes_.size(), kMaxLookahead));
      for (auto it = outbound_notes_.begin(); it != end; ++it) {
        // Pure ACKs of one turn share ports, SEQ, flags and length: the ACK number and the
        // window tell a dup ACK from the ACK or window update after it.
        if (it->source_port != key->source_port || it->destination_port != key->destination_port ||
            it->seq != key->seq || it->flags != key->flags || it->length != key->length ||
            it->ack != key->ack || it->window != key->window)
          continue;
        for (auto& c : it->comments) pending_.comments.push_back(std::move(c));
        // Notes before it belonged to segments that never reached the tap.
        outbound_notes_.erase(outbound_notes_.begin(), it + 1);
        break;
      }
    }
  }
  flush_due(t);
}

void PcapWriter::segment(Instant t, const trace::SegmentEvent& e) {
  if (format_ != PcapFormat::Pcapng) return;
  if (e.direction == trace::Direction::In) {
    if (!e.note.empty() && has_pending_ && pending_.tuple == e.tuple)
      pending_.comments.push_back(std::string(e.note));
    return;
  }
  // The inbound packet being processed has led to output: the comments of its own steps
  // are known (see flush_complete).
  if (has_pending_ && pending_.direction == trace::Direction::In) pending_.answered = true;
  OutboundNote note;
  // State changes made by a user call (CLOSE, active OPEN) or a timer at this moment go with
  // this connection's next segment: the SYN after OPEN; a CLOSE's with the FIN, which may
  // follow queued data, even later.
  std::erase_if(state_notes_, [&](StateNote& s) {
    if (s.on_fin) {
      if (s.tuple != e.tuple || !e.segment.flags.fin) return false;
    } else {
      if (s.t < t) return true;  // stale: no segment went with it
      if (s.tuple != e.tuple) return false;
    }
    note.comments.push_back(std::move(s.text));
    return true;
  });
  if (!e.note.empty()) note.comments.push_back(std::string(e.note));
  note.source_port = e.tuple.local_port;
  note.destination_port = e.tuple.remote_port;
  note.seq = e.segment.seq.raw();
  note.length = static_cast<uint32_t>(e.segment.payload.size());
  note.flags = e.segment.flags.to_byte();
  note.ack = e.segment.ack.raw();
  note.window = e.segment.window;
  if (outbound_notes_.size() >= kMaxWaitingSegments) outbound_notes_.pop_front();
  outbound_notes_.push_back(std::move(note));
}

void PcapWriter::state_change(Instant t, const FourTuple& c, std::string_view from, std::string_view to,
                              std::string_view rule) {
  if (format_ != PcapFormat::Pcapng) return;
  std::string text = std::string(from) + " -> " + std::string(to);
  if (!rule.empty()) text += " (" + std::string(rule) + ")";
  // RFC 9293 §3.10.7 is "segment arrives", and RFC 4987 §3.6's valid cookie is an ACK that
  // arrived: such a change belongs to the inbound packet the stack is processing right now.
  // Anything else waits for the connection's next segment.
  const bool from_arrival =
      rule.find("§3.10.7") != std::string_view::npos || rule.find("RFC 4987") != std::string_view::npos;
  if (from_arrival && has_pending_ && pending_.direction == trace::Direction::In && pending_.t == t &&
      pending_.tuple == c) {
    pending_.comments.push_back(std::move(text));
    return;
  }
  if (state_notes_.size() >= kMaxWaitingNotes) state_notes_.erase(state_notes_.begin());
  // RFC 9293 §3.10.4: CLOSE sends a FIN (after any queued data); that segment shows the change.
  const bool on_fin = to == "FIN-WAIT-1" || to == "LAST-ACK";
  state_notes_.push_back(StateNote{t, c, std::move(text), on_fin});
}

void PcapWriter::drop(Instant, DropReason reason, std::span<const std::byte> ipv4, std::string_view detail) {
  if (format_ != PcapFormat::Pcapng || !has_pending_ || pending_.direction != trace::Direction::In) return;
  if (!same_bytes(pending_bytes(), ipv4)) return;
  std::string text = "dropped by the stack: " + std::string(tcplab::to_string(reason));
  if (!detail.empty()) text += " (" + std::string(detail) + ")";
  pending_.comments.push_back(std::move(text));
}

void PcapWriter::fault(Instant t, trace::Direction direction, std::string_view what,
                       std::span<const std::byte> ipv4) {
  if (format_ != PcapFormat::Pcapng || fd_ < 0 || !ok()) return;
  std::string text = "fault injector: " + std::string(what);
  if (direction == trace::Direction::Out) {
    // The tap saw the packet as the stack sent it, just before the injector got it (a
    // corrupted copy differs in one bit, so match by time, size and direction).
    if (has_pending_ && pending_.direction == direction && pending_.t == t &&
        pending_.length == ipv4.size()) {
      pending_.comments.push_back(std::move(text));
      return;
    }
    // Not seen by the tap (a caller that taps after the injector): record it here.
    start_pending(t, direction, ipv4);
    pending_.comments.push_back(std::move(text));
    return;
  }
  if (what.starts_with("dropped")) {
    // The stack will never see it, so the tap would not either: record it here, so the
    // capture shows the packet the peer sent and why it went missing.
    start_pending(t, direction, ipv4);
    pending_.comments.push_back(std::move(text));
    return;
  }
  // What the injector did to a duplicated packet (a flipped bit, a delay) is in both copies,
  // so those notes go on both records, whichever the injector reported first.
  const bool duplicated = what.starts_with("duplicated");
  int copies = duplicated ? 2 : 1;
  for (auto& earlier : inbound_notes_) {
    if (earlier.t != t || earlier.seen != 0 || !same_bytes(earlier.bytes, ipv4)) continue;
    if (duplicated) earlier.copies = 2;
    if (earlier.numbered) copies = 2;
  }
  if (inbound_notes_.size() >= kMaxWaitingNotes) inbound_notes_.pop_front();
  inbound_notes_.push_back(InboundNote{t, std::vector<std::byte>(ipv4.begin(), ipv4.end()), std::string(what),
                                       copies, 0, duplicated});
}

void PcapWriter::flush() {
  write_pending();
  write_out(out_.size());
  dirty_ = false;
}

void PcapWriter::flush_complete() {
  // A pending outbound record is complete: the fault injector reports what it does to a
  // segment right after the tap. A pending inbound one is complete once the stack has built
  // a segment since: its processing has gone past the RFC 9293 §3.10.7 steps that change its
  // state (a later change would go on this connection's next segment instead).
  if (has_pending_ && (pending_.direction == trace::Direction::Out || pending_.answered)) write_pending();
  write_out(committed());
  dirty_ = has_pending_;
}

std::optional<Instant> PcapWriter::next_flush_deadline() const {
  if (has_pending_) return pending_.t;
  if (!dirty_ || !last_flush_) return std::nullopt;
  return *last_flush_ + kPcapFlushInterval;
}

void PcapWriter::advance(Instant now) {
  write_pending();
  flush_due(now);
}

void PcapWriter::flush_due(Instant now) {
  if (!dirty_) return;
  if (!last_flush_ || now - *last_flush_ >= kPcapFlushInterval) {
    // The pending record stays: its comments may still come.
    write_out(committed());
    dirty_ = false;
    last_flush_ = now;
  }
}

}  // namespace tcplab::link
