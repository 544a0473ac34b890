// Tests for the ladder model and renderers (stack/ladder/): connections and their numbering,
// relative numbers, inferred and exact states, retransmissions, injected faults, the JSON
// trace reader and the SVG output.
#include "stack/ladder/ladder.hpp"

#include <doctest/doctest.h>

#include <algorithm>

#include "stack/ladder/input.hpp"
#include "stack/trace/json_value.hpp"
#include "stack/ladder/render.hpp"
#include "tests/unit/capture_test_files.hpp"

using namespace tcplab;
using namespace tcplab::ladder;
using namespace tcplab::capture::test;

namespace {

constexpr uint8_t kFin = 0x01, kSyn = 0x02, kRst = 0x04, kPsh = 0x08, kAck = 0x10;
constexpr uint32_t kC = 1000;   // client ISN
constexpr uint32_t kS = 90000;  // server ISN

struct Step {
  Tcp tcp;
  std::vector<std::string> comments = {};
};

Ladder ladder_from(const std::vector<Step>& steps, LadderOptions options = {}) {
  Writer w{false, {}};
  section_header(w);
  interface(w, capture::kLinktypeRaw);
  uint64_t t = 1'000000;
  for (const auto& s : steps) enhanced_packet(w, 0, t += 1000, ipv4_tcp(s.tcp), s.comments);
  std::string error;
  auto input = read_input(w.out, error);
  REQUIRE_MESSAGE(input, error);
  return build_ladder(*input, options);
}

// A keep-alive exchange: handshake, two requests and responses, client closes.
std::vector<Step> exchange(uint16_t port = 40000) {
  return {
      {{true, port, kSyn, kC, 0}},
      {{false, port, kSyn | kAck, kS, kC + 1}},
      {{true, port, kAck, kC + 1, kS + 1}},
      {{true, port, kPsh | kAck, kC + 1, kS + 1, 78}},
      {{false, port, kPsh | kAck, kS + 1, kC + 79, 300}},
      {{true, port, kFin | kAck, kC + 79, kS + 301}},
      {{false, port, kFin | kAck, kS + 301, kC + 80}},
      {{true, port, kAck, kC + 80, kS + 302}},
  };
}

std::vector<const Row*> segment_rows(const Connection& c) {
  std::vector<const Row*> out;
  for (const auto& r : c.rows)
    if (r.kind == RowKind::Segment) out.push_back(&r);
  return out;
}

std::vector<std::string> labels(const Connection& c) {
  std::vector<std::string> out;
  for (const auto& r : c.rows)
    if (r.kind == RowKind::Segment) out.push_back(r.label);
  return out;
}

}  // namespace

TEST_CASE("ladder: relative numbers, client left, states inferred from the flags") {
  auto l = ladder_from(exchange());
  REQUIRE(l.connections.size() == 1);
  const auto& c = l.connections[0];
  CHECK(c.client.to_string() == "192.0.2.1:40000");
  CHECK(c.server.to_string() == "192.0.2.2:80");
  CHECK(c.handshake_seen);
  CHECK(c.segments == 8);
  CHECK(labels(c) ==
        std::vector<std::string>{"S seq=0 len=0 win=1000", "S. seq=0 ack=1 len=0 win=1000",
                                 ". seq=1 ack=1 len=0 win=1000", "P. seq=1 ack=1 len=78 win=1000",
                                 "P. seq=1 ack=79 len=300 win=1000", "F. seq=79 ack=301 len=0 win=1000",
                                 "F. seq=301 ack=80 len=0 win=1000", ". seq=80 ack=302 len=0 win=1000"});
  CHECK(c.client_initial.text() == "CLOSED?");
  CHECK(c.server_initial.text() == "LISTEN?");
  CHECK(c.rows[0].client_state.text() == "SYN-SENT?");
  CHECK(c.rows[0].server_state.text() == "SYN-RECEIVED?");
  CHECK(c.rows[1].client_state.text() == "ESTABLISHED?");
  CHECK(c.rows[2].server_state.text() == "ESTABLISHED?");
  CHECK(c.rows[5].client_state.text() == "FIN-WAIT-1?");
  CHECK(c.rows[5].server_state.text() == "CLOSE-WAIT?");
  // The server's FIN acknowledges the client's: FIN-WAIT-1 -> FIN-WAIT-2 -> TIME-WAIT at once.
  CHECK(c.rows[6].client_state.text() == "TIME-WAIT?");
  CHECK(c.rows[6].server_state.text() == "LAST-ACK?");
  CHECK(c.rows[7].server_state.text() == "CLOSED?");
  CHECK(l.any_inferred);
  CHECK(render_text(l).find(kInferredLegend) != std::string::npos);
}

TEST_CASE("ladder: --absolute shows the numbers as on the wire") {
  auto l = ladder_from(exchange(), {true});
  CHECK(labels(l.connections[0])[1] == "S. seq=90000 ack=1001 len=0 win=1000");
}

