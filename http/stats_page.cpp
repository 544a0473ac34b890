// Rendering /stats and /tcp.
#include "http/stats_page.hpp"

#include <chrono>
#include <cstdio>

#include "stack/text/markup_escape.hpp"
#include "stack/text/shortest_seconds.hpp"

namespace tcplab::http {
namespace {

// A counter only the TCP underneath can know: its value, or `absent` when that TCP (the
// kernel's) does not tell us, so nobody mistakes "not measured" for zero. JSON says null,
// HTML "not available".
std::string measured_or(bool available, uint64_t value, std::string_view absent) {
  return available ? std::to_string(value) : std::string(absent);
}

// "name": text, as JSON; `text` is already a JSON value.
void json_member(std::string& out, std::string_view name, std::string_view text, bool comma) {
  out += '"';
  out += name;
  out += "\": ";
  out += text;
  if (comma) out += ", ";
}

void field(std::string& out, std::string_view name, uint64_t value, bool comma = true) {
  json_member(out, name, std::to_string(value), comma);
}

void tcp_field(std::string& out, bool tcp_internals, std::string_view name, uint64_t value,
               bool comma = true) {
  json_member(out, name, measured_or(tcp_internals, value, "null"), comma);
}

// The session lingers itself only while it holds the socket; once it let go (Socket::release
// with linger_on_data), our TCP lingers for it and counts there.
uint64_t lingering_closes(const StatsSnapshot& s) { return s.http.lingering_closes + s.tcp.lingering_closes; }
uint64_t lingering_aborts(const StatsSnapshot& s) { return s.http.lingering_aborts + s.tcp.lingering_resets; }

double ms(Duration d) { return std::chrono::duration<double, std::milli>(d).count(); }

std::string fmt_ms(Duration d) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.3f", ms(d));
  return buf;
}

}  // namespace

uint64_t current_connections_excluding_asker(const StatsSnapshot& s) {
  uint64_t all = s.tcp.connections_current;
  return all > s.asking_connections ? all - s.asking_connections : 0;
}

