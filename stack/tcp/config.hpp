// Tunables of the TCP core, with the defaults `tcplab serve --help` shows.
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>

#include "stack/time.hpp"

namespace tcplab::tcp {

struct TcpConfig {
  // RFC 9293 §3.7.1: MSS = MTU - 20 (IPv4) - 20 (TCP). Set by the stack from --mtu.
  uint16_t mss = 1460;
  // Per-connection buffers. The receive buffer bounds the advertised window; with window
  // scaling (RFC 7323 §2) the window can use all of it.
  size_t receive_buffer = 1 << 20;
  size_t send_buffer = 1 << 20;
  bool window_scaling = true;
  // RFC 2018: offer and accept SACK-permitted (--no-sack turns it off).
  bool sack = true;
  // RFC 7323 §3: offer and accept timestamps (--no-timestamps turns them off).
  bool timestamps = true;
  // Deviation (msl-30s): Linux's TIME-WAIT is 60 s (MSL 30 s); RFC 9293 (§3.4.2, glossary)
  // takes MSL = 2 min.
  // Labs pass --msl 1 or so, so TIME-WAIT can be watched ending.
  Duration msl = seconds(30);
  // Deviation (time-wait-cap): RFC 9293 keeps every TIME-WAIT for 2 MSL; a server that closes
  // first holds one per connection, so 15,000 new connections a second would hold 900,000 for
  // a 60 s TIME-WAIT, memory without a bound. Past this many, the oldest record (the nearest
  // to its end anyway) goes first, as Linux bounds them with net.ipv4.tcp_max_tw_buckets
  // (which drops the newest instead). About 200 bytes each (time_wait.hpp).
  size_t max_time_wait = 262144;
  // Hold TIME-WAIT as a compact record instead of the whole connection (time_wait.hpp).
  // Off only in tests that check the record answers exactly as the connection did.
  bool compact_time_wait = true;
  // The same for FIN-WAIT-2 once the application let go of the connection (Socket::release).
  bool compact_fin_wait_2 = true;
  // Deviation (fin-timeout): RFC 9293 lets FIN-WAIT-2 last as long as the peer keeps its side
  // open (the peer may still send). Like Linux's tcp_fin_timeout for orphaned connections, a
  // connection its application let go of (Socket::release), whose FIN was acknowledged but
  // whose peer never sends its own, is dropped silently (no RST) after this long
  // (--fin-timeout). A half-closed socket the application still holds waits for ever.
  Duration fin_timeout = seconds(60);
  // RFC 6298 §2.1: initial RTO 1 s.
  Duration rto_initial = seconds(1);
  // Deviation (rto-min-200ms): RFC 6298 §2.4 asks for a 1 s minimum; Linux uses 200 ms, and
  // over a TUN link the RTT is microseconds, so we default to Linux's value.
  Duration rto_min = milliseconds(200);
  Duration rto_max = seconds(60);   // RFC 6298 §2.5: a maximum of at least 60 s
  int max_retransmissions = 8;      // data/FIN tries before abort (RFC 9293 §3.8.3, R2)
  // Deviation (syn-give-up-early): SYN and SYN-ACK tries, fewer than RFC 9293 §3.8.3 asks
  // (see Connection::retransmission_timeout); Linux's tcp_syn_retries is 6.
  int max_syn_retransmissions = 5;
  // RFC 9293 §3.8.6.3: ACK at least every second full-sized segment and within 500 ms (the
  // segments one turn reads are acknowledged together: Connection::schedule_ack).
  bool delayed_ack = true;
  Duration delayed_ack_timeout = milliseconds(200);
  bool nagle = true;         // RFC 896 / RFC 9293 §3.7.4
  size_t backlog = 128;      // accept queue (established, not yet accepted)
  size_t syn_backlog = 256;  // SYN-RECEIVED entries per listener
  // RFC 4987 §3.6 SYN cookies (stack/tcp/syn_cookie.hpp: a cookie keeps the MSS, and window
  // scale, SACK and timestamps only when the SYN has timestamps). Auto: answer with a cookie
  // only when the SYN queue is full; Always: every SYN (tests, labs); Never: a full SYN queue
  // drops its oldest half-open entry instead (§3.4).
  enum class SynCookieMode { Auto, Always, Never };
  SynCookieMode syn_cookies = SynCookieMode::Auto;
  // Persist timer (RFC 9293 §3.8.6.1): zero-window probes back off up to this.
  Duration persist_max = seconds(60);
  // RFC 5961 §7 asks for "an ACK throttling mechanism" on challenge ACKs: one connection
  // sends at most one per this interval (Linux's per-socket tcp_invalid_ratelimit). Not a
  // host-wide budget: one shared between connections is an off-path side channel (an attacker
  // drains it on its own connection and sees whether a spoofed segment to another connection
  // used part of it, CVE-2016-5696). Zero turns the limit off.
  Duration challenge_ack_interval = milliseconds(500);
  // RFC 9293 §3.10.7.4 answers an unacceptable segment (outside the window, an ACK of data
  // never sent, a PAWS reject) with an ACK. Like Linux's tcp_invalid_ratelimit, one
  // connection sends at most one such ACK per this interval, so two stacks that disagree
  // about sequence numbers cannot ACK each other forever. Zero turns the limit off.
  Duration invalid_ack_interval = milliseconds(500);
  // A fixed ISN for reproducible labs (--isn N); otherwise RFC 6528 with isn_key.
  std::optional<uint32_t> fixed_isn;
  std::array<uint8_t, 16> isn_key{};
  // Bytes of out-of-order data kept per connection for reassembly.
  size_t max_out_of_order = 1 << 20;
  // IPv4 TTL of the segments we send (RFC 1122 §3.2.1.7; Linux uses 64).
  uint8_t ttl = 64;
  // RFC 1122 §4.2.3.6 keep-alive, off by default ("MUST default to off"): after `idle`
  // without a segment from the peer, a probe every `interval`; after `count` unanswered
  // probes the connection is reset (--tcp-keepalive IDLE,INTERVAL,COUNT).
  struct KeepAlive {
    Duration idle = seconds(7200);  // "MUST ... default to no less than two hours"
    Duration interval = seconds(75);
    int count = 9;
    // The bounds --tcp-keepalive and a script's keepalive share: an interval of 0 would send
    // every probe at once and reset a live peer before it could answer one.
    bool within_bounds() const {
      return idle >= milliseconds(1) && idle <= seconds(864000) && interval >= milliseconds(1) &&
             interval <= seconds(86400) && count >= 1 && count <= 1000;
    }
  };
  std::optional<KeepAlive> keepalive;
  // RFC 6928 §2: initial congestion window of 10 segments, at most 14600 bytes (but at least
  // 2 segments): min(10*MSS, max(2*MSS, 14600)); the byte cap scales with this count.
  uint32_t initial_window_segments = 10;
};

}  // namespace tcplab::tcp