TEST_CASE("ladder: a resent sequence range is marked as a retransmission") {
  auto steps = exchange();
  steps.insert(steps.begin() + 4, steps[3]);  // the request again
  steps.insert(steps.begin() + 1, steps[0]);  // the SYN again
  auto l = ladder_from(steps);
  const auto& rows = l.connections[0].rows;
  REQUIRE(rows.size() == 10);
  CHECK(rows[0].notes.empty());
  CHECK(rows[1].notes == std::vector<std::string>{"retransmission"});
  CHECK(rows[4].notes.empty());
  CHECK(rows[5].notes == std::vector<std::string>{"retransmission"});
  // Pure ACKs occupy no sequence space and are never retransmissions.
  CHECK(rows[3].notes.empty());
}

TEST_CASE("ladder: tcplab's pcapng comments give exact states, notes and lost segments") {
  auto steps = exchange();
  steps[0].comments = {"LISTEN -> SYN-RECEIVED (RFC 9293 §3.10.7.2)"};
  steps[2].comments = {"SYN-RECEIVED \u2192 ESTABLISHED (RFC 9293 §3.10.7.4)"};
  steps[4].comments = {"injected fault: drop"};
  steps.insert(steps.begin() + 5, Step{steps[4].tcp, {"retransmission"}});
  steps[6].comments = {"ESTABLISHED -> CLOSE-WAIT (RFC 9293 §3.10.7.4); a second note"};
  auto l = ladder_from(steps);
  const auto& c = l.connections[0];
  CHECK(c.server_initial.text() == "LISTEN");
  CHECK(c.client_initial.text() == "CLOSED?");
  CHECK(c.rows[0].server_state.text() == "SYN-RECEIVED");
  CHECK(c.rows[0].server_state.rule == "RFC 9293 §3.10.7.2");
  CHECK(c.rows[2].server_state.text() == "ESTABLISHED");
  CHECK(c.rows[4].lost);
  CHECK(c.rows[4].notes == std::vector<std::string>{"injected fault: drop"});
  CHECK_FALSE(c.rows[5].lost);
  CHECK(c.rows[5].notes == std::vector<std::string>{"retransmission"});  // said once, not twice
  CHECK(c.rows[6].server_state.text() == "CLOSE-WAIT");
  CHECK(c.rows[6].notes == std::vector<std::string>{"a second note"});
  // No inferred state for the commented side anywhere.
  for (const auto& r : c.rows) CHECK_FALSE(r.server_state.inferred);
  std::string text = render_text(l);
  CHECK(text.find("|x-- P. seq=1 ack=79 len=300 win=1000 ---|") != std::string::npos);
  CHECK(text.find("^ injected fault: drop") != std::string::npos);
}

TEST_CASE("ladder: a control byte in a note from the input is shown as \\xNN, never sent to the terminal") {
  auto steps = exchange();
  steps[4].comments = {"evil \x1b[31mred\x01"};
  auto l = ladder_from(steps);
  std::string text = render_text(l);
  CHECK(text.find('\x1b') == std::string::npos);
  CHECK(text.find('\x01') == std::string::npos);
  CHECK(text.find("evil \\x1b[31mred\\x01") != std::string::npos);
  CHECK(text.find("\n|") != std::string::npos);  // the line breaks themselves stay
}

TEST_CASE("ladder: escaped text from the input keeps its row on one line and the box its width") {
  auto steps = exchange();
  steps[4].comments = {"evil \x1b[31mred\ttab"};
  auto l = ladder_from(steps);
  // A JSON trace's note may hold a newline; state names come from the input too.
  for (auto& r : l.connections.at(0).rows) {
    if (r.kind == RowKind::Segment && r.notes.empty()) {
      r.notes.push_back("two\nlines");
      r.client_state.name = "ODD\tSTATE";
      break;
    }
  }
  std::string text = render_text(l);
  CHECK(text.find("evil \\x1b[31mred\\x09tab") != std::string::npos);
  CHECK(text.find("two\\x0alines") != std::string::npos);
  CHECK(text.find("ODD\\x09STATE") != std::string::npos);
  CHECK(text.find('\t') == std::string::npos);
  std::vector<std::string> box;
  for (size_t at = 0, end; (end = text.find('\n', at)) != std::string::npos; at = end + 1)
    if (text[at] == '+' || text[at] == '|') box.push_back(text.substr(at, end - at));
  REQUIRE(box.size() > 3);
  for (const auto& row : box) CHECK(row.size() == box.back().size());
  // No line outside the box between its borders: the note's newline did not split its row.
  size_t first = text.find("\n+"), last = text.rfind("\n+");
  for (size_t at = first + 1, end; (end = text.find('\n', at)) != std::string::npos && at < last;
       at = end + 1)
    CHECK((text[at] == '+' || text[at] == '|'));
}