std::string stats_json(const StatsSnapshot& s) {
  std::string out = "{";
  // The article's IIS counter "Current Connections": open TCP connections (any state but
  // LISTEN, TIME-WAIT and CLOSED) other than the one this response travels on, so it reads 0
  // right after a response with keep-alive off and 1 with one other idle keep-alive connection.
  field(out, "current_connections", current_connections_excluding_asker(s));
  field(out, "current_connections_including_this", s.tcp.connections_current);
  field(out, "connections_accepted", s.http.connections_accepted);
  field(out, "connections_used", s.http.connections_used);
  field(out, "http_connections_open", s.http.connections_open);
  field(out, "requests_served", s.http.requests_served);
  field(out, "responses_cut_off", s.http.responses_cut_off);
  field(out, "keepalive_reuses", s.http.keepalive_reuses);
  field(out, "handshakes_completed", s.tcp.handshakes_completed);
  tcp_field(out, s.tcp_internals, "connections_time_wait", s.tcp.connections_time_wait);
  field(out, "bad_requests", s.http.bad_requests);
  field(out, "lingering_closes", lingering_closes(s));
  field(out, "lingering_aborts", lingering_aborts(s));
  field(out, "refused_full", s.http.refused_full);
  field(out, "out_of_descriptors", s.http.out_of_descriptors);
  out += "\"responses\": {";
  for (size_t i = 1; i < s.http.responses_by_class.size(); ++i)
    field(out, std::to_string(i) + "xx", s.http.responses_by_class[i],
          i + 1 < s.http.responses_by_class.size());
  out += "}, \"requests_per_connection\": {";
  for (size_t i = 0; i < kRequestsPerConnectionBuckets.size(); ++i)
    field(out, kRequestsPerConnectionBuckets[i], s.http.requests_per_connection[i],
          i + 1 < kRequestsPerConnectionBuckets.size());
  out += "}, \"closes\": {";
  for (size_t i = 0; i < s.http.closes.size(); ++i)
    field(out, to_string(static_cast<CloseBy>(i)), s.http.closes[i], i + 1 < s.http.closes.size());
  out += "}, \"resets\": {";
  field(out, "sent", s.tcp.resets_sent);
  field(out, "received", s.tcp.resets_received, false);
  out += "}, \"drops\": ";
  if (s.tcp_internals) {
    out += "{";
    for (size_t i = 0; i < kDropReasonCount; ++i)
      field(out, to_string(static_cast<DropReason>(i)), s.drops.get(static_cast<DropReason>(i)),
            i + 1 < kDropReasonCount);
    out += "}";
  } else {
    out += "null";
  }
  out += ", \"tcp\": {\"name\": \"" + s.tcp_name + "\", \"internals_available\": ";
  out += s.tcp_internals ? "true, " : "false, ";
  tcp_field(out, s.tcp_internals, "segments_received", s.tcp.segments_received);
  tcp_field(out, s.tcp_internals, "segments_sent", s.tcp.segments_sent);
  tcp_field(out, s.tcp_internals, "retransmissions", s.tcp.retransmissions);
  field(out, "passive_opens", s.tcp.passive_opens);
  tcp_field(out, s.tcp_internals, "syn_cookies_sent", s.tcp.syn_cookies_sent);
  tcp_field(out, s.tcp_internals, "syn_cookies_validated", s.tcp.syn_cookies_validated);
  tcp_field(out, s.tcp_internals, "syn_cookies_rejected", s.tcp.syn_cookies_rejected);
  tcp_field(out, s.tcp_internals, "fin_timeouts", s.tcp.fin_timeouts);
  tcp_field(out, s.tcp_internals, "time_wait_evicted", s.tcp.time_wait_evicted);
  tcp_field(out, s.tcp_internals, "time_wait_records", s.tcp.time_wait_records);
  tcp_field(out, s.tcp_internals, "fin_wait_2_records", s.tcp.fin_wait_2_records);
  tcp_field(out, s.tcp_internals, "full_tcbs", s.tcp.full_tcbs, false);
  out += "}, \"config\": {\"keepalive\": ";
  out += s.keepalive ? "true, " : "false, ";
  json_member(out, "keepalive_timeout_s", text::shortest_seconds(s.keepalive_timeout), true);
  field(out, "max_requests", s.max_requests, false);
  out += "}}\n";
  return out;
}

