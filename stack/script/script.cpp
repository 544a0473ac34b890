// Parser for packet scenario scripts: packetdrill's line syntax plus a few tcplab directives
// (`// config:`, `#N` peers, `> none`, `badsum`). Every mistake becomes a ScriptError.
#include "stack/script/script.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <iterator>
#include <set>
#include <string_view>

#include "stack/script/errno_names.hpp"
#include "stack/tcp/state.hpp"
#include "stack/text/escape_unprintable.hpp"

namespace tcplab::scenario {
namespace {

struct Token {
  std::string text;
  int column = 0;  // 1-based
};

struct Fail {
  ScriptError error;
};

// Options packetdrill knows that tcplab does not implement: a script using them cannot mean
// anything here, so it is refused with the reason instead of a generic "unknown option".
const char* unsupported_option(std::string_view name) {
  struct Known {
    std::string_view name;
    const char* why;
  };
  static constexpr Known kKnown[] = {
      {"FO", "TCP Fast Open (RFC 7413, option kind 34) is not implemented by tcplab"},
      {"FOEXP", "TCP Fast Open (RFC 7413 experimental kind 254) is not implemented by tcplab"},
      {"md5", "TCP MD5 signatures (RFC 2385) are not implemented by tcplab"},
      {"exp", "experimental options (RFC 6994) are not implemented by tcplab"},
      {"mpcapable", "Multipath TCP (RFC 8684) is not implemented by tcplab"},
      {"mpjoin", "Multipath TCP (RFC 8684) is not implemented by tcplab"},
      {"dss", "Multipath TCP (RFC 8684) is not implemented by tcplab"},
      {"add_address", "Multipath TCP (RFC 8684) is not implemented by tcplab"},
      {"remove_address", "Multipath TCP (RFC 8684) is not implemented by tcplab"},
      {"mp_prio", "Multipath TCP (RFC 8684) is not implemented by tcplab"},
      {"mp_fail", "Multipath TCP (RFC 8684) is not implemented by tcplab"},
      {"mp_fastclose", "Multipath TCP (RFC 8684) is not implemented by tcplab"},
      {"tcp_ao", "TCP-AO (RFC 5925) is not implemented by tcplab"},
      {"ecn", "ECN (RFC 3168) negotiation is not implemented by tcplab"},
  };
  for (const auto& k : kKnown)
    if (k.name == name) return k.why;
  return nullptr;
}

// ICMP types and codes (RFC 792) by packetdrill's names (its icmp_packet.c tables, IPv4),
// limited to what tcplab's stack reads or sends: destination unreachable with the codes below
// (frag_needed carries the next-hop MTU, RFC 1191 §4) and time exceeded. For time exceeded
// packetdrill has names only for IPv6; its IPv6 name of code 1 is kept, and code 0 is named
// to match it.
struct IcmpName {
  uint8_t type;
  uint8_t code;
  std::string_view type_name;
  std::string_view code_name;
};
constexpr IcmpName kIcmpNames[] = {
    {3, 0, "unreachable", "net_unreachable"},     {3, 1, "unreachable", "host_unreachable"},
    {3, 2, "unreachable", "protocol_unreachable"}, {3, 3, "unreachable", "port_unreachable"},
    {3, 4, "unreachable", "frag_needed"},          {11, 0, "time_exceeded", "exceeded_ttl"},
    {11, 1, "time_exceeded", "exceeded_frag_time"},
};
constexpr std::string_view kIcmpSupported =
    "supported: unreachable (net_unreachable, host_unreachable, protocol_unreachable, port_unreachable, "
    "frag_needed) and time_exceeded (exceeded_ttl, exceeded_frag_time)";

// packetdrill's other ICMP words: known there, refused here with the reason.
bool packetdrill_icmp_word(std::string_view word) {
  static constexpr std::string_view kOthers[] = {
      "echo_reply", "source_quench", "redirect", "echo_request", "parameter_problem",
      "timestamp_request", "timestamp_reply", "information_request", "information_reply",
      "address_mask_request", "address_mask_reply", "packet_too_big", "source_route_failed",
      "net_unknown", "host_unknown", "source_host_isolated", "net_prohibited", "host_prohibited",
      "net_unreachable_for_tos", "host_unreachable_for_tos", "packet_filtered",
      "precedence_violation", "precedence_cutoff"};
  for (auto w : kOthers)
    if (w == word) return true;
  return false;
}

// The script text a diagnosis quotes. Scripts are ASCII, so every other byte is shown as
// \xNN: a byte order mark or a no-break space looks like nothing, or like a space, on a
// terminal. A long token (a megabyte of digits) is cut: the start shows what it is.
std::string quoted_token(std::string_view token) {
  constexpr size_t kShown = 60;
  std::string out;
  for (size_t i = 0; i < token.size() && i < kShown; ++i) {
    auto c = static_cast<unsigned char>(token[i]);
    if (c < 0x80) {
      out += static_cast<char>(c);  // control characters are escaped by format() as a whole
    } else {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    }
  }
  if (token.size() > kShown) out += "...";
  return out;
}

// The RFC 9293 §3.3.2 state names, for messages.
constexpr std::string_view kStateNames =
    "CLOSED, LISTEN, SYN-SENT, SYN-RECEIVED, ESTABLISHED, FIN-WAIT-1, FIN-WAIT-2, CLOSE-WAIT, CLOSING, "
    "LAST-ACK, TIME-WAIT";

// The TCP option space: a header is at most 60 bytes, 20 of them fixed (RFC 9293 §3.1).
constexpr size_t kMaxOptionBytes = wire::kTcpMaxHeaderLength - wire::kTcpMinHeaderLength;

// The largest time a script may write, in seconds.
constexpr Micros kMaxSeconds = 1'000'000;

class LineParser {
 public:
  LineParser(const std::string& path, int number, std::string_view code)
      : path_(path), number_(number), code_(code) {}

  [[noreturn]] void fail(int column, std::string token, std::string message) const {
    throw Fail{ScriptError{path_, number_, column, std::move(token), std::move(message)}};
  }
  [[noreturn]] void fail(const Token& t, std::string message) const {
    fail(t.column, t.text, std::move(message));
  }

  Line parse() {
    Line line;
    line.number = number_;
    line.text = std::string(trim(code_));
    size_t pos = skip_space(0);
    Token time = word(pos);
    line.time = parse_time(time);
    pos = skip_space(pos);
    if (pos < code_.size() && (code_[pos] == '<' || code_[pos] == '>') &&
        (pos + 1 == code_.size() || std::isspace(static_cast<unsigned char>(code_[pos + 1])))) {
      bool inject = code_[pos] == '<';
      // An injected segment is sent at a time the script chooses; "whenever" has no meaning.
      if (inject && line.time.kind == TimeSpec::Kind::Any) fail(time, "'*' is only allowed on '>' lines");
      parse_segment(line, inject, pos + 1);
    } else {
      // A range on a call is packetdrill's blocking call; tcplab's calls never block, so the
      // call is made at the range's start (docs/scenarios.md, "Time ranges").
      if (line.time.kind == TimeSpec::Kind::Any) fail(time, "'*' is only allowed on '>' lines");
      parse_call(line, pos);
    }
    return line;
  }

 private:
  static std::string_view trim(std::string_view s) {
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
    return s;
  }
  size_t skip_space(size_t pos) const {
    while (pos < code_.size() && std::isspace(static_cast<unsigned char>(code_[pos]))) ++pos;
    return pos;
  }
  Token word(size_t& pos) const {
    size_t start = pos;
    while (pos < code_.size() && !std::isspace(static_cast<unsigned char>(code_[pos]))) ++pos;
    return Token{std::string(code_.substr(start, pos - start)), static_cast<int>(start) + 1};
  }