TEST_CASE("ladder: connections are split by four-tuple and by a new SYN, and numbered in order") {
  auto steps = exchange(40000);
  auto second = exchange(40001);
  auto third = exchange(40000);
  for (auto& s : third) {  // the same four-tuple again with new ISNs
    s.tcp.seq += 777;
    if (s.tcp.flags & kAck) s.tcp.ack += s.tcp.to_server ? 0 : 777;
  }
  steps.insert(steps.begin() + 3, second.begin(), second.end());  // interleaved
  steps.insert(steps.end(), third.begin(), third.end());
  auto l = ladder_from(steps);
  REQUIRE(l.connections.size() == 3);
  CHECK(l.connections[0].client.port == 40000);
  CHECK(l.connections[1].client.port == 40001);
  CHECK(l.connections[2].client.port == 40000);
  for (const auto& c : l.connections) {
    CHECK(c.segments == 8);
    CHECK(labels(c)[0] == "S seq=0 len=0 win=1000");
  }
  CHECK(l.connections[2].number == 3);
  std::string text = render_text(l);
  CHECK(text.find("+- connection 3: client 192.0.2.1:40000 -> server 192.0.2.2:80, 8 segments") !=
        std::string::npos);
}

TEST_CASE("ladder: a connection that began before the capture starts counting at 1") {
  auto steps = exchange();
  steps.erase(steps.begin(), steps.begin() + 3);
  auto l = ladder_from(steps);
  REQUIRE(l.connections.size() == 1);
  const auto& c = l.connections[0];
  CHECK_FALSE(c.handshake_seen);
  CHECK(c.client.port == 40000);  // the ephemeral port
  CHECK(labels(c)[0] == "P. seq=1 ack=1 len=78 win=1000");
  CHECK(labels(c)[1] == "P. seq=1 ack=79 len=300 win=1000");
  CHECK(c.client_initial.text() == "ESTABLISHED?");
  CHECK(render_text(l).find("(no SYN in the input)") != std::string::npos);
}

TEST_CASE("ladder: FINs that cross are a simultaneous close, inferred for both ends") {
  // The server's FIN is seen first, then the client's, whose ACK (1) falls short of the
  // server's FIN: the client sent it before that FIN arrived (RFC 9293 §3.6, Figure 13).
  auto l = ladder_from({
      {{true, 40000, kSyn, kC, 0}},
      {{false, 40000, kSyn | kAck, kS, kC + 1}},
      {{true, 40000, kAck, kC + 1, kS + 1}},
      {{false, 40000, kFin | kAck, kS + 1, kC + 1}},
      {{true, 40000, kFin | kAck, kC + 1, kS + 1}},
      {{false, 40000, kAck, kS + 2, kC + 2}},
      {{true, 40000, kAck, kC + 2, kS + 2}},
  });
  const auto& c = l.connections[0];
  CHECK(c.rows[3].server_state.text() == "FIN-WAIT-1?");
  CHECK(c.rows[3].client_state.text() == "FIN-WAIT-1?");  // not CLOSE-WAIT: its FIN was on its way
  CHECK(c.rows[4].client_state.text() == "CLOSING?");
  CHECK(c.rows[4].server_state.text() == "CLOSING?");
  CHECK(c.rows[5].client_state.text() == "TIME-WAIT?");
  CHECK(c.rows[6].server_state.text() == "TIME-WAIT?");
  // A FIN that acknowledges the peer's is the passive close it looks like.
  auto passive = ladder_from({
      {{true, 40000, kSyn, kC, 0}},
      {{false, 40000, kSyn | kAck, kS, kC + 1}},
      {{true, 40000, kAck, kC + 1, kS + 1}},
      {{false, 40000, kFin | kAck, kS + 1, kC + 1}},
      {{true, 40000, kFin | kAck, kC + 1, kS + 2}},
  });
  const auto& p = passive.connections[0];
  CHECK(p.rows[3].client_state.text() == "CLOSE-WAIT?");
  CHECK(p.rows[4].client_state.text() == "LAST-ACK?");
  CHECK(p.rows[4].server_state.text() == "TIME-WAIT?");
}

TEST_CASE("ladder: a reset closes both ends") {
  auto l = ladder_from({{{true, 40000, kSyn, kC, 0}}, {{false, 40000, kRst | kAck, 0, kC + 1}}});
  const auto& c = l.connections[0];
  CHECK(labels(c)[1] == "R. seq=1 ack=1 len=0 win=1000");
  CHECK(c.rows[1].client_state.text() == "CLOSED?");
}

