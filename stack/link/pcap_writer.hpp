// A pcap tap: writes every IPv4 packet crossing the link to a classic pcap file
// (LINKTYPE_RAW, microsecond timestamps) that Wireshark and tshark open, even while running.
#pragma once
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "stack/trace/trace.hpp"

namespace tcplab::link {

// pcap's link type for packets that start with the IPv4 header (tcpdump.org/linktypes.html).
constexpr uint32_t kLinktypeRaw = 101;
// Bytes of each packet kept; larger packets are truncated (incl_len < orig_len).
constexpr uint32_t kPcapSnapLength = 65535;
// How stale the file on disk may get while packets flow: Wireshark's "reload" and a test's
// `tshark -r` see every packet older than this without a write() per packet.
constexpr std::chrono::milliseconds kPcapFlushInterval{100};

class PcapWriter final : public trace::Sink {
 public:
  // Creates (truncates) `path` and writes the pcap global header. Check ok() afterwards.
  explicit PcapWriter(const std::string& path);
  ~PcapWriter() override;  // flushes and closes
  PcapWriter(const PcapWriter&) = delete;
  PcapWriter& operator=(const PcapWriter&) = delete;

  bool ok() const { return error_.empty(); }
  // "cannot open capture.pcap: Permission denied"; empty while ok().
  const std::string& error() const { return error_; }

  // Records one packet. Timestamps are wall-clock time: the stack's steady Instant is
  // mapped through the (steady, system) clock pair taken at construction or set_origin().
  void packet(Instant t, trace::Direction direction, std::span<const std::byte> ipv4) override;

  // Writes buffered records to the file now.
  void flush();
  // Flushes if records are buffered and the last flush was at least kPcapFlushInterval ago.
  // The event loop calls this every iteration and wakes up by next_flush_deadline(), so a
  // capture is complete on disk within ~100 ms even when traffic stops.
  void flush_due(Instant now);
  // When buffered records are due on disk, or nullopt if nothing is buffered.
  std::optional<Instant> next_flush_deadline() const;
  // The same two under the names loop::TimedAdapter expects, so the event loop can wake
  // for the flush: loop.add_client(*new TimedAdapter<PcapWriter>(pcap)).
  std::optional<Instant> next_deadline() const { return next_flush_deadline(); }
  void advance(Instant now) { flush_due(now); }
  // For tests and replays on a virtual clock: `steady` corresponds to wall time `wall`.
  void set_origin(Instant steady, std::chrono::system_clock::time_point wall);

  uint64_t packets_written() const { return packets_; }

 private:
  void fail(const std::string& what);

  struct FileCloser {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };
  std::vector<char> stdio_buffer_;               // records collect here; one write() per flush
  std::unique_ptr<std::FILE, FileCloser> file_;  // after the buffer: closed before it is freed
  std::string path_;
  std::string error_;
  Instant steady_origin_;
  std::chrono::system_clock::time_point wall_origin_;
  std::optional<Instant> last_flush_;
  bool dirty_ = false;
  uint64_t packets_ = 0;
};

}  // namespace tcplab::link