  // "0.100", "+0.1", "+.1", "1": microseconds, exactly (no floating point). The two limits
  // (docs/scenarios.md, "Times") get messages of their own: the text is a time, just not one
  // the runner can hold.
  std::optional<Micros> parse_seconds(const Token& t, std::string_view s) const {
    if (s.empty()) return std::nullopt;
    Micros whole = 0, frac = 0;
    int frac_digits = 0;
    bool dot = false, any_digit = false;
    for (char c : s) {
      if (c == '.') {
        if (dot) return std::nullopt;
        dot = true;
      } else if (std::isdigit(static_cast<unsigned char>(c))) {
        any_digit = true;
        if (!dot) {
          whole = whole * 10 + (c - '0');
          // A million seconds (11.5 days) is surely a typo.
          if (whole > kMaxSeconds)
            fail(t, "time too large (at most " + std::to_string(kMaxSeconds) + " s per time)");
        } else {
          if (++frac_digits > 6)
            fail(t, "time has more than microsecond precision (at most 6 decimals, like 0.000001)");
          frac = frac * 10 + (c - '0');
        }
      } else {
        return std::nullopt;
      }
    }
    if (!any_digit) return std::nullopt;
    while (frac_digits++ < 6) frac *= 10;
    return whole * 1'000'000 + frac;
  }

  std::pair<TimeSpec::Kind, Micros> parse_time_point(const Token& t, std::string_view s) const {
    bool relative = !s.empty() && s.front() == '+';
    if (relative) s.remove_prefix(1);
    auto us = parse_seconds(t, s);
    if (!us) fail(t, "bad time: expected seconds like 0.100, +0.1 or *");
    return {relative ? TimeSpec::Kind::Relative : TimeSpec::Kind::Absolute, *us};
  }

  TimeSpec parse_time(const Token& t) const {
    TimeSpec spec;
    if (t.text.empty()) fail(t, "missing time");
    if (t.text == "*") {
      spec.kind = TimeSpec::Kind::Any;
      return spec;
    }
    std::string_view s = t.text;
    // packetdrill writes a range "A...B" ("+.01...0.011"); tcplab's older form is "A~B".
    size_t split = s.find("...");
    size_t skip = 3;
    if (split == std::string_view::npos) {
      split = s.find('~');
      skip = 1;
    }
    auto first = parse_time_point(t, s.substr(0, split));
    spec.kind = first.first;
    spec.value = first.second;
    if (split == std::string_view::npos) return spec;
    std::string_view rest = s.substr(split + skip);
    if (rest.empty()) fail(t, "a time range needs an end, like 0.100...0.200");
    auto end = parse_time_point(t, rest);
    // In "+A...B" packetdrill counts B from the previous line as well: both ends are relative.
    if (skip == 3 && spec.kind == TimeSpec::Kind::Relative) end.first = TimeSpec::Kind::Relative;
    spec.range_end = end;
    return spec;
  }

  std::vector<Token> segment_tokens(size_t pos) const {
    std::vector<Token> tokens;
    for (pos = skip_space(pos); pos < code_.size(); pos = skip_space(pos)) {
      if (code_[pos] == '<') {
        size_t close = code_.find('>', pos);
        if (close == std::string_view::npos)
          fail(static_cast<int>(pos) + 1, "<", "options have no closing '>'");
        tokens.push_back(Token{std::string(code_.substr(pos, close - pos + 1)), static_cast<int>(pos) + 1});
        pos = close + 1;
      } else if (code_[pos] == '[') {
        // An ICMP line's quoted segment, "[S. 0:0(0)]": one token, spaces and all.
        size_t close = code_.find(']', pos);
        if (close == std::string_view::npos)
          fail(static_cast<int>(pos) + 1, "[", "the quoted segment has no closing ']'");
        tokens.push_back(Token{std::string(code_.substr(pos, close - pos + 1)), static_cast<int>(pos) + 1});
        pos = close + 1;
      } else if (code_[pos] == '"') {
        // A payload text (tcplab extension): one token up to the closing quote that no
        // backslash escapes, spaces and all; decode_text() reads the escapes.
        size_t close = pos + 1;
        while (close < code_.size() && code_[close] != '"') close += code_[close] == '\\' ? 2 : 1;
        if (close >= code_.size())
          fail(static_cast<int>(pos) + 1, std::string(code_.substr(pos, 12)),
               "unterminated string: the payload text has no closing '\"'");
        tokens.push_back(Token{std::string(code_.substr(pos, close - pos + 1)), static_cast<int>(pos) + 1});
        pos = close + 1;
      } else {
        tokens.push_back(word(pos));
      }
    }
    return tokens;
  }

  // "GET / HTTP/1.1\r\n" -> its bytes. C's escapes: \r \n \t \\ \" and \xNN (two hex
  // digits, any byte); any other backslash is a mistake, not a guess.
  std::string decode_text(const Token& t) const {
    std::string_view body = std::string_view(t.text).substr(1, t.text.size() - 2);
    std::string out;
    for (size_t i = 0; i < body.size(); ++i) {
      if (body[i] != '\\') {
        out += body[i];
        continue;
      }
      char e = ++i < body.size() ? body[i] : '\0';
      if (e == 'r') {
        out += '\r';
      } else if (e == 'n') {
        out += '\n';
      } else if (e == 't') {
        out += '\t';
      } else if (e == '\\' || e == '"') {
        out += e;
      } else if (e == 'x' && i + 2 < body.size() && std::isxdigit(static_cast<unsigned char>(body[i + 1])) &&
                 std::isxdigit(static_cast<unsigned char>(body[i + 2]))) {
        out += static_cast<char>(std::stoi(std::string(body.substr(i + 1, 2)), nullptr, 16));
        i += 2;
      } else {
        fail(t.column + static_cast<int>(i), "\\" + std::string(1, e),
             "unknown escape in payload text (known: \\r \\n \\t \\\\ \\\" \\xNN)");
      }
    }
    return out;
  }