TEST_CASE("ladder: the JSON trace gives exact states on the rows that caused them") {
  std::string json =
      R"({"t":0.000000,"event":"segment","dir":"in",)"
      R"("src":"192.0.2.1:40000","dst":"192.0.2.2:80","flags":"S",)"
      R"("seq":0,"end":0,"len":0,"win":64240,"relative":true,"seq_raw":1000,"options":{"mss":1460}})"
      "\n"
      R"({"t":0.000000,"event":"state","local":"192.0.2.2:80","remote":"192.0.2.1:40000","from":"LISTEN",)"
      R"("to":"SYN-RECEIVED","rule":"RFC 9293 §3.10.7.2"})"
      "\n"
      R"({"t":0.000000,"event":"segment","dir":"out",)"
      R"("src":"192.0.2.2:80","dst":"192.0.2.1:40000","flags":"S.",)"
      R"("seq":0,"end":0,"len":0,"ack":1,"win":65535,"relative":true,)"
      R"("seq_raw":90000,"ack_raw":1001,"options":{}})"
      "\n"
      R"({"t":0.5,"event":"timer","local":"192.0.2.2:80","remote":"192.0.2.1:40000","name":"rto",)"
      R"("action":"armed","deadline":1.5,"in":1.0})"
      "\n\n"
      R"({"t":1.000000,"event":"state","local":"192.0.2.2:80","remote":"192.0.2.1:40000",)"
      R"("from":"SYN-RECEIVED",)"
      R"("to":"CLOSED","rule":"user abort"})"
      "\n"
      R"({"t":1.000000,"event":"segment","dir":"out",)"
      R"("src":"192.0.2.2:80","dst":"192.0.2.1:40000","flags":"R.",)"
      R"("seq":1,"end":1,"len":0,"ack":1,"win":0,"relative":true,)"
      R"("seq_raw":90001,"ack_raw":1001,"options":{},)"
      R"("note":"abort <sends> \"RST\""})"
      "\n"
      R"({"t":1.5,"event":"note","local":"192.0.2.2:80","remote":"192.0.2.1:40000","text":"gone"})"
      "\n"
      R"({"t":1.6,"event":"drop","reason":"ipv4-bad-checksum","bytes":40,"packet":"..."})"
      "\n";
  std::string error;
  auto input = from_json_trace(json, error);
  REQUIRE_MESSAGE(input, error);
  CHECK(input->skipped == 1);
  auto l = build_ladder(*input);
  REQUIRE(l.connections.size() == 1);
  const auto& c = l.connections[0];
  CHECK(c.server_initial.text() == "LISTEN");
  REQUIRE(c.rows.size() == 4);
  CHECK(c.rows[0].server_state.text() == "SYN-RECEIVED");  // caused by the SYN that arrived
  CHECK(c.rows[2].kind == RowKind::Segment);
  CHECK(c.rows[2].server_state.text() == "CLOSED");  // said just before the RST left
  CHECK(c.rows[2].notes == std::vector<std::string>{"abort <sends> \"RST\""});
  CHECK(c.rows[2].time_ns == 1'000000000);
  CHECK(c.rows[3].kind == RowKind::Note);
  CHECK(c.rows[3].label == "gone");
  std::string svg = render_svg(l);
  CHECK(svg.find("abort &lt;sends&gt; &quot;RST&quot;") != std::string::npos);
  // The rule of an exact state is its tooltip.
  CHECK(svg.find(">SYN-RECEIVED<title>RFC 9293 §3.10.7.2</title></text>") != std::string::npos);
  CHECK(svg.find("<sends>") == std::string::npos);
}

namespace {

// The ladder of a JSON trace that holds one connection.
Ladder one_connection_ladder(const std::string& json, size_t* skipped = nullptr) {
  std::string error;
  auto input = from_json_trace(json, error);
  REQUIRE_MESSAGE(input, error);
  if (skipped) *skipped = input->skipped;
  auto l = build_ladder(*input);
  REQUIRE(l.connections.size() == 1);
  return l;
}

// One JSON trace line: a segment ("segment") or a fault on it ("fault", with "what").
std::string json_segment(const char* event, const char* dir, bool to_server, const char* flags,
                         uint32_t seq_raw, uint32_t ack_raw, uint32_t len, const char* extra = "") {
  std::string src = to_server ? "192.0.2.1:40000" : "192.0.2.2:80";
  std::string dst = to_server ? "192.0.2.2:80" : "192.0.2.1:40000";
  return std::string(R"({"t":0.1,"event":")") + event + R"(","dir":")" + dir + R"(","src":")" + src +
         R"(","dst":")" + dst + R"(","flags":")" + flags + R"(","len":)" + std::to_string(len) +
         R"(,"win":1000,"seq_raw":)" + std::to_string(seq_raw) + R"(,"ack_raw":)" + std::to_string(ack_raw) +
         extra + "}\n";
}

}  // namespace