std::string stats_html(const StatsSnapshot& s) {
  std::string out =
      "<!doctype html><html><head><meta charset=\"utf-8\"><title>tcplab /stats</title>"
      "<meta http-equiv=\"refresh\" content=\"2\"><link rel=\"stylesheet\" href=\"/style.css\"></head><body>"
      "<h1>tcplab server statistics</h1><p>Refreshes every 2 s (each refresh is a request: watch "
      "<em>connections accepted</em> stay put with keep-alive on, and grow with it off). Every "
      "counter also appears in <a href=\"/stats\">/stats</a> (JSON) under the name in brackets."
      "</p><table>";
  if (!s.tcp_internals) {
    out += "<p><strong>TCP: " + text::markup_escape(s.tcp_name) +
           "</strong>. The connections run on the kernel's TCP, which does not show us its segments: "
           "counters marked <em>not available</em> are not measured (the JSON has null).</p>";
  }
  auto row = [&](std::string_view name, std::string_view key, uint64_t v, std::string_view note = {},
                 bool available = true) {
    out += "<tr><th>";
    out += name;
    if (!key.empty()) {
      out += " <code>[";
      out += key;
      out += "]</code>";
    }
    out += "</th><td>";
    out += measured_or(available, v, "not available");
    out += "</td><td>";
    out += note;
    out += "</td></tr>";
  };
  out += "<tr><th>TCP underneath <code>[tcp.name]</code></th><td>" + text::markup_escape(s.tcp_name) +
         "</td><td>tcplab's own, or the kernel's (serve --kernel-tcp)</td></tr>";
  out += "<tr><th>TCP internals available <code>[tcp.internals_available]</code></th><td>";
  out += s.tcp_internals ? "yes" : "no";
  out +=
      "</td><td>no on kernel sockets: segment, retransmission and drop counters are not ours to "
      "see</td></tr>";
  row("Current connections", "current_connections", current_connections_excluding_asker(s),
      "IIS's \"Current Connections\": TCP connections in any state but LISTEN, TIME-WAIT and CLOSED (any "
      "port; half-open SYN-RECEIVED ones included, so a SYN flood raises it; SYN cookies hold none) other "
      "than the one this page came on. 1 while another keep-alive connection waits; 0 after each response "
      "with keep-alive off");
  row("Current connections, including this one", "current_connections_including_this",
      s.tcp.connections_current, "the same, counting the connection asking");
  row("Connections accepted", "connections_accepted", s.http.connections_accepted,
      "connections handed to the HTTP server, one TCP handshake each");
  row("Connections used", "connections_used", s.http.connections_used,
      "accepted connections that carried a request (browsers and ab open some they never use)");
  row("HTTP connections open", "http_connections_open", s.http.connections_open,
      "connections the HTTP server still holds, those it is closing included until its FIN has left and "
      "nothing is left to read: then TCP finishes the close alone (/tcp lists it)");
  row("Requests served", "requests_served", s.http.requests_served,
      "responses handed whole to TCP (all in its send buffer), any status");
  row("Responses cut off", "responses_cut_off", s.http.responses_cut_off,
      "responses started (so in [responses]) whose connection ended before they were whole: a client that "
      "stopped reading, reset or timed out, or a body the server could not finish (a file that shrank while "
      "it was sent: the connection is closed so the client sees it incomplete). "
      "responses 2xx to 5xx = requests_served + this + those being written now");
  row("Requests on a reused connection", "keepalive_reuses", s.http.keepalive_reuses,
      "handshakes saved by keep-alive");
  row("Handshakes completed", "handshakes_completed", s.tcp.handshakes_completed,
      "TCP connections that reached ESTABLISHED (all ports)");
  row("Connections in TIME-WAIT", "connections_time_wait", s.tcp.connections_time_wait,
      "held for 2 x MSL by whichever side closed first", s.tcp_internals);
  row("Bad requests", "bad_requests", s.http.bad_requests,
      "4xx/5xx answers from the parser, each then closed");
  row("Lingering closes", "lingering_closes", lingering_closes(s),
      "closes after Connection: close or an error while request bytes were still arriving: the server "
      "read and discarded them instead of a plain FIN");
  row("Lingering aborts", "lingering_aborts", lingering_aborts(s),
      "lingering closes that ended with RST: the client kept its side open for --linger, "
      "or took none of the response for --keepalive-timeout");
  row("Refused, server full", "refused_full", s.http.refused_full,
      "new connections reset at --max-connections because no connection was idle to close instead");
  row("Out of file descriptors", "out_of_descriptors", s.http.out_of_descriptors,
      "503 answers (with Retry-After: 1) because opening a file under --root hit EMFILE or ENFILE: raise "
      "ulimit -n or lower --max-connections");
  row("SYN cookies sent", "tcp.syn_cookies_sent", s.tcp.syn_cookies_sent,
      "SYN-ACKs sent with a SYN cookie because the SYN queue was full (RFC 4987 §3.6)");
  row("SYN cookies validated", "tcp.syn_cookies_validated", s.tcp.syn_cookies_validated,
      "connections made from the ACK of a SYN cookie (wscale, SACK, timestamps only if the SYN had TS)");
  row("SYN cookies rejected", "tcp.syn_cookies_rejected", s.tcp.syn_cookies_rejected,
      "ACKs for no connection whose cookie was forged or expired, answered with RST");
  row("FIN-WAIT-2 timeouts", "tcp.fin_timeouts", s.tcp.fin_timeouts,
      "connections dropped silently after --fin-timeout: our FIN was acknowledged, the client's never came",
      s.tcp_internals);
  row("TIME-WAIT ended early", "tcp.time_wait_evicted", s.tcp.time_wait_evicted,
      "TIME-WAIT records ended before 2 x MSL because --max-time-wait were held (the oldest goes first)",
      s.tcp_internals);
  row("TIME-WAIT records", "tcp.time_wait_records", s.tcp.time_wait_records,
      "connections in TIME-WAIT held as a compact record of their last numbers, their full TCB freed",
      s.tcp_internals);
  row("FIN-WAIT-2 records", "tcp.fin_wait_2_records", s.tcp.fin_wait_2_records,
      "connections in FIN-WAIT-2 the server let go of, held as the same compact record, their full TCB freed",
      s.tcp_internals);
  row("Full TCBs", "tcp.full_tcbs", s.tcp.full_tcbs,
      "connections held as a whole TCB with buffers and timers (any state; compact records not counted)",
      s.tcp_internals);
  for (size_t i = 0; i < s.http.closes.size(); ++i) {
    auto by = static_cast<CloseBy>(i);
    row("Closed by " + std::string(to_string(by)), "closes." + std::string(to_string(by)), s.http.closes[i],
        close_by_meaning(by));
  }
  row("Resets sent", "resets.sent", s.tcp.resets_sent, "RST segments we sent (any port)");
  row("Resets received", "resets.received", s.tcp.resets_received, "acceptable RSTs that ended a connection");
  row("Segments received", "tcp.segments_received", s.tcp.segments_received, {}, s.tcp_internals);
  row("Segments sent", "tcp.segments_sent", s.tcp.segments_sent, {}, s.tcp_internals);
  row("Retransmissions", "tcp.retransmissions", s.tcp.retransmissions,
      "segments sent again (timeout or fast)", s.tcp_internals);
  row("Passive opens", "tcp.passive_opens", s.tcp.passive_opens, "SYNs a listener accepted");
  out +=
      "</table><h2>Responses by class <code>[responses]</code></h2><p>Final responses started (2xx to "
      "5xx): requests_served (handed whole to TCP) + responses_cut_off + those being written now. 1xx counts "
      "each interim 100 Continue sent before a request body.</p><table>";
  for (size_t i = 1; i < s.http.responses_by_class.size(); ++i)
    row(std::to_string(i) + "xx", {}, s.http.responses_by_class[i]);
  out +=
      "</table><h2>Requests per connection <code>[requests_per_connection]</code></h2><p>How many requests "
      "each closed connection received, answered whole or not: without keep-alive everything lands in "
      "1.</p><table>";
  for (size_t i = 0; i < kRequestsPerConnectionBuckets.size(); ++i)
    row(kRequestsPerConnectionBuckets[i], {}, s.http.requests_per_connection[i]);
  out +=
      "</table><h2>Drops by reason <code>[drops]</code></h2><p>Packets the stack refused, by the reason "
      "the trace names (only reasons seen so far are listed here; the JSON has all).</p><table>";
  for (size_t i = 0; i < kDropReasonCount; ++i) {
    auto r = static_cast<DropReason>(i);
    if (s.tcp_internals && s.drops.get(r) > 0) row(to_string(r), {}, s.drops.get(r));
  }
  out += "</table><p>Keep-alive ";
  out += s.keepalive ? "on" : "off";
  out += ", timeout " + text::shortest_seconds(s.keepalive_timeout) + " s, max requests " +
         std::to_string(s.max_requests) + " <code>[config]</code>";
  out +=
      ". <a href=\"/stats\">JSON</a> · <a href=\"/tcp.html\">connection table</a> · <a href=\"/\">demo "
      "page</a></p></body></html>\n";
  return out;
}