  uint32_t number(const Token& t, std::string_view s, const char* what) const {
    if (s.empty()) fail(t, std::string("bad ") + what + ": expected a number");
    if (s.size() > 10 && s.find_first_not_of("0123456789") == std::string_view::npos)
      fail(t, std::string(what) + " does not fit in 32 bits");
    if (s.size() > 10) fail(t, std::string("bad ") + what + ": expected a number");
    uint64_t v = 0;
    for (char c : s) {
      if (!std::isdigit(static_cast<unsigned char>(c)))
        fail(t, std::string("bad ") + what + ": expected a number");
      v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    if (v > 0xffffffffull) fail(t, std::string(what) + " does not fit in 32 bits");
    return static_cast<uint32_t>(v);
  }

  std::optional<uint32_t> number_or_any(const Token& t, std::string_view s, const char* what,
                                        bool inject) const {
    if (s == "*") {
      if (inject)
        fail(t, std::string("'*' is for expected segments; an injected segment needs a real ") + what);
      return std::nullopt;
    }
    return number(t, s, what);
  }

  void parse_flags(const Token& t, wire::TcpFlags& f) const {
    if (t.text.empty()) fail(t, "missing flags");
    for (char c : t.text) {
      bool* bit = nullptr;
      switch (c) {
        case 'S':
          bit = &f.syn;
          break;
        case 'F':
          bit = &f.fin;
          break;
        case 'R':
          bit = &f.rst;
          break;
        case 'P':
          bit = &f.psh;
          break;
        case '.':
          bit = &f.ack;
          break;
        case 'U':
          bit = &f.urg;
          break;
        case 'E':
          bit = &f.ece;
          break;
        case 'W':
          bit = &f.cwr;
          break;
        default:
          fail(t, "bad flags: use the letters S F R P . U E W (like \"S.\" or \"P.\")");
      }
      if (*bit) fail(t, "a flag letter appears twice");
      *bit = true;
    }
  }

  // "seq:end(len)"
  void parse_seq(const Token& t, SegmentSpec& s, bool inject) const {
    if (t.text == "*") {
      if (inject) fail(t, "an injected segment needs seq:end(len)");
      s.seq_any = true;
      return;
    }
    std::string_view v = t.text;
    auto colon = v.find(':');
    auto open = v.find('(');
    if (colon == std::string_view::npos || open == std::string_view::npos || open < colon || v.back() != ')')
      fail(t, "expected seq:end(len), like 1:101(100)");
    uint32_t seq = number(t, v.substr(0, colon), "seq");
    if (v.substr(colon + 1) == "*(*)") {
      // tcplab extension: an expected segment of any length, when the size is not the point
      // (a server's response, say); its payload text, if given, is still checked.
      if (inject) fail(t, "an injected segment needs its real length: seq:end(len)");
      s.seq = seq;
      s.len_any = true;
      return;
    }
    uint32_t end = number(t, v.substr(colon + 1, open - colon - 1), "end");
    uint32_t len = number(t, v.substr(open + 1, v.size() - open - 2), "len");
    if (end - seq != len) fail(t, "end - seq is not len (seq:end(len) must agree)");
    if (len > 65495) fail(t, "len is larger than an IPv4 packet can carry");
    s.seq = seq;
    s.len = len;
  }

  void parse_options(const Token& t, SegmentSpec& s, bool inject) const {
    s.options_given = true;
    std::string_view body = std::string_view(t.text).substr(1, t.text.size() - 2);
    body = trim(body);
    if (body == "...") {
      if (inject) fail(t, "<...> is for expected segments; list the options to inject");
      s.options_any = true;
      return;
    }
    while (!body.empty()) {
      auto comma = body.find(',');
      std::string_view item = trim(body.substr(0, comma));
      body = comma == std::string_view::npos ? std::string_view{} : body.substr(comma + 1);
      std::vector<std::string_view> words;
      while (!item.empty()) {
        size_t n = 0;
        while (n < item.size() && !std::isspace(static_cast<unsigned char>(item[n]))) ++n;
        words.push_back(item.substr(0, n));
        item = trim(item.substr(n));
      }
      if (words.empty()) fail(t, "empty option between commas");
      // Where this item starts in the line, so an error points at it rather than at '<'.
      const int item_column = t.column + static_cast<int>(words[0].data() - t.text.data());
      OptionSpec o;
      auto arity = [&](size_t n) {
        if (words.size() != n)
          fail(t, "option '" + std::string(words[0]) + "' has the wrong number of values");
      };
      if (words[0] == "mss") {
        arity(2);
        o.kind = OptionSpec::Kind::Mss;
        o.a = number_or_any(t, words[1], "mss", inject);
        if (o.a && *o.a > 0xffff) fail(t, "mss does not fit in 16 bits");
      } else if (words[0] == "wscale") {
        arity(2);
        o.kind = OptionSpec::Kind::WindowScale;
        o.a = number_or_any(t, words[1], "wscale", inject);
        if (o.a && *o.a > 255) fail(t, "wscale does not fit in 8 bits");
      } else if (words[0] == "sackOK") {
        arity(1);
        o.kind = OptionSpec::Kind::SackPermitted;
      } else if (words[0] == "TS") {
        if (words.size() != 5 || words[1] != "val" || words[3] != "ecr")
          fail(t, "write timestamps as: TS val N ecr N");
        o.kind = OptionSpec::Kind::Timestamps;
        o.a = number_or_any(t, words[2], "TS val", inject);
        o.b = number_or_any(t, words[4], "TS ecr", inject);
      } else if (words[0] == "nop") {
        arity(1);
        o.kind = OptionSpec::Kind::Nop;
      } else if (words[0] == "eol") {
        arity(1);
        o.kind = OptionSpec::Kind::Eol;
      } else if (words[0] == "sack") {
        // RFC 2018 §3: "sack LEFT:RIGHT ..." - 1 to 4 blocks, relative numbers like ack.
        if (words.size() < 2 || words.size() > 5)
          fail(t, "write SACK blocks as: sack LEFT:RIGHT (1 to 4 blocks)");
        o.kind = OptionSpec::Kind::Sack;
        for (size_t w = 1; w < words.size(); ++w) {
          auto colon = words[w].find(':');
          if (colon == std::string_view::npos) fail(t, "a SACK block is LEFT:RIGHT, like 1001:2001");
          uint32_t left = number(t, words[w].substr(0, colon), "SACK left edge");
          uint32_t right = number(t, words[w].substr(colon + 1), "SACK right edge");
          o.blocks.emplace_back(left, right);
        }
        for (const auto& x : s.options) {
          if (x.kind == OptionSpec::Kind::Sack)
            fail(item_column, "sack", "one sack option per segment; list all blocks in it");
        }
      } else if (const char* why = unsupported_option(words[0])) {
        fail(t, "option '" + std::string(words[0]) + "' is not supported: " + why);
      } else {
        // The name is shown as the token is (\xNN for non-ASCII): a no-break space inside it
        // ("mss\xc2\xa01460") would otherwise look like the space it is mistaken for.
        fail(t, "unknown option '" + quoted_token(words[0]) +
                    "' (known: mss, wscale, sackOK, TS, sack, nop, eol)");
      }
      // An option given twice cannot be checked: the segment carries one value, and the
      // comparison would see only one of the two (nop and eol are padding, any number goes).
      const bool padding = o.kind == OptionSpec::Kind::Nop || o.kind == OptionSpec::Kind::Eol;
      if (!padding && o.kind != OptionSpec::Kind::Sack)  // sack has its own message above
        for (const auto& x : s.options)
          if (x.kind == o.kind)
            fail(item_column, std::string(words[0]),
                 "option '" + std::string(words[0]) + "' is given twice; a segment carries it once");
      s.options.push_back(o);
    }
  }

  void parse_segment(Line& line, bool inject, size_t pos) const {
    line.kind = inject ? Line::Kind::Inject : Line::Kind::Expect;
    SegmentSpec& s = line.segment;
    auto tokens = segment_tokens(pos);
    size_t i = 0;
    auto need = [&](const char* what) -> const Token& {
      if (i >= tokens.size()) fail(static_cast<int>(code_.size()) + 1, "", std::string("missing ") + what);
      return tokens[i++];
    };
    if (i < tokens.size() && !tokens[i].text.empty() && tokens[i].text[0] == '#') {
      const Token& t = tokens[i++];
      uint32_t n = number(t, std::string_view(t.text).substr(1), "peer");
      if (n < 1 || n > 16) fail(t, "peers are numbered #1 to #16");
      s.peer = static_cast<int>(n);
      s.peer_given = true;
    }
    if (!inject && i < tokens.size() && tokens[i].text == "none") {
      line.kind = Line::Kind::ExpectNone;
      if (++i < tokens.size()) fail(tokens[i], "nothing may follow '> none'");
      if (line.time.range_end || line.time.kind == TimeSpec::Kind::Any)
        fail(1, "", "'> none' needs a plain time (no packet up to and including that time)");
      return;
    }
    if (i < tokens.size() &&
        (tokens[i].text == "icmp" || (tokens[i].text.front() == '[' && i + 1 < tokens.size() &&
                                      tokens[i + 1].text == "icmp")))
      return parse_icmp(line, inject, tokens, i);
    if (i < tokens.size() && tokens[i].text == "udp") return parse_udp(line, inject, tokens, i, pos);
    parse_flags(need("flags"), s.flags);
    const Token& seq_token = need("seq:end(len)");
    parse_seq(seq_token, s, inject);
    const Token* text_token = nullptr;
    const Token* ack_token = nullptr;
    const Token* options_token = nullptr;
    while (i < tokens.size()) {
      const Token& t = tokens[i++];
      if (t.text == "frag") {
        parse_fragment(line, inject, t, tokens, i, pos);
      } else if (t.text == "ack") {
        const Token& v = need("ack value");
        if (s.ack_given) fail(t, "ack given twice");
        s.ack_given = true;
        ack_token = &t;
        s.ack = number_or_any(v, v.text, "ack", inject);
      } else if (t.text == "win") {
        const Token& v = need("win value");
        if (s.win_given) fail(t, "win given twice");
        s.win_given = true;
        s.win = number_or_any(v, v.text, "win", inject);
        if (s.win && *s.win > 0xffff) fail(v, "win is the raw 16-bit field; it does not fit");
      } else if (t.text.front() == '<') {
        if (s.options_given) fail(t, "options given twice");
        parse_options(t, s, inject);
        options_token = &t;
      } else if (t.text.front() == '"') {
        if (s.text) fail(t, "payload text given twice");
        s.text = decode_text(t);
        text_token = &t;
      } else if (t.text == "badsum") {
        if (!inject) fail(t, "badsum only makes sense on an injected ('<') segment");
        s.bad_checksum = true;
      } else {
        fail(t, "unknown segment field (known: ack N, win N, <options>, \"TEXT\", badsum, frag A:B)");
      }
    }
    if (s.text && inject && s.text->size() != s.len)
      fail(text_token->column, "", "the payload text is " + std::to_string(s.text->size()) +
                                       " bytes but seq:end(len) says " + std::to_string(s.len) +
                                       ": the two must agree");
    if (s.text && !inject && !s.len_any && s.text->size() > s.len)
      fail(text_token->column, "", "the expected payload text (" + std::to_string(s.text->size()) +
                      " bytes) is longer than the segment's len " + std::to_string(s.len) +
                      ": it could never match (write seq:*(*) for any length)");
    if (inject) {
      // The runner builds this segment whole, in one IPv4 datagram even when "frag" sends a
      // piece of it: RFC 791 §3.1's 16-bit total length holds the 20-byte IPv4 header, the
      // TCP header with its options, and the payload.
      const size_t options = injected_option_bytes(s);
      // RFC 9293 §3.1: Data Offset counts at most 15 words, so options take at most 40 bytes;
      // the encoder would drop the SACK blocks that do not fit (only SACK can overflow).
      if (options > kMaxOptionBytes)
        fail(*options_token, "the options take " + std::to_string(options) + " bytes as laid out, but a "
                             "TCP header has room for " + std::to_string(kMaxOptionBytes) +
                             " (RFC 9293 §3.1): give fewer SACK blocks (3 fit beside TS, 4 alone)");
      const size_t room = 65535 - wire::kIpv4MinHeaderLength - wire::kTcpMinHeaderLength - options;
      if (s.len > room)
        fail(seq_token, "len is larger than an IPv4 packet can carry (with its options): at most " +
                            std::to_string(room) + " payload bytes beside " + std::to_string(options) +
                            " option bytes");
      if (s.flags.ack && !s.ack_given)
        fail(1, "", "an injected segment with the ACK flag ('.') needs 'ack N'");
      if (!s.flags.ack && s.ack_given) fail(*ack_token, "'ack N' given but the flags have no '.' (ACK)");
      if (!s.win_given) {
        s.win_given = true;
        s.win = 65535;
      }
    }
  }

  // The option bytes the runner's segment carries: the wire encoder's layout (emit_tcp, each
  // group padded to 32 bits), with every SACK block the script lists. The values do not
  // change the layout, so zeros stand in for them.
  static size_t injected_option_bytes(const SegmentSpec& s) {
    wire::TcpOptions o;
    size_t blocks = 0;
    for (const OptionSpec& x : s.options) {
      switch (x.kind) {
        case OptionSpec::Kind::Mss:
          o.mss = 0;
          break;
        case OptionSpec::Kind::WindowScale:
          o.window_scale = 0;
          break;
        case OptionSpec::Kind::SackPermitted:
          o.sack_permitted = true;
          break;
        case OptionSpec::Kind::Timestamps:
          o.timestamps = wire::TcpTimestamps{};
          break;
        case OptionSpec::Kind::Sack:
          blocks += x.blocks.size();
          break;
        case OptionSpec::Kind::Nop:
        case OptionSpec::Kind::Eol:
          break;  // layout is the encoder's: it adds its own padding
      }
    }
    // RFC 2018 §3 with the encoder's two leading NOPs: nop, nop, kind, length, 8 bytes a block.
    return o.emitted_length() + (blocks ? 4 + 8 * blocks : 0);
  }

  // "frag A:B" (tcplab extension), the last thing on a '<' TCP or udp line.
  void parse_fragment(Line& line, bool inject, const Token& t, const std::vector<Token>& tokens, size_t& i,
                      size_t segment_start) const {
    if (!inject) fail(t, "frag only makes sense on an injected ('<') segment");
    if (i >= tokens.size()) fail(t, "frag needs the bytes it carries: frag A:B, like frag 0:512");
    const Token& range = tokens[i++];
    auto colon = range.text.find(':');
    if (colon == std::string::npos) fail(range, "write a fragment as frag A:B (bytes of the IP payload)");
    uint32_t a = number(range, std::string_view(range.text).substr(0, colon), "fragment offset");
    uint32_t b = number(range, std::string_view(range.text).substr(colon + 1), "fragment end");
    // RFC 791 §3.1: "The fragment offset is measured in units of 8 octets (64 bits)".
    if (a % 8 != 0) fail(range, "a fragment offset is a multiple of 8 bytes (RFC 791 §3.1)");
    if (b <= a) fail(range, "a fragment carries at least one byte: A:B needs B > A");
    if (b > 65535 - wire::kIpv4MinHeaderLength) fail(range, "a fragment ends within 65,515 payload bytes");
    if (i < tokens.size()) fail(tokens[i], "frag A:B comes last on the line");
    line.fragment = FragmentSpec{a, b};
    // The datagram's text: everything between '<' and "frag".
    size_t frag_at = static_cast<size_t>(t.column - 1);
    line.datagram = std::string(trim(code_.substr(segment_start, frag_at - segment_start)));
  }

  // "udp (LEN)" as packetdrill writes it: a UDP datagram the stack has no port for.
  void parse_udp(Line& line, bool inject, const std::vector<Token>& tokens, size_t i, size_t start) const {
    const Token& udp = tokens[i++];
    if (!inject) fail(udp, "'> udp' is not supported: tcplab sends no UDP");
    line.protocol = Protocol::Udp;
    if (i >= tokens.size()) fail(udp, "write a UDP datagram as udp (LEN), like udp (100)");
    const Token& len = tokens[i++];
    if (len.text.size() < 3 || len.text.front() != '(' || len.text.back() != ')')
      fail(len, "write a UDP datagram as udp (LEN), like udp (100)");
    line.udp_len = number(len, std::string_view(len.text).substr(1, len.text.size() - 2), "UDP length");
    if (line.udp_len > 65535 - wire::kIpv4MinHeaderLength - 8)
      fail(len, "UDP length is larger than an IPv4 packet can carry");
    if (i < tokens.size()) {
      const Token& t = tokens[i++];
      if (t.text != "frag") fail(t, "unknown udp field (known: frag A:B)");
      parse_fragment(line, inject, t, tokens, i, start);
    }
  }

  // "[S. 0:0(0)]" or "[1:1461(1460)]": the segment an ICMP error quotes.
  void parse_quote(const Token& t, IcmpSpec& icmp) const {
    if (icmp.quote_given) fail(t, "the quoted segment is given twice");
    std::string_view body = trim(std::string_view(t.text).substr(1, t.text.size() - 2));
    auto space = body.find(' ');
    SegmentSpec quoted;
    if (space != std::string_view::npos) {
      parse_flags(Token{std::string(body.substr(0, space)), t.column}, quoted.flags);
      body = trim(body.substr(space));
    }
    parse_seq(Token{std::string(body), t.column}, quoted, true);
    icmp.quote_given = true;
    icmp.quote_flags = quoted.flags;
    icmp.quote_seq = quoted.seq;
    icmp.quote_len = quoted.len;
  }

  // packetdrill: "icmp TYPE [CODE] [mtu N] [SEGMENT]" (the segment may also come first).
  void parse_icmp(Line& line, bool inject, const std::vector<Token>& tokens, size_t i) const {
    line.protocol = Protocol::Icmp;
    IcmpSpec& icmp = line.icmp;
    if (tokens[i].text.front() == '[') parse_quote(tokens[i++], icmp);
    const Token& word = tokens[i++];  // "icmp"
    if (i >= tokens.size()) fail(word, "missing ICMP type (" + std::string(kIcmpSupported) + ")");
    const Token& type = tokens[i++];
    const IcmpName* type_entry = nullptr;
    for (const auto& n : kIcmpNames)
      if (n.type_name == type.text && !type_entry) type_entry = &n;
    if (!type_entry) {
      if (packetdrill_icmp_word(type.text))
        fail(type, "ICMP type '" + type.text + "' is not supported by tcplab's scenario player (" +
                       std::string(kIcmpSupported) + ")");
      fail(type, "unknown ICMP type (" + std::string(kIcmpSupported) + ")");
    }
    icmp.type = type_entry->type;
    icmp.code = 0;  // packetdrill: a missing code is code 0
    if (i < tokens.size() && tokens[i].text != "mtu" && tokens[i].text.front() != '[') {
      const Token& code = tokens[i++];
      bool found = false;
      for (const auto& n : kIcmpNames) {
        bool numbered = code.text == "code_" + std::to_string(n.code);
        if (n.type == icmp.type && (n.code_name == code.text || numbered)) {
          icmp.code = n.code;
          found = true;
        }
      }
      if (!found) {
        if (packetdrill_icmp_word(code.text) || code.text.starts_with("code_"))
          fail(code, "ICMP " + type.text + " code '" + quoted_token(code.text) +
                         "' is not supported by tcplab's scenario player (" +
                         std::string(kIcmpSupported) + ")");
        fail(code, "unknown ICMP code for " + type.text + " (" + std::string(kIcmpSupported) + ")");
      }
    }
    while (i < tokens.size()) {
      const Token& t = tokens[i++];
      if (t.text == "mtu") {
        if (i >= tokens.size()) fail(t, "missing mtu value");
        const Token& v = tokens[i++];
        if (icmp.mtu) fail(t, "mtu given twice");
        uint32_t mtu = number(v, v.text, "mtu");
        // packetdrill: "ICMPv4 MTU is only valid for unreachable-frag_needed".
        if (icmp.type != 3 || icmp.code != 4) fail(t, "mtu is only valid for unreachable frag_needed");
        if (mtu > 0xffff) fail(v, "mtu does not fit in 16 bits");
        icmp.mtu = static_cast<uint16_t>(mtu);
      } else if (t.text.front() == '[') {
        parse_quote(t, icmp);
      } else if (t.text == "frag") {
        fail(t, "frag is for '<' TCP segments and udp lines, not icmp");
      } else {
        fail(t, "unknown icmp field (known: CODE, mtu N, [SEQ:END(LEN)])");
      }
    }
    if (inject && !icmp.quote_given)
      fail(word, "an injected ICMP error quotes the segment it is about (RFC 792): add it, like " +
                     std::string("[1:1461(1460)]"));
    if (!inject && icmp.quote_given)
      fail(word, "a '>' icmp line matches type, code and mtu; it takes no quoted segment");
  }

  void parse_call(Line& line, size_t pos) const {
    line.kind = Line::Kind::Call;
    CallSpec& c = line.call;
    size_t start = pos;
    while (pos < code_.size() && (std::isalnum(static_cast<unsigned char>(code_[pos])) || code_[pos] == '_'))
      ++pos;
    c.name = std::string(code_.substr(start, pos - start));
    Token name{c.name, static_cast<int>(start) + 1};
    if (c.name.empty() || pos >= code_.size() || code_[pos] != '(') {
      Token t = word(start);
      fail(t, "expected '<' (inject), '>' (expect) or a call like listen(3, 1) = 0");
    }
    static const std::set<std::string> known = {
        "socket", "setsockopt", "getsockopt", "fcntl", "ioctl",    "bind",  "listen", "accept", "connect",
        "write",  "send",       "read",       "recv",  "shutdown", "close", "abort",  "state"};
    if (!known.count(c.name))
      fail(name,
           "unknown call (known: socket setsockopt getsockopt fcntl bind listen accept connect write send "
           "read recv shutdown close abort state)");
    // Arguments: split on commas at depth 0 of (), [] and {}.
    int depth = 0;
    size_t arg_start = ++pos;
    std::vector<int> arg_columns;  // where each argument starts, for script errors about it
    auto add_arg = [&](size_t end) {
      size_t first = skip_space(arg_start);
      c.args.emplace_back(trim(code_.substr(arg_start, end - arg_start)));
      arg_columns.push_back(static_cast<int>(std::min(first, end)) + 1);
    };
    for (; pos < code_.size(); ++pos) {
      char ch = code_[pos];
      if (ch == '(' || ch == '[' || ch == '{') {
        ++depth;
      } else if (ch == ')' || ch == ']' || ch == '}') {
        if (depth == 0) {
          if (ch != ')') fail(static_cast<int>(pos) + 1, std::string(1, ch), "unbalanced bracket");
          break;
        }
        --depth;
      } else if (ch == ',' && depth == 0) {
        add_arg(pos);
        arg_start = pos + 1;
      }
    }
    if (pos >= code_.size()) fail(name, "the call's '(' is never closed");
    if (!trim(code_.substr(arg_start, pos - arg_start)).empty() || !c.args.empty()) add_arg(pos);
    pos = skip_space(pos + 1);
    if (pos >= code_.size() || code_[pos] != '=')
      fail(static_cast<int>(pos) + 1, "", "expected '= RESULT' after the call");
    pos = skip_space(pos + 1);
    Token result = word(pos);
    if (result.text.empty()) fail(result, "missing result after '='");
    std::string_view r = result.text;
    bool negative = !r.empty() && r.front() == '-';
    std::string_view digits = negative ? r.substr(1) : r;
    bool numeric = !digits.empty() && digits.size() <= 9 &&
                   digits.find_first_not_of("0123456789") == std::string_view::npos;
    if (numeric) {
      int64_t v = 0;
      for (char ch : digits) v = v * 10 + (ch - '0');
      c.result = negative ? -v : v;
      pos = skip_space(pos);
      if (c.result == -1) {
        Token err = word(pos);
        if (err.text.empty() || err.text[0] != 'E')
          fail(err, "a -1 result needs an errno name, like -1 EAGAIN");
        if (!is_errno_name(err.text))
          fail(err, "unknown errno name: expected one of Linux's, like EAGAIN, ECONNRESET or ETIMEDOUT");
        c.error = err.text;
      } else if (c.result < 0) {
        fail(result, "a failing call returns -1 with an errno name");
      }
      // A descriptor that is not open answers every call with -1 EBADF, as the kernel's does
      // (docs/scenarios.md, "Calls"); state() is no exception, but a peer has no descriptor.
      const bool peer = !c.args.empty() && !c.args[0].empty() && c.args[0].front() == '#';
      if (c.name == "state" && (c.result != -1 || c.error != "EBADF" || peer))
        fail(result, peer ? "state(#N) = NAME: a peer has no descriptor, so its state is a name, like "
                            "state(#1) = TIME-WAIT"
                          : "state() = NAME, or -1 EBADF for a descriptor that is not open: expected a "
                            "state name, like state(4) = ESTABLISHED");
    } else {
      if (c.name != "state")
        fail(result, "expected a number, or -1 and an errno name, like = 0 or = -1 EAGAIN");
      if (!rfc_state_name(result.text, false))
        fail(result, "unknown state: expected one of " + std::string(kStateNames) +
                         " (Linux's names like TCP_TIME_WAIT or SYN_RECV too)");
      c.result_is_word = true;
      c.error = result.text;
    }
    pos = skip_space(pos);
    // packetdrill allows a human text after the errno: "-1 EAGAIN (Resource temporarily unavailable)".
    if (pos < code_.size() && (code_[pos] != '(' || code_.back() != ')'))
      fail(static_cast<int>(pos) + 1, std::string(code_.substr(pos)), "unexpected text after the result");
    check_call_numbers(c, name, arg_columns);
    if (c.name == "getsockopt" && c.args.size() >= 4 && c.args[2] == "TCP_INFO")
      check_tcp_info(c.args[3], arg_columns[3]);
    if (c.name == "getsockopt" && c.args.size() >= 4 && c.args[2] == "SO_ERROR")
      check_so_error(c.args[3], arg_columns[3]);
  }

  // The arguments the runner reads as numbers or words: descriptors, byte counts, shutdown's
  // HOW and state()'s peer. A mistake in them is a script error found before anything runs,
  // not a failure when the line's turn comes (docs/scenarios.md, "Calls").
  void check_call_numbers(const CallSpec& c, const Token& name, const std::vector<int>& columns) const {
    static const std::set<std::string> takes_fd = {"bind",  "listen",     "accept",     "connect", "write",
                                                   "send",  "read",       "recv",       "close",   "shutdown",
                                                   "abort", "setsockopt", "getsockopt", "state",   "fcntl"};
    auto at = [&](size_t i) { return i < columns.size() ? columns[i] : name.column; };
    auto digits = [](std::string_view v, size_t max_digits) {
      return !v.empty() && v.size() <= max_digits &&
             v.find_first_not_of("0123456789") == std::string_view::npos;
    };
    if (takes_fd.count(c.name)) {
      if (c.args.empty() || c.args[0].empty()) fail(name, c.name + "() needs a file descriptor argument");
      const std::string& fd = c.args[0];
      if (c.name == "state" && fd.front() == '#') {
        std::string_view n = std::string_view(fd).substr(1);
        if (!digits(n, 2) || std::stoi(std::string(n)) < 1 || std::stoi(std::string(n)) > 16)
          fail(at(0), fd, "peers are numbered #1 to #16");
      } else if (!digits(fd, 9)) {
        fail(at(0), fd, c.name + "(): the descriptor must be a number, like 3");
      }
    }
    // tcplab's sockets are TCP over IPv4: any other type or protocol would silently get a
    // TCP socket, and the script would test something other than it says.
    if (c.name == "socket") {
      if (c.args.size() != 3)
        fail(name, "socket() takes three arguments: socket(..., SOCK_STREAM, IPPROTO_TCP)");
      if (c.args[0] != "..." && c.args[0] != "AF_INET")
        fail(at(0), c.args[0], "socket(): tcplab's stack is IPv4 only: the domain must be AF_INET (or ...)");
      // "SOCK_STREAM | SOCK_NONBLOCK": the type, and flags that change nothing here (tcplab's
      // sockets never block, and there is no exec).
      // Every part between the bars must be one of these: an empty one ("SOCK_STREAM|") or
      // SOCK_STREAM twice is a typo, not a type.
      bool stream = false, malformed = false;
      for (std::string_view rest = c.args[1];;) {
        const size_t bar = rest.find('|');
        const std::string_view part = trim(rest.substr(0, bar));
        if (part == "SOCK_STREAM" && !stream)
          stream = true;
        else if (part != "SOCK_NONBLOCK" && part != "SOCK_CLOEXEC")
          malformed = true;
        if (bar == std::string_view::npos) break;
        rest.remove_prefix(bar + 1);
      }
      if (!stream || malformed)
        fail(at(1), c.args[1],
             "socket(): tcplab's scenario player has TCP sockets only: the type must be SOCK_STREAM, "
             "once (SOCK_NONBLOCK and SOCK_CLOEXEC may be or'ed in with |)");
      if (c.args[2] != "IPPROTO_TCP" && c.args[2] != "0")
        fail(at(2), c.args[2], "socket(): the protocol must be IPPROTO_TCP or 0 (TCP sockets only)");
    }
    // A byte count the runner allocates: read(fd, ..., N) and write(fd, ..., N).
    auto check_count = [&](size_t i, const char* what) {
      if (c.args.size() <= i)
        fail(name, c.name + "() needs " + what + " as argument " + std::to_string(i + 1));
      const std::string& v = c.args[i];
      if (!digits(v, 9) || std::stoull(v) > kMaxCallCount)
        fail(at(i), v, c.name + "(): " + what + " must be a number from 0 to 67108864 (64 MiB)");
    };
    if (c.name == "write" || c.name == "send" || c.name == "read" || c.name == "recv")
      check_count(2, "a byte count");
    // listen()'s backlog counts connections, not bytes: the same range, its own words.
    if (c.name == "listen" && c.args.size() > 1 &&
        (!digits(c.args[1], 9) || std::stoull(c.args[1]) > kMaxCallCount))
      fail(at(1), c.args[1], backlog_range_text());
    // tcplab's sockets never block and keep no other flags: fcntl() can only confirm that,
    // and an ioctl() would be answered with numbers tcplab does not keep.
    if (c.name == "ioctl")
      fail(name, "ioctl() is not supported by tcplab's scenario player (use read() to see what is "
                 "readable)");
    if (c.name == "fcntl") {
      if (c.args.size() == 2 && c.args[1] == "F_GETFL") return;
      if (c.args.size() == 3 && c.args[1] == "F_SETFL") {
        if (c.args[2].find("O_NONBLOCK") == std::string::npos)
          fail(at(2), c.args[2], "fcntl(F_SETFL) without O_NONBLOCK: tcplab sockets never block");
        return;
      }
      fail(c.args.size() > 1 ? at(1) : name.column, c.args.size() > 1 ? c.args[1] : c.name,
           "fcntl() supports F_GETFL and F_SETFL with O_NONBLOCK, like "
           "fcntl(3, F_SETFL, O_RDWR|O_NONBLOCK)");
    }
    if (c.name == "shutdown") {
      if (c.args.size() < 2) fail(name, "shutdown() needs HOW: shutdown(4, SHUT_WR)");
      if (c.args[1] != "SHUT_WR" && c.args[1] != "SHUT_RDWR")
        fail(at(1), c.args[1],
             "shutdown() supports SHUT_WR (and SHUT_RDWR): our close() sends FIN and keeps receiving");
    }
  }

  // "{tcpi_state=TCP_ESTABLISHED, tcpi_rto=200000, ...}": every field NAME=VALUE, separated by
  // commas; the state a state name or Linux's number, the fields tcplab compares numbers.
  // Other fields are ignored when the call runs, so their values may be any expression.
  void check_tcp_info(const std::string& arg, int column) const {
    if (arg.size() < 2 || arg.front() != '{' || arg.back() != '}')
      fail(column, arg, "write the expected TCP_INFO fields in braces: {tcpi_state=TCP_ESTABLISHED, ...}");
    size_t start = 1;
    const size_t end = arg.size() - 1;
    while (start < end) {
      size_t comma = std::min(arg.find(',', start), end);
      std::string_view raw = std::string_view(arg).substr(start, comma - start);
      const size_t lead = std::min(raw.find_first_not_of(" \t"), raw.size());
      const int at = column + static_cast<int>(start + lead);
      start = comma + 1;
      std::string_view item = trim(raw);
      if (item.empty()) continue;
      auto eq = item.find('=');
      if (eq == std::string_view::npos)
        fail(at, std::string(item), "a TCP_INFO field needs =VALUE, like tcpi_rto=200000");
      std::string field(trim(item.substr(0, eq)));
      std::string_view value = trim(item.substr(eq + 1));
      const int value_at = at + static_cast<int>(eq) + 1;
      if (value.empty()) fail(at, std::string(item), "TCP_INFO field " + field + " has no value after '='");
      if (auto space = value.find_first_of(" \t"); space != std::string_view::npos &&
                                                     value.find('=', space) != std::string_view::npos)
        fail(value_at, std::string(value), "expected ',' between TCP_INFO fields");
      if (field == "tcpi_state") {
        if (!rfc_state_name(value, true))
          fail(value_at, std::string(value),
               "unknown tcpi_state: expected Linux's number (1 ESTABLISHED ... 11 CLOSING) or a state "
               "name like TCP_ESTABLISHED");
      } else if (std::find(std::begin(kTcpInfoNumbers), std::end(kTcpInfoNumbers), field) !=
                 std::end(kTcpInfoNumbers)) {
        if (value.find_first_not_of("0123456789") != std::string_view::npos)
          fail(value_at, std::string(value), "TCP_INFO field " + field + " expects a number");
        // Linux's struct tcp_info holds these fields as __u32: a larger value could never
        // match, and is surely a typo. Leading zeros do not count (010 is 10).
        std::string_view significant = value.substr(std::min(value.find_first_not_of('0'), value.size()));
        if (significant.size() > 10 || (significant.size() == 10 && significant > "4294967295"))
          fail(value_at, std::string(value),
               "TCP_INFO field " + field +
                   " is too large: tcp_info's fields are 32-bit (at most 4294967295)");
      }
    }
  }

  // "[0]" or "[ECONNREFUSED]": what SO_ERROR must hold.
  void check_so_error(const std::string& arg, int column) const {
    if (arg.size() < 2 || arg.front() != '[' || arg.back() != ']')
      fail(column, arg, "write the expected SO_ERROR in brackets: [0] or [ECONNREFUSED]");
    std::string_view value = trim(std::string_view(arg).substr(1, arg.size() - 2));
    if (value != "0" && !is_errno_name(value))
      fail(column, arg, "SO_ERROR is 0 or an errno name, like [0] or [ECONNREFUSED]");
  }

  const std::string& path_;
  int number_;
  std::string_view code_;
};

// Steps over a payload text "..." that starts at `i` (a quote): returns the index of its
// closing quote, or of the line's end when it has none (the line parser reports that).
size_t skip_quoted(std::string_view text, size_t i) {
  for (++i; i < text.size() && text[i] != '"' && text[i] != '\n'; ++i)
    if (text[i] == '\\' && i + 1 < text.size() && text[i + 1] != '\n') ++i;
  return std::min(i, text.size());
}

// Where "//" starts a comment on this line: not inside a payload text ("GET http://h/ ...").
size_t find_line_comment(std::string_view line) {
  for (size_t i = 0; i + 1 < line.size(); ++i) {
    if (line[i] == '"') i = skip_quoted(line, i);
    else if (line[i] == '/' && line[i + 1] == '/') return i;
  }
  return std::string_view::npos;
}

// Replaces /* ... */ comments by spaces, keeping newlines so line numbers stay right. A "/*"
// inside a payload text is text; after "//" the rest of the line is a comment already.
std::optional<int> strip_block_comments(std::string& text) {
  int line = 1;
  bool line_comment = false;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '\n') {
      ++line;
      line_comment = false;
      continue;
    }
    if (line_comment) continue;
    if (text[i] == '"') {
      i = skip_quoted(text, i);
      if (i < text.size() && text[i] == '\n') --i;  // an unclosed text ends with its line
      continue;
    }
    if (text[i] == '/' && i + 1 < text.size() && text[i + 1] == '/') line_comment = true;
    if (text[i] == '/' && i + 1 < text.size() && text[i + 1] == '*') {
      int start_line = line;
      size_t end = text.find("*/", i + 2);
      if (end == std::string::npos) return start_line;
      for (size_t j = i; j < end + 2; ++j) {
        if (text[j] == '\n')
          ++line;
        else
          text[j] = ' ';
      }
      i = end + 1;
    }
  }
  return std::nullopt;
}

constexpr std::string_view kUtf8Bom = "\xEF\xBB\xBF";

// A comment that looks like a directive but is not one ("// confg:", "// CONFIG:") would be
// skipped without a word, and the script would run without its setting. Returns the directive
// it resembles, or nullptr.
const char* near_miss_directive(std::string_view comment) {
  static constexpr const char* kDirectives[] = {"config", "expect-error", "PENDING"};
  size_t colon = comment.find(':');
  if (colon == std::string_view::npos || colon == 0 || colon > 16) return nullptr;
  std::string_view word = comment.substr(0, colon);
  while (!word.empty() && word.back() == ' ') word.remove_suffix(1);
  auto lower = [](std::string_view w) {
    std::string out;
    for (char c : w) out += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return out;
  };
  // Letters dropped, doubled, swapped or changed: at most one edit (or a transposition) away.
  auto close = [](const std::string& a, const std::string& b) {
    if (a == b) return true;
    size_t la = a.size(), lb = b.size();
    if (la + 1 < lb || lb + 1 < la) return false;
    std::vector<std::vector<size_t>> d(la + 1, std::vector<size_t>(lb + 1));
    for (size_t i = 0; i <= la; ++i) d[i][0] = i;
    for (size_t j = 0; j <= lb; ++j) d[0][j] = j;
    for (size_t i = 1; i <= la; ++i)
      for (size_t j = 1; j <= lb; ++j) {
        d[i][j] = std::min({d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] != b[j - 1])});
        if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1])
          d[i][j] = std::min(d[i][j], d[i - 2][j - 2] + 1);
      }
    return d[la][lb] <= 1;
  };
  for (const char* d : kDirectives) {
    if (comment.starts_with(std::string(d) + ":")) return nullptr;  // the directive itself
    if (close(lower(word), lower(d))) return d;
  }
  return nullptr;
}