TEST_CASE("ladder: a JSON trace's faults mark their arrows as tcplab's pcapng comments do") {
  std::string json = json_segment("segment", "in", true, "S", kC, 0, 0) +
                     json_segment("segment", "out", false, "S.", kS, kC + 1, 0) +
                     json_segment("segment", "in", true, ".", kC + 1, kS + 1, 0) +
                     // An outbound segment is traced, then the link drops it.
                     json_segment("segment", "out", false, ".", kS + 1, kC + 1, 100) +
                     json_segment("segment", "out", false, "P.", kS + 101, kC + 1, 100) +
                     json_segment("fault", "out", false, ".", kS + 1, kC + 1, 100,
                                  R"x(,"what":"dropped (drop out data#1)")x") +
                     // An inbound segment dropped before the stack: only the fault event tells.
                     json_segment("fault", "in", true, "P.", kC + 1, kS + 1, 20,
                                  R"x(,"what":"dropped (drop in data)")x") +
                     // An inbound duplicate: its note waits for the segment the stack then sees.
                     json_segment("fault", "in", true, "P.", kC + 21, kS + 1, 20,
                                  R"x(,"what":"duplicated (dup in data)")x") +
                     json_segment("segment", "in", true, "P.", kC + 21, kS + 1, 20) +
                     json_segment("segment", "in", true, "P.", kC + 21, kS + 1, 20) +
                     // A fault on a packet that is not TCP carries no segment fields.
                     R"x({"t":0.2,"event":"fault","dir":"in","what":"dropped (drop in 1%)","bytes":28,)x"
                     R"("packet":"192.0.2.1 > 192.0.2.2 icmp"})" "\n";
  auto l = one_connection_ladder(json);
  auto segments = segment_rows(l.connections[0]);
  REQUIRE(segments.size() == 8);
  CHECK(segments[3]->lost);
  CHECK(segments[3]->notes == std::vector<std::string>{"fault injector: dropped (drop out data#1)"});
  CHECK_FALSE(segments[4]->lost);
  CHECK(segments[4]->notes.empty());
  CHECK(segments[5]->lost);
  CHECK(segments[5]->to_server);
  CHECK(segments[5]->notes == std::vector<std::string>{"fault injector: dropped (drop in data)"});
  CHECK_FALSE(segments[6]->lost);
  // Both copies, numbered as the pcapng comments number them; the second is no retransmission.
  const std::string duplicated = "fault injector: duplicated (dup in data)";
  CHECK(segments[6]->notes == std::vector<std::string>{duplicated + ", copy 1 of 2"});
  CHECK(segments[7]->notes == std::vector<std::string>{duplicated + ", copy 2 of 2"});
}

TEST_CASE("ladder: a state a user call made goes on the segment it sent, even right after a received one") {
  auto state = [](const char* from, const char* to, const char* rule) {
    return std::string(R"({"t":0.1,"event":"state","local":"192.0.2.2:80","remote":"192.0.2.1:40000",)") +
           R"("from":")" + from + R"(","to":")" + to + R"(","rule":")" + rule + "\"}\n";
  };
  std::string json = json_segment("segment", "in", true, "S", kC, 0, 0) +
                     json_segment("segment", "out", false, "S.", kS, kC + 1, 0) +
                     json_segment("segment", "in", true, ".", kC + 1, kS + 1, 0) +
                     // The request arrives; answering it, the server closes (HTTP/1.0).
                     json_segment("segment", "in", true, "P.", kC + 1, kS + 1, 80) +
                     state("ESTABLISHED", "FIN-WAIT-1", "RFC 9293 §3.10.4 (CLOSE in ESTABLISHED)") +
                     json_segment("segment", "out", false, "FP.", kS + 1, kC + 81, 500);
  auto l = one_connection_ladder(json);
  const auto& rows = l.connections[0].rows;
  REQUIRE(rows.size() == 5);
  CHECK(rows[3].server_state.text().empty());  // the request's row
  CHECK(rows[4].server_state.text() == "FIN-WAIT-1");
}

TEST_CASE("ladder: a JSON trace's refused segments are drawn with the reason, as in tcplab's pcapng") {
  const char* bad_sum = R"x(,"reason":"tcp-bad-checksum","bytes":140)x";
  const char* rst = R"x(,"reason":"tcp-rst-ignored","detail":"RST outside the window","bytes":40)x";
  std::string json = json_segment("segment", "in", true, "S", kC, 0, 0) +
                     json_segment("segment", "out", false, "S.", kS, kC + 1, 0) +
                     json_segment("segment", "in", true, ".", kC + 1, kS + 1, 0) +
                     // Refused before any connection saw it: no segment event, the drop is the arrow.
                     json_segment("drop", "in", true, "P.", kC + 1, kS + 1, 100, bad_sum) +
                     // Refused by its connection: the segment event comes first, the drop marks it.
                     json_segment("segment", "in", true, "R", kC + 5000, 0, 0) +
                     json_segment("drop", "in", true, "R", kC + 5000, 0, 0, rst) +
                     // Two corrupted copies of an ACK, alike in every field the match reads to
                     // the valid ACK just taken: each is its own arrow, the valid one unmarked.
                     json_segment("segment", "in", true, ".", kC + 101, kS + 1, 0) +
                     json_segment("drop", "in", true, ".", kC + 101, kS + 1, 0, bad_sum) +
                     json_segment("drop", "in", true, ".", kC + 101, kS + 1, 0, bad_sum) +
                     // A refused packet that is not TCP is still only counted.
                     R"x({"t":0.2,"event":"drop","reason":"ipv4-bad-checksum","bytes":20,"packet":"x"})x"
                     "\n";
  size_t skipped = 0;
  auto l = one_connection_ladder(json, &skipped);
  CHECK(skipped == 1);
  auto segments = segment_rows(l.connections[0]);
  REQUIRE(segments.size() == 8);
  CHECK(segments[3]->notes == std::vector<std::string>{"dropped by the stack: tcp-bad-checksum"});
  CHECK(segments[4]->notes ==
        std::vector<std::string>{"dropped by the stack: tcp-rst-ignored (RST outside the window)"});
  CHECK(segments[5]->notes.empty());
  CHECK(segments[6]->notes == std::vector<std::string>{"dropped by the stack: tcp-bad-checksum"});
  CHECK(segments[7]->notes == std::vector<std::string>{"dropped by the stack: tcp-bad-checksum"});
}

TEST_CASE("ladder: JSON trace errors name the line") {
  std::string error;
  CHECK_FALSE(from_json_trace("{\"t\":0,\"event\":\"note\",\"text\":\"x\"}\n{oops\n", error));
  CHECK(error.find("line 2: not a JSON object") == 0);
  error.clear();
  CHECK_FALSE(from_json_trace(R"({"t":0,"event":"segment","src":"1.2.3.4","dst":"1.2.3.4:5"})", error));
  CHECK(error == "line 1: \"src\" is not ip:port");
  error.clear();
  CHECK_FALSE(from_json_trace(R"({"t":0,"event":"state","local":"1.2.3.4:1","remote":"1.2.3.4:5"})", error));
  CHECK(error == "line 1: missing or mistyped \"from\"");
  error.clear();
  CHECK_FALSE(read_input(std::span<const std::byte>(), error));
  CHECK(error == "empty file");
}

TEST_CASE("ladder: the small JSON reader") {
  using trace::parse_json;
  std::string error;
  auto v = parse_json(R"( {"a":[1,-2.5e3,true,null],"b":"x\u00e9\ud83d\ude00\n","c":{}} )", error);
  REQUIRE_MESSAGE(v, error);
  CHECK(v->find("b")->text == "x\xc3\xa9\xf0\x9f\x98\x80\n");
  CHECK(v->find("a")->items.size() == 4);
  CHECK(v->find("a")->items[0].as_uint(10) == 1u);
  CHECK_FALSE(v->find("a")->items[1].as_uint(10));
  CHECK(v->find("zz") == nullptr);
  CHECK_FALSE(parse_json(std::string(100, '['), error));
  CHECK(error.find("nested too deeply") == 0);
  CHECK_FALSE(parse_json("{\"a\":1} x", error));
  CHECK_FALSE(parse_json("\"unterminated", error));
  CHECK_FALSE(parse_json("[1,]", error));
}

TEST_CASE("ladder: the SVG has every segment, the states and nothing external") {
  auto l = ladder_from(exchange());
  std::string svg = render_svg(l);
  CHECK(svg.rfind("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<svg xmlns=\"http://www.w3.org/2000/svg\"",
                  0) == 0);
  CHECK(svg.size() > 100);
  CHECK(svg.substr(svg.size() - 7) == "</svg>\n");
  for (const auto& label : labels(l.connections[0]))
    CHECK(svg.find(">" + label + "</text>") != std::string::npos);
  CHECK(svg.find(">TIME-WAIT?</text>") != std::string::npos);
  CHECK(svg.find("font-family=\"monospace\"") != std::string::npos);
  CHECK(svg.find("<script") == std::string::npos);
  CHECK(svg.find("href") == std::string::npos);
  CHECK(std::count(svg.begin(), svg.end(), '<') == std::count(svg.begin(), svg.end(), '>'));
}

TEST_CASE("ladder: long notes wrap between the SVG's lifelines instead of widening it") {
  std::string words;
  for (int i = 0; i < 40; ++i) words += (i ? " " : "") + std::string("word") + std::to_string(i);
  std::string json =
      R"({"t":0,"event":"segment","dir":"in","src":"192.0.2.1:40000","dst":"192.0.2.2:80","flags":"S",)"
      R"("seq":0,"end":0,"len":0,"win":1,"relative":true,"seq_raw":7,"options":{}})"
      "\n"
      R"({"t":0,"event":"note","local":"192.0.2.2:80","remote":"192.0.2.1:40000","text":")" +
      words + "\"}\n";
  std::string error;
  auto input = from_json_trace(json, error);
  REQUIRE_MESSAGE(input, error);
  auto l = build_ladder(*input);
  std::string short_svg = render_svg(ladder_from(exchange()));
  std::string svg = render_svg(l);
  // Same width as a diagram without the note, every word present, never all on one line.
  auto width = [](const std::string& doc) { return doc.substr(doc.find("width="), 14); };
  CHECK(width(svg) == width(short_svg));
  CHECK(width(svg) == "width=\"726.0\" ");
  for (int i = 0; i < 40; ++i) {
    std::string w = "word" + std::to_string(i);
    CHECK((svg.find(w + " ") != std::string::npos || svg.find(w + "<") != std::string::npos));
  }
  auto first = svg.find("word0 ");
  CHECK(svg.find("</text>", first) < svg.find("word39", first));
  std::string text = render_text(l);
  CHECK(text.find("word0 word1") != std::string::npos);
  CHECK(text.find("... * |") != std::string::npos);  // the terminal shortens it
}

