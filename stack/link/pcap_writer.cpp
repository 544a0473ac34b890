// Capture files (see pcap_writer.hpp). Classic pcap: a 24-byte global header, then per packet
// a 16-byte record header and the bytes. pcapng (pcapng spec, draft-ietf-opsawg-pcapng): a
// Section Header Block, one Interface Description Block (LINKTYPE_RAW, nanosecond
// timestamps), then one Enhanced Packet Block per packet with opt_comment options and
// epb_flags for the direction. Every field is written little-endian (readers detect the byte
// order from the magic), so files are identical on any host.
#include "stack/link/pcap_writer.hpp"

#include <algorithm>
#include <array>
#include <cerrno>
#include <cstring>

#include "stack/wire/ipv4.hpp"
#include "stack/wire/tcp.hpp"

namespace tcplab::link {

namespace {

constexpr uint32_t kPcapMagicMicroseconds = 0xa1b2c3d4;
constexpr uint16_t kPcapVersionMajor = 2;
constexpr uint16_t kPcapVersionMinor = 4;
constexpr size_t kStdioBufferSize = 256 * 1024;  // a burst of full-size packets per write()

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
};
std::optional<TcpKey> tcp_key(std::span<const std::byte> ipv4) {
  auto ip = wire::parse_ipv4(ipv4);
  if (!ip || ip->header.protocol != static_cast<uint8_t>(wire::IpProtocol::Tcp)) return std::nullopt;
  auto seg = wire::parse_tcp(ip->payload, ip->header.source, ip->header.destination, false);
  if (!seg) return std::nullopt;
  return TcpKey{ip->header.source,     ip->header.destination, seg->source_port,
                seg->destination_port, seg->seq.raw(),         static_cast<uint32_t>(seg->payload.size()),
                seg->flags.to_byte()};
}

}  // namespace

std::optional<PcapFormat> parse_pcap_format(std::string_view text) {
  if (text == "pcap") return PcapFormat::Pcap;
  if (text == "pcapng") return PcapFormat::Pcapng;
  return std::nullopt;
}

PcapWriter::PcapWriter(const std::string& path, PcapFormat format)
    : format_(format),
      stdio_buffer_(kStdioBufferSize),
      path_(path),
      steady_origin_(std::chrono::steady_clock::now()),
      wall_origin_(std::chrono::system_clock::now()) {
  file_.reset(std::fopen(path.c_str(), "wb"));
  if (!file_) {
    fail("cannot open");
    return;
  }
  std::setvbuf(file_.get(), stdio_buffer_.data(), _IOFBF, stdio_buffer_.size());
  if (format_ == PcapFormat::Pcap) {
    std::array<std::byte, 24> header{};
    put_le32(&header[0], kPcapMagicMicroseconds);
    put_le16(&header[4], kPcapVersionMajor);
    put_le16(&header[6], kPcapVersionMinor);
    put_le32(&header[8], 0);   // thiszone: timestamps are UTC
    put_le32(&header[12], 0);  // sigfigs: always 0
    put_le32(&header[16], kPcapSnapLength);
    put_le32(&header[20], kLinktypeRaw);
    if (std::fwrite(header.data(), 1, header.size(), file_.get()) != header.size()) {
      fail("cannot write");
      return;
    }
  } else {
    std::vector<std::byte> body;
    append_le32(body, kByteOrderMagic);
    append_le16(body, 1);           // major version
    append_le16(body, 0);           // minor version
    append_le32(body, 0xFFFFFFFF);  // section length: not given (64 bits of all ones)
    append_le32(body, 0xFFFFFFFF);
    append_option(body, kShbUserAppl, std::string_view("tcplab"));
    append_option(body, kOptEndOfOpt, std::span<const std::byte>{});
    write_block(kSectionHeaderBlock, body);
    body.clear();
    append_le16(body, static_cast<uint16_t>(kLinktypeRaw));
    append_le16(body, 0);  // reserved
    append_le32(body, kPcapSnapLength);
    append_option(body, kIfName, std::string_view("tcplab"));
    const std::byte resolution{kNanosecondResolution};
    append_option(body, kIfTsResol, std::span(&resolution, 1));
    append_option(body, kOptEndOfOpt, std::span<const std::byte>{});
    write_block(kInterfaceDescriptionBlock, body);
    if (!ok()) return;
  }
  // The header goes to disk at once so even an empty capture is a valid file.
  flush();
}