std::string tcp_json(const std::vector<tcp::ConnectionInfo>& connections, bool tcp_internals) {
  std::string out = "{\"connections\": [";
  bool first = true;
  for (const auto& c : connections) {
    if (!first) out += ", ";
    first = false;
    out +=
        "{\"local\": \"" + c.tuple.local_ip.to_string() + ":" + std::to_string(c.tuple.local_port) + "\", ";
    out +=
        "\"remote\": \"" + c.tuple.remote_ip.to_string() + ":" + std::to_string(c.tuple.remote_port) + "\", ";
    out += "\"state\": \"" + std::string(tcp::to_string(c.state)) + "\", ";
    tcp_field(out, tcp_internals, "snd_una", c.snd_una);
    tcp_field(out, tcp_internals, "snd_nxt", c.snd_nxt);
    tcp_field(out, tcp_internals, "rcv_nxt", c.rcv_nxt);
    tcp_field(out, tcp_internals, "snd_wnd", c.snd_wnd);
    field(out, "rcv_wnd", c.rcv_wnd);
    out += "\"srtt_ms\": " + fmt_ms(c.srtt) + ", \"rto_ms\": " + fmt_ms(c.rto) + ", ";
    field(out, "bytes_received", c.bytes_received);
    field(out, "bytes_sent", c.bytes_sent);
    field(out, "retransmissions", c.retransmissions);
    tcp_field(out, tcp_internals, "buffer_bytes", c.buffer_bytes, false);
    out += "}";
  }
  out += "]}\n";
  return out;
}