TEST_CASE("ladder: a time before the first packet keeps its sign, in the text and the SVG") {
  CHECK(time_text(0) == "0.000000");
  CHECK(time_text(1'234'567'000) == "1.234567");
  CHECK(time_text(-250'000'000) == "-0.250000");
  CHECK(time_text(-5'282'511'000) == "-5.282511");
  CHECK(time_text(-999) == "-0.000000");
  // Two captures joined with cat: the SYN-ACK is stamped before the SYN.
  Writer w{false, {}};
  section_header(w);
  interface(w, capture::kLinktypeRaw);
  enhanced_packet(w, 0, 2'000000, ipv4_tcp({true, 40000, kSyn, kC, 0}));
  enhanced_packet(w, 0, 1'750000, ipv4_tcp({false, 40000, kSyn | kAck, kS, kC + 1}));
  std::string error;
  auto input = read_input(w.out, error);
  REQUIRE_MESSAGE(input, error);
  auto l = build_ladder(*input);
  CHECK(render_text(l).find("|   -0.250000 ") != std::string::npos);
  CHECK(render_svg(l).find(">-0.250000</text>") != std::string::npos);
}

TEST_CASE("ladder: the top border is as wide as the box, however long the title") {
  auto steps = exchange();
  steps.erase(steps.begin(), steps.begin() + 3);  // no SYN: the title says so and is long
  std::string text = render_text(ladder_from(steps));
  std::vector<std::string> box;
  for (size_t at = 0, end; (end = text.find('\n', at)) != std::string::npos; at = end + 1)
    if (text[at] == '+' || text[at] == '|') box.push_back(text.substr(at, end - at));
  REQUIRE(box.size() > 3);
  CHECK(box.front().find("(no SYN in the input) -") != std::string::npos);
  CHECK(box.front().substr(box.front().size() - 2) == "-+");
  for (const auto& row : box) CHECK(row.size() == box.back().size());
}

namespace {

// A pcapng packet block whose frame the snap length cut to `captured` bytes.
void cut_packet(Writer& w, uint64_t units, const Bytes& frame, size_t captured) {
  Writer b{w.big_endian, {}};
  b.u32(0);
  b.u32(static_cast<uint32_t>(units >> 32));
  b.u32(static_cast<uint32_t>(units));
  b.u32(static_cast<uint32_t>(captured));
  b.u32(static_cast<uint32_t>(frame.size()));
  b.bytes(Bytes(frame.begin(), frame.begin() + static_cast<std::ptrdiff_t>(captured)));
  b.pad4();
  block(w, 6, b.out);
}

// The IPv4 packet `whole` as fragments of its payload split at `cuts` (multiples of 8).
std::vector<Bytes> fragments(const Bytes& whole, std::vector<size_t> cuts, uint16_t id = 7) {
  auto ip = wire::parse_ipv4(whole);
  REQUIRE(ip.ok());
  Bytes payload(ip->payload.begin(), ip->payload.end());
  cuts.insert(cuts.begin(), 0);
  cuts.push_back(payload.size());
  std::vector<Bytes> out;
  for (size_t i = 0; i + 1 < cuts.size(); ++i) {
    wire::Ipv4Header h = ip->header;
    h.identification = id;
    h.dont_fragment = false;
    h.more_fragments = i + 2 < cuts.size();
    h.fragment_offset = static_cast<uint16_t>(cuts[i] / 8);
    Bytes f(20 + cuts[i + 1] - cuts[i]);
    wire::emit_ipv4_header(h, f.size() - 20, f);
    std::copy(payload.begin() + static_cast<std::ptrdiff_t>(cuts[i]),
              payload.begin() + static_cast<std::ptrdiff_t>(cuts[i + 1]), f.begin() + 20);
    out.push_back(std::move(f));
  }
  return out;
}

Ladder ladder_of(const Writer& w) {
  std::string error;
  auto input = read_input(w.out, error);
  REQUIRE_MESSAGE(input, error);
  return build_ladder(*input);
}

}  // namespace

TEST_CASE("ladder: a segment cut by the snap length is drawn with its real length and marked") {
  Writer w{false, {}};
  section_header(w);
  interface(w, capture::kLinktypeRaw);
  enhanced_packet(w, 0, 1000, ipv4_tcp({true, 40000, kSyn, kC, 0}));
  enhanced_packet(w, 0, 2000, ipv4_tcp({false, 40000, kSyn | kAck, kS, kC + 1}));
  cut_packet(w, 3000, ipv4_tcp({true, 40000, kPsh | kAck, kC + 1, kS + 1, 83}), 64);  // 24 of 83
  // The IP header whole but the TCP header cut: nothing reliable to draw.
  cut_packet(w, 4000, ipv4_tcp({false, 40000, kAck, kS + 1, kC + 84}), 30);
  // Snap length cutting into the IP header itself.
  cut_packet(w, 5000, ipv4_tcp({false, 40000, kAck, kS + 1, kC + 84}), 12);
  auto l = ladder_of(w);
  REQUIRE(l.connections.size() == 1);
  const auto rows = segment_rows(l.connections[0]);
  REQUIRE(rows.size() == 3);
  CHECK(rows[2]->label == "P. seq=1 ack=1 len=83 win=1000");
  CHECK(rows[2]->notes == std::vector<std::string>{"truncated: 24 of 83 bytes captured"});
  CHECK(l.truncated == 1);
  CHECK(summary_line(l) ==
        "1 connection, 3 segments from pcapng (1 truncated by the snap length: len is from the IPv4 header); "
        "2 packets skipped (TCP/IP header cut by the snap length)");
  // A packet the capture holds whole but whose total length claims more is still corrupt.
  Writer bad{false, {}};
  section_header(bad);
  interface(bad, capture::kLinktypeRaw);
  Bytes p = ipv4_tcp({true, 40000, kSyn, kC, 0});
  enhanced_packet(bad, 0, 1000, Bytes(p.begin(), p.end() - 4));
  CHECK(summary_line(ladder_of(bad)) ==
        "0 connections, 0 segments from pcapng; 1 packet skipped (not TCP over IPv4)");
}

TEST_CASE("ladder: a segment in IPv4 fragments is reassembled; an incomplete one is counted apart") {
  Writer w{false, {}};
  section_header(w);
  interface(w, capture::kLinktypeRaw);
  enhanced_packet(w, 0, 1000, ipv4_tcp({true, 40000, kSyn, kC, 0}));
  enhanced_packet(w, 0, 2000, ipv4_tcp({false, 40000, kSyn | kAck, kS, kC + 1}));
  enhanced_packet(w, 0, 3000, ipv4_tcp({true, 40000, kAck, kC + 1, kS + 1}));
  auto pieces = fragments(ipv4_tcp({false, 40000, kPsh | kAck, kS + 1, kC + 1, 200}), {104});
  enhanced_packet(w, 0, 4000, pieces[0]);
  enhanced_packet(w, 0, 4001, pieces[1]);
  enhanced_packet(w, 0, 5000, ipv4_tcp({true, 40000, kAck, kC + 1, kS + 201}));
  // The first two of three fragments of another segment: the capture never has the third.
  auto lost = fragments(ipv4_tcp({false, 40000, kPsh | kAck, kS + 201, kC + 1, 300}), {104, 208}, 8);
  enhanced_packet(w, 0, 6000, lost[0]);
  enhanced_packet(w, 0, 6001, lost[1]);
  auto l = ladder_of(w);
  REQUIRE(l.connections.size() == 1);
  const auto rows = segment_rows(l.connections[0]);
  REQUIRE(rows.size() == 5);
  CHECK(rows[3]->label == "P. seq=1 ack=1 len=200 win=1000");
  CHECK(rows[3]->notes == std::vector<std::string>{"reassembled from 2 IPv4 fragments"});
  CHECK(rows[3]->time_ns == 3001'000);  // when the last fragment came
  CHECK(l.fragments == 2);
  CHECK(summary_line(l) ==
        "1 connection, 5 segments from pcapng; 2 packets skipped (IPv4 fragments, not reassembled)");
}

TEST_CASE("ladder: fragments the snap length cut are counted under that reason, not as missing ones") {
  Writer w{false, {}};
  section_header(w);
  interface(w, capture::kLinktypeRaw);
  enhanced_packet(w, 0, 1000, ipv4_tcp({true, 40000, kSyn, kC, 0}));
  auto pieces = fragments(ipv4_tcp({false, 40000, kPsh | kAck, kS + 1, kC + 1, 1000}), {512});
  cut_packet(w, 2000, pieces[0], 96);
  cut_packet(w, 2001, pieces[1], 96);
  auto l = ladder_of(w);
  CHECK(l.fragments == 0);
  CHECK(l.fragments_cut == 2);
  CHECK(summary_line(l) == "1 connection, 1 segment from pcapng; 2 packets skipped "
                           "(IPv4 fragments cut by the snap length)");
}