std::string_view trim_view(std::string_view s) {
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.front()))) s.remove_prefix(1);
  while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.remove_suffix(1);
  return s;
}

// The line without a leading time ("+0 `sysctl ...`" or "0.1 %{ ... }%"), trimmed.
std::string_view after_time(std::string_view raw) {
  std::string_view s = trim_view(raw);
  size_t n = 0;
  while (n < s.size() && !std::isspace(static_cast<unsigned char>(s[n]))) ++n;
  std::string_view first = s.substr(0, n);
  bool is_time = !first.empty() && (first == "*" || first.find_first_not_of("+.0123456789~") == first.npos);
  return is_time ? trim_view(s.substr(n)) : s;
}

}  // namespace

std::optional<std::string> expect_error_text(std::string_view line) {
  constexpr std::string_view kMarker = "// expect-error:";
  auto at = line.find(kMarker);
  if (at == std::string_view::npos) return std::nullopt;
  auto text = trim_view(line.substr(at + kMarker.size()));
  if (text.empty()) return std::nullopt;
  return std::string(text);
}

std::string skipped_note(const Script& script) {
  auto plural = [](int n, const char* one, const char* many) {
    return std::to_string(n) + " " + (n == 1 ? one : many);
  };
  int shell = script.skipped_shell_lines, python = script.skipped_python_blocks;
  if (shell == 0 && python == 0) return "";
  std::string what;
  if (shell) what = plural(shell, "shell line", "shell lines");
  if (shell && python) what += " and ";
  if (python) what += plural(python, "python block", "python blocks");
  return "skipped " + what + ": tcplab does not run them";
}