std::string tcp_html(const std::vector<tcp::ConnectionInfo>& connections, bool tcp_internals) {
  auto known = [tcp_internals](uint64_t v) {
    return measured_or(tcp_internals, v, "<em>not available</em>");
  };
  std::string out =
      "<!doctype html><html><head><meta charset=\"utf-8\"><title>tcplab /tcp</title>"
      "<meta http-equiv=\"refresh\" content=\"2\"><link rel=\"stylesheet\" href=\"/style.css\"></head><body>"
      "<h1>TCP connections</h1><p>";
  out += tcp_internals
             ? "Sequence numbers are relative (Wireshark's view): snd.* from our ISN, "
               "rcv.nxt from the client's; <em>buffers</em> is the send and receive buffer memory held (none "
               "once a connection waits in FIN-WAIT-2 or TIME-WAIT with nothing unread)."
             : "The kernel's TCP carries these connections: it does not show us its sequence numbers, send "
               "window or buffers, so those are <em>not available</em>; rcv.wnd is the kernel's receive "
               "space.";
  out +=
      "</p><table><tr><th>remote</th><th>local</th><th>state</th><th>snd.una</th>"
      "<th>snd.nxt</th><th>rcv.nxt</th><th>snd.wnd</th><th>rcv.wnd</th><th>SRTT ms</th><th>RTO ms</th>"
      "<th>buffers</th></tr>";
  for (const auto& c : connections) {
    out += "<tr><td>" + c.tuple.remote_ip.to_string() + ":" + std::to_string(c.tuple.remote_port) +
           "</td><td>" + c.tuple.local_ip.to_string() + ":" + std::to_string(c.tuple.local_port) +
           "</td><td>" + std::string(tcp::to_string(c.state)) + "</td><td>" + known(c.snd_una) + "</td><td>" +
           known(c.snd_nxt) + "</td><td>" + known(c.rcv_nxt) + "</td><td>" + known(c.snd_wnd) + "</td><td>" +
           std::to_string(c.rcv_wnd) + "</td><td>" + fmt_ms(c.srtt) + "</td><td>" + fmt_ms(c.rto) +
           "</td><td>" + known(c.buffer_bytes) + "</td></tr>";
  }
  out += "</table><p>" + std::to_string(connections.size()) +
         " connection(s). <a href=\"/tcp\">JSON</a> · <a href=\"/stats.html\">stats</a></p></body></html>\n";
  return out;
}

}  // namespace tcplab::http
