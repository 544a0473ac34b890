// TCP segmentation offload on the way out (the GSO half of IFF_VNET_HDR): a run of our own
// MSS-sized TCP segments that differ only in what segmentation would make them differ in
// (sequence number, IP id and length, checksums, PSH on the last) is handed to the kernel as
// one super-packet: a virtio-net header saying "TCPV4, gso_size = MSS, checksum partial", the
// first segment's headers covering every payload, then the payloads. The kernel's receive path
// takes it whole (as if GRO had merged the segments); a forwarding path would cut it back into
// exactly the segments we built. Pure functions: the event loop does the writev().
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string_view>

#include "stack/wire/bytes.hpp"
#include "stack/wire/virtio_net_header.hpp"

namespace tcplab::wire {

// One IPv4 datagram: total length is a 16-bit field.
constexpr size_t kGsoMaxPacketLength = 65535;

// At most this many segments in one super-packet: with the headers' iovec, writev()'s
// IOV_MAX of 1024 on Linux.
constexpr size_t kMaxGsoSegments = 1023;

struct GsoRun {
  size_t count = 1;          // packets from the first that merge (1: write it as it is)
  size_t header_length = 0;  // IPv4 + TCP header bytes, the same in every merged packet
  uint16_t segment_size = 0;  // payload bytes of the first; all but the last have exactly these
  size_t payload_length = 0;  // all merged payloads together
};

// How many of `packets`, from the first, merge into one super-packet of at most `max_length`
// bytes (IP header + TCP header + payloads). A packet merges when it and the one before are
// plain IPv4/TCP data segments (no fragment, flags ACK only, PSH allowed on the last), its
// header bytes equal the first's except seq, IP id, total length, checksums and PSH, its
// sequence number follows on, and every payload before it had segment_size bytes.
GsoRun plan_tcp_gso(std::span<const ConstBytes> packets, size_t max_length = kGsoMaxPacketLength);

// The bytes that go before the payloads of a run with count >= 2: the virtio-net header
// (NEEDS_CSUM, GSO TCPV4) then the first packet's IP and TCP headers with the total length of
// the whole, a fresh IP header checksum, PSH if the last had it, and in the TCP checksum field
// the folded pseudo-header sum over the whole TCP length (not complemented: the kernel adds
// the rest). `out` needs 10 + run.header_length bytes; returns the bytes written.
size_t emit_tcp_gso_headers(std::span<const ConstBytes> packets, const GsoRun& run, MutableBytes out);

// The other way, what the kernel hands us: why a header read from the TUN cannot be honoured,
// or nothing. A GSO type tcplab never offers the TUN (it offers TCPv4 segmentation only), a
// GSO packet with no segment size, the TCPv4 type on a packet that is not one whole IPv4/TCP
// datagram, or NEEDS_CSUM offsets outside the packet: Linux's virtio_net_hdr_to_skb refuses
// the same headers on its way.
std::optional<std::string_view> inbound_header_fault(const VirtioNetHeader& header, ConstBytes packet);
// Whether a NEEDS_CSUM header leaves exactly a TCP checksum partial, the header
// partial_tcp_checksum_header gives for the packet: only such a packet's TCP checksum may be
// taken without being summed.
bool partial_tcp_checksum(const VirtioNetHeader& header, ConstBytes packet);

// The virtio-net header for one IPv4/TCP packet (not a fragment) whose checksum field holds
// only the pseudo-header sum (TcpChecksumFill::LeftToLink): NEEDS_CSUM from the TCP header,
// no GSO. Nothing for any other packet: its checksums are complete and it goes as it is.
std::optional<VirtioNetHeader> partial_tcp_checksum_header(ConstBytes packet);

}  // namespace tcplab::wire