std::optional<std::string> rfc_state_name(std::string_view written, bool linux_numbers) {
  using tcp::State;
  if (linux_numbers && !written.empty() &&
      written.find_first_not_of("0123456789") == std::string_view::npos) {
    // include/net/tcp_states.h: TCP_ESTABLISHED = 1 ... TCP_CLOSING = 11.
    static constexpr State kLinux[] = {State::Established, State::SynSent,  State::SynReceived,
                                       State::FinWait1,    State::FinWait2, State::TimeWait,
                                       State::Closed,      State::CloseWait, State::LastAck,
                                       State::Listen,      State::Closing};
    if (written.size() > 2) return std::nullopt;
    size_t n = std::stoul(std::string(written));
    if (n < 1 || n > std::size(kLinux)) return std::nullopt;
    return std::string(tcp::to_string(kLinux[n - 1]));
  }
  if (auto state = tcp::state_from_name(written)) return std::string(tcp::to_string(*state));
  return std::nullopt;
}

std::string ScriptError::format() const {
  std::string out = file + ":" + std::to_string(line);
  if (column > 0) out += ":" + std::to_string(column);
  out += ": script error: " + message;
  if (!token.empty()) out += " (at '" + quoted_token(token) + "')";
  // The token (and messages that quote it) come from the script, which may hold any byte: a
  // NUL would end the printed line there, an escape sequence would reach the terminal.
  return text::escape_unprintable(out);
}