PcapWriter::~PcapWriter() {
  write_pending();
  // fclose writes what is still buffered; stdio_buffer_ is declared first, so it is still
  // alive here and also when file_'s own destructor would run.
  file_.reset();
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

void PcapWriter::write_block(uint32_t type, const std::vector<std::byte>& body) {
  if (!file_ || !ok()) return;
  std::array<std::byte, 8> head{};
  const auto total = static_cast<uint32_t>(12 + body.size());
  put_le32(&head[0], type);
  put_le32(&head[4], total);
  if (std::fwrite(head.data(), 1, 8, file_.get()) != 8 ||
      std::fwrite(body.data(), 1, body.size(), file_.get()) != body.size() ||
      std::fwrite(&head[4], 1, 4, file_.get()) != 4) {
    fail("cannot write");
  }
}

void PcapWriter::write_classic(Instant t, std::span<const std::byte> ipv4) {
  uint64_t us = wall_nanoseconds(t) / 1000;
  uint32_t orig_len = static_cast<uint32_t>(ipv4.size());
  uint32_t incl_len = orig_len < kPcapSnapLength ? orig_len : kPcapSnapLength;
  std::array<std::byte, 16> record{};
  put_le32(&record[0], static_cast<uint32_t>(us / 1000000));
  put_le32(&record[4], static_cast<uint32_t>(us % 1000000));
  put_le32(&record[8], incl_len);
  put_le32(&record[12], orig_len);
  if (std::fwrite(record.data(), 1, record.size(), file_.get()) != record.size() ||
      std::fwrite(ipv4.data(), 1, incl_len, file_.get()) != incl_len) {
    fail("cannot write");
    return;
  }
  ++packets_;
  dirty_ = true;
}

void PcapWriter::write_pending() {
  if (!has_pending_) return;
  has_pending_ = false;
  if (!file_ || !ok()) return;
  const Record& r = pending_;
  const uint64_t ns = wall_nanoseconds(r.t);
  const auto orig_len = static_cast<uint32_t>(r.bytes.size());
  const uint32_t incl_len = std::min(orig_len, kPcapSnapLength);
  block_.clear();
  append_le32(block_, 0);  // interface ID: the one interface
  append_le32(block_, static_cast<uint32_t>(ns >> 32));
  append_le32(block_, static_cast<uint32_t>(ns & 0xFFFFFFFF));
  append_le32(block_, incl_len);
  append_le32(block_, orig_len);
  append_padded(block_, std::span(r.bytes).first(incl_len));
  for (const auto& comment : r.comments) append_option(block_, kOptComment, comment);
  std::array<std::byte, 4> flags{};
  put_le32(flags.data(), r.direction == trace::Direction::In ? kEpbFlagInbound : kEpbFlagOutbound);
  append_option(block_, kEpbFlags, flags);
  append_option(block_, kOptEndOfOpt, std::span<const std::byte>{});
  write_block(kEnhancedPacketBlock, block_);
  if (!ok()) return;
  ++packets_;
  comments_ += r.comments.size();
  dirty_ = true;
}

void PcapWriter::start_pending(Instant t, trace::Direction direction, std::span<const std::byte> ipv4) {
  write_pending();
  pending_.t = t;
  pending_.direction = direction;
  pending_.bytes.assign(ipv4.begin(), ipv4.end());
  pending_.comments.clear();
  pending_.tuple.reset();
  has_pending_ = true;
}

void PcapWriter::packet(Instant t, trace::Direction direction, std::span<const std::byte> ipv4) {
  if (!file_ || !ok()) return;
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
    // A fault the injector made to this packet on its way in (delay, duplicate, ...).
    for (auto it = inbound_notes_.begin(); it != inbound_notes_.end(); ++it) {
      if (!same_bytes(it->bytes, ipv4)) continue;
      ++it->seen;
      std::string text = "fault injector: " + it->text;
      if (it->copies > 1) text += ", copy " + std::to_string(it->seen) + " of " + std::to_string(it->copies);
      pending_.comments.push_back(std::move(text));
      if (it->seen >= it->copies) inbound_notes_.erase(it);
      break;
    }
  } else if (!outbound_notes_.empty()) {
    // Notes wait in the order the stack built its segments, which is the order they leave.
    if (auto key = tcp_key(ipv4)) {
      for (auto it = outbound_notes_.begin(); it != outbound_notes_.end(); ++it) {
        if (it->source_port != key->source_port || it->destination_port != key->destination_port ||
            it->seq != key->seq || it->flags != key->flags || it->length != key->length)
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
  OutboundNote note;
  // State changes made by a user call (CLOSE, active OPEN) or a timer at this moment go with
  // this connection's next segment: the FIN after CLOSE, the SYN after OPEN.
  std::erase_if(state_notes_, [&](StateNote& s) {
    if (s.t < t) return true;  // stale: no segment went with it
    if (s.tuple != e.tuple) return false;
    note.comments.push_back(std::move(s.text));
    return true;
  });
  if (!e.note.empty()) note.comments.push_back(std::string(e.note));
  if (note.comments.empty()) return;
  note.source_port = e.tuple.local_port;
  note.destination_port = e.tuple.remote_port;
  note.seq = e.segment.seq.raw();
  note.length = static_cast<uint32_t>(e.segment.payload.size());
  note.flags = e.segment.flags.to_byte();
  if (outbound_notes_.size() >= kMaxWaitingNotes) outbound_notes_.pop_front();
  outbound_notes_.push_back(std::move(note));
}

void PcapWriter::state_change(Instant t, const FourTuple& c, std::string_view from, std::string_view to,
                              std::string_view rule) {
  if (format_ != PcapFormat::Pcapng) return;
  std::string text = std::string(from) + " -> " + std::string(to);
  if (!rule.empty()) text += " (" + std::string(rule) + ")";
  // RFC 9293 §3.10.7 is "segment arrives": such a change belongs to the inbound packet the
  // stack is processing right now. Anything else waits for the connection's next segment.
  if (rule.find("§3.10.7") != std::string_view::npos && has_pending_ &&
      pending_.direction == trace::Direction::In && pending_.t == t && pending_.tuple == c) {
    pending_.comments.push_back(std::move(text));
    return;
  }
  if (state_notes_.size() >= kMaxWaitingNotes) state_notes_.erase(state_notes_.begin());
  state_notes_.push_back(StateNote{t, c, std::move(text)});
}

void PcapWriter::drop(Instant, DropReason reason, std::span<const std::byte> ipv4, std::string_view detail) {
  if (format_ != PcapFormat::Pcapng || !has_pending_ || pending_.direction != trace::Direction::In) return;
  if (!same_bytes(pending_.bytes, ipv4)) return;
  std::string text = "dropped by the stack: " + std::string(tcplab::to_string(reason));
  if (!detail.empty()) text += " (" + std::string(detail) + ")";
  pending_.comments.push_back(std::move(text));
}

void PcapWriter::fault(Instant t, trace::Direction direction, std::string_view what,
                       std::span<const std::byte> ipv4) {
  if (format_ != PcapFormat::Pcapng || !file_ || !ok()) return;
  std::string text = "fault injector: " + std::string(what);
  if (direction == trace::Direction::Out) {
    // The tap saw the packet as the stack sent it, just before the injector got it (a
    // corrupted copy differs in one bit, so match by time, size and direction).
    if (has_pending_ && pending_.direction == direction && pending_.t == t &&
        pending_.bytes.size() == ipv4.size()) {
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
  if (inbound_notes_.size() >= kMaxWaitingNotes) inbound_notes_.pop_front();
  inbound_notes_.push_back(InboundNote{std::vector<std::byte>(ipv4.begin(), ipv4.end()), std::string(what),
                                       what.starts_with("duplicated") ? 2 : 1, 0});
}

void PcapWriter::flush() {
  write_pending();
  if (!file_ || !ok()) return;
  if (std::fflush(file_.get()) != 0) fail("cannot write");
  dirty_ = false;
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
    if (!file_ || !ok()) return;
    if (std::fflush(file_.get()) != 0) fail("cannot write");
    dirty_ = false;
    last_flush_ = now;
  }
}

}  // namespace tcplab::link