std::string icmp_to_string(uint8_t type, uint8_t code) {
  for (const auto& n : kIcmpNames)
    if (n.type == type && n.code == code) return std::string(n.type_name) + " " + std::string(n.code_name);
  return "type_" + std::to_string(type) + " code_" + std::to_string(code);
}

std::string quote_text(std::string_view bytes, size_t limit) {
  std::string out = "\"";
  for (size_t i = 0; i < bytes.size() && i < limit; ++i) {
    auto c = static_cast<unsigned char>(bytes[i]);
    if (c == '\r') {
      out += "\\r";
    } else if (c == '\n') {
      out += "\\n";
    } else if (c == '\t') {
      out += "\\t";
    } else if (c == '\\' || c == '"') {
      out += '\\';
      out += static_cast<char>(c);
    } else if (c < 0x20 || c >= 0x7f) {
      char hex[8];
      std::snprintf(hex, sizeof hex, "\\x%02x", c);
      out += hex;
    } else {
      out += static_cast<char>(c);
    }
  }
  out += '"';
  if (bytes.size() > limit) out += "...";
  return out;
}

std::string flags_to_string(const wire::TcpFlags& f) {
  std::string s;
  if (f.fin) s += 'F';
  if (f.syn) s += 'S';
  if (f.rst) s += 'R';
  if (f.psh) s += 'P';
  if (f.ack) s += '.';
  if (f.urg) s += 'U';
  if (f.ece) s += 'E';
  if (f.cwr) s += 'W';
  return s;
}

ParseResult parse_script(const std::string& path, const std::string& original) {
  ParseResult result;
  Script script;
  script.path = path;
  auto slash = path.find_last_of('/');
  script.name = slash == std::string::npos ? path : path.substr(slash + 1);
  if (script.name.size() > 4 && script.name.ends_with(".pkt")) script.name.resize(script.name.size() - 4);

  std::string text = original;
  // Windows Notepad starts a UTF-8 file with a byte order mark (U+FEFF, EF BB BF). It is no
  // part of the script, and a terminal would show nothing where the parser stumbled on it.
  if (text.starts_with(kUtf8Bom)) text.erase(0, kUtf8Bom.size());
  if (auto open_line = strip_block_comments(text)) {
    result.error = ScriptError{path, *open_line, 0, "/*", "block comment is never closed"};
    return result;
  }
  bool seen_event = false;
  int number = 0;
  int python_open_line = 0;  // the line of a %{ whose }% has not come yet
  size_t begin = 0;
  try {
    while (begin <= text.size()) {
      size_t end = text.find('\n', begin);
      if (end == std::string::npos) end = text.size();
      std::string_view raw(text.data() + begin, end - begin);
      begin = end + 1;
      ++number;
      // A %{ python }% block may span lines and hold "//" (Python's floor division), so it is
      // looked for before comments are cut off.
      if (python_open_line) {
        if (raw.find("}%") != std::string_view::npos) python_open_line = 0;
        continue;
      }
      if (std::string_view body = after_time(raw); body.starts_with("%{")) {
        ++script.skipped_python_blocks;
        if (body.find("}%", 2) == std::string_view::npos) python_open_line = number;
        continue;
      } else if (body.starts_with("`")) {
        ++script.skipped_shell_lines;
        continue;
      }
      std::string_view code = raw;
      std::string_view comment;
      if (auto c = find_line_comment(raw); c != std::string_view::npos) {
        code = raw.substr(0, c);
        comment = trim_view(raw.substr(c + 2));
      }
      if (const char* near = near_miss_directive(comment))
        throw Fail{ScriptError{path, number, static_cast<int>(raw.find("//")) + 1,
                               std::string(comment.substr(0, comment.find(':') + 1)),
                               // "exactly as shown": PENDING is upper case, the others lower.
                               std::string("did you mean '// ") + near +
                                   ":'? Directives are written exactly as shown; write any other "
                                   "comment without the colon"}};
      if (comment.starts_with("config:")) {
        if (seen_event)
          throw Fail{ScriptError{path, number, 0, "", "'// config:' must come before the first event line"}};
        std::string_view rest = trim_view(comment.substr(7));
        while (!rest.empty()) {
          size_t n = 0;
          while (n < rest.size() && !std::isspace(static_cast<unsigned char>(rest[n]))) ++n;
          std::string_view item = rest.substr(0, n);
          rest = trim_view(rest.substr(n));
          auto eq = item.find('=');
          if (eq == std::string_view::npos || eq == 0 || eq + 1 == item.size())
            throw Fail{ScriptError{path, number, 0, std::string(item), "config entries are key=value"}};
          script.config.push_back(
              {number, std::string(item.substr(0, eq)), std::string(item.substr(eq + 1))});
        }
      } else if (comment.starts_with("expect-error:")) {
        // An empty text is found in every diagnosis: any failure would pass the self-test.
        script.expect_error = std::string(trim_view(comment.substr(13)));
        if (script.expect_error->empty())
          throw Fail{
              ScriptError{path, number, 0, "", "'// expect-error:' needs the text the failure must contain"}};
      } else if (comment.starts_with("PENDING:")) {
        script.pending = std::string(trim_view(comment.substr(8)));
      }
      if (trim_view(code).empty()) continue;
      if (trim_view(code).starts_with("--")) {
        // The whole flag is the token: format() cuts a long one at 60 bytes, with "...", as
        // every quoted token is cut (docs/scenarios.md, "Reading a failure").
        const size_t at = code.find_first_not_of(" \t\r\f\v");
        const size_t end = std::min(code.find_first_of(" \t\r\f\v", at), code.size());
        throw Fail{ScriptError{path, number, static_cast<int>(at) + 1, std::string(code.substr(at, end - at)),
                               "packetdrill command-line flags are not supported; use '// config:' "
                               "for settings"}};
      }
      seen_event = true;
      script.lines.push_back(LineParser(path, number, code).parse());
    }
  } catch (const Fail& f) {
    result.error = f.error;
    return result;
  }
  if (python_open_line) {
    result.error = ScriptError{path, python_open_line, 0, "%{", "python block is never closed with }%"};
    return result;
  }
  if (script.lines.empty()) {
    result.error = ScriptError{path, number, 0, "", "the script has no event lines"};
    return result;
  }
  result.script = std::move(script);
  return result;
}

}  // namespace tcplab::scenario
