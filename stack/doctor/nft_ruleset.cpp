// The nft ruleset walk (see nft_ruleset.hpp). Each match of a rule is judged against the lab's
// packets of one direction as All (every one matches), None (none does) or Some (some may, or
// doctor does not know the expression); a rule matches as the weakest of its matches.
#include "stack/doctor/nft_ruleset.hpp"

#include <algorithm>
#include <string_view>

#include "stack/doctor/text_lines.hpp"
#include "stack/ip/cidr.hpp"

namespace tcplab::doctor {

namespace {

enum class Hit { None, Some, All };

Hit both(Hit a, Hit b) { return std::min(a, b); }
Hit negated(Hit h) { return h == Hit::All ? Hit::None : h == Hit::None ? Hit::All : Hit::Some; }

// The kernel's client ports, from which curl connects to the stack: Linux's default
// net.ipv4.ip_local_port_range (Documentation/networking/ip-sysctl.rst).
constexpr uint16_t kEphemeralFirst = 32768, kEphemeralLast = 60999;
// How deep doctor follows `jump` and `goto`; nft itself refuses loops.
constexpr int kMaxJumpDepth = 8;

struct Chain {
  std::string name;
  std::optional<Direction> hook;  // nothing: a regular chain, reached only by jump or goto
  std::string policy_line;        // "type filter hook input priority 0; policy drop;" if it drops
  std::vector<std::string> rules;
};

struct Table {
  std::string name;  // "inet filter"
  std::vector<Chain> chains;
};

// "table inet filter {" -> "inet filter".
std::string declared(std::string_view line, std::string_view keyword) {
  line.remove_prefix(keyword.size());
  if (auto brace = line.find('{'); brace != std::string_view::npos) line = line.substr(0, brace);
  return std::string(trim(line));
}

// The tables of the IPv4 families (ip, inet) with their chains and rules, as `nft list ruleset`
// prints them: one statement per line, a block per table, chain, set, map or flowtable.
std::vector<Table> parse_ruleset(const std::string& text) {
  std::vector<Table> tables;
  bool ipv4_table = false, in_chain = false;
  int depth = 0;  // braces open; a chain's rules are at depth 2
  for (std::string_view raw : lines(text)) {
    std::string_view line = trim(raw);
    if (auto comment = line.find(" # "); comment != std::string_view::npos)
      line = trim(line.substr(0, comment));
    const int opened = static_cast<int>(std::count(line.begin(), line.end(), '{'));
    const int closed = static_cast<int>(std::count(line.begin(), line.end(), '}'));
    if (depth == 0 && line.starts_with("table ")) {
      std::string name = declared(line, "table ");
      ipv4_table = name.starts_with("ip ") || name.starts_with("inet ");
      if (ipv4_table) tables.push_back({name, {}});
    } else if (depth == 1 && line.starts_with("chain ") && ipv4_table) {
      tables.back().chains.push_back({declared(line, "chain "), std::nullopt, "", {}});
      in_chain = true;
    } else if (depth == 2 && in_chain && !line.empty() && line != "}") {
      Chain& chain = tables.back().chains.back();
      if (line.starts_with("type ")) {
        const bool from_stack = line.find("hook input") != std::string_view::npos ||
                                line.find("hook prerouting") != std::string_view::npos;
        const bool to_stack = line.find("hook output") != std::string_view::npos ||
                              line.find("hook postrouting") != std::string_view::npos;
        if (from_stack) chain.hook = Direction::FromStack;
        if (to_stack) chain.hook = Direction::ToStack;
        if (line.find("policy drop") != std::string_view::npos) chain.policy_line = std::string(line);
      } else if (!line.starts_with("comment ") && !line.starts_with("policy ")) {
        chain.rules.emplace_back(line);
      } else if (line.find("policy drop") != std::string_view::npos) {
        chain.policy_line = std::string(line);
      }
    }
    depth += opened - closed;
    if (depth < 0) depth = 0;
    if (depth <= 1) in_chain = false;
  }
  return tables;
}

// A rule's words, a quoted string or a `{ ... }` set each as one.
std::vector<std::string> words_of(std::string_view rule) {
  std::vector<std::string> words;
  size_t i = 0;
  while (i < rule.size()) {
    if (rule[i] == ' ' || rule[i] == '\t') {
      ++i;
      continue;
    }
    size_t end = i;
    if (rule[i] == '"') {
      end = rule.find('"', i + 1);
      end = end == std::string_view::npos ? rule.size() : end + 1;
    } else if (rule[i] == '{') {
      end = rule.find('}', i);
      end = end == std::string_view::npos ? rule.size() : end + 1;
    } else {
      while (end < rule.size() && rule[end] != ' ' && rule[end] != '\t') ++end;
    }
    words.emplace_back(rule.substr(i, end - i));
    i = end;
  }
  return words;
}

// The elements of a value: `{ "a", b }` -> a, b; `"a"` -> a.
std::vector<std::string> elements_of(const std::string& value) {
  std::string_view v = value;
  if (!v.empty() && v.front() == '{') v = v.substr(1, v.size() >= 2 ? v.size() - 2 : 0);
  std::vector<std::string> out;
  while (!v.empty()) {
    size_t comma = v.find(',');
    std::string_view item = trim(v.substr(0, comma));
    if (item.size() >= 2 && item.front() == '"' && item.back() == '"') item = item.substr(1, item.size() - 2);
    if (!item.empty()) out.emplace_back(item);
    if (comma == std::string_view::npos) break;
    v.remove_prefix(comma + 1);
  }
  return out;
}

// An interface name pattern: nft matches a trailing `*` as any suffix (nft(8), "META EXPRESSION").
bool name_matches(const std::string& pattern, const std::string& name) {
  if (!pattern.empty() && pattern.back() == '*' &&
      (pattern.size() < 2 || pattern[pattern.size() - 2] != '\\'))
    return name.starts_with(std::string_view(pattern).substr(0, pattern.size() - 1));
  return pattern == name;
}

Hit any_element(const std::vector<std::string>& items, auto&& matches) {
  for (const auto& item : items)
    if (matches(item)) return Hit::All;
  return Hit::None;
}

// An address element: 192.0.2.2, 192.0.2.0/24, or a range 192.0.2.1-192.0.2.9.
bool address_matches(const std::string& item, wire::Ipv4Address address) {
  if (auto dash = item.find('-'); dash != std::string::npos) {
    auto first = wire::Ipv4Address::parse(item.substr(0, dash));
    auto last = wire::Ipv4Address::parse(item.substr(dash + 1));
    return first && last && first->value <= address.value && address.value <= last->value;
  }
  if (auto cidr = ip::Ipv4Cidr::parse(item)) return cidr->contains(address);
  auto single = wire::Ipv4Address::parse(item);
  return single && *single == address;
}

// How many of the ports [first, last] a port element covers: All, Some or None of them.
Hit port_hit(const std::vector<std::string>& items, uint16_t first, uint16_t last) {
  uint32_t covered = 0;
  const uint32_t total = uint32_t{last} - first + 1;
  for (const auto& item : items) {
    auto dash = item.find('-');
    const std::string low_text = item.substr(0, dash);
    const std::string high_text = dash == std::string::npos ? low_text : item.substr(dash + 1);
    auto is_port = [](const std::string& t) {
      return !t.empty() && t.size() <= 5 && t.find_first_not_of("0123456789") == std::string::npos;
    };
    if (!is_port(low_text) || !is_port(high_text))
      return Hit::Some;  // a service name ("http") or something else doctor does not read
    const uint32_t low = std::max<uint32_t>(std::stoul(low_text), first);
    const uint32_t high = std::min<uint32_t>(std::stoul(high_text), last);
    if (low <= high) covered += high - low + 1;
  }
  return covered == 0 ? Hit::None : covered >= total ? Hit::All : Hit::Some;
}

// The ports on one side of the lab's connections: the served ones (each a range of one) or the
// kernel's client ports.
Hit ports_hit(const std::vector<std::string>& items, const std::vector<uint16_t>& served, bool served_side) {
  if (!served_side) return port_hit(items, kEphemeralFirst, kEphemeralLast);
  size_t all = 0, none = 0;
  for (uint16_t port : served) {
    Hit h = port_hit(items, port, port);
    all += h == Hit::All;
    none += h == Hit::None;
  }
  return all == served.size() ? Hit::All : none == served.size() ? Hit::None : Hit::Some;
}

struct Rule {
  Hit hit = Hit::All;
  std::string verdict;  // accept, drop, reject, jump, goto, return, or empty
  std::string target;   // the chain of a jump or goto
};

// Judges one rule's matches against the lab's packets of `direction`.
Rule judge(const std::string& text, const LabTraffic& lab, Direction direction) {
  const bool from_stack = direction == Direction::FromStack;
  const std::vector<std::string> w = words_of(text);
  Rule rule;
  auto value_at = [&](size_t& i) -> std::pair<bool, std::string> {  // [negated, value]
    bool negate = false;
    if (i < w.size() && (w[i] == "!=" || w[i] == "==")) negate = w[i++] == "!=";
    return {negate, i < w.size() ? w[i++] : std::string()};
  };
  auto add = [&](Hit h, bool negate) { rule.hit = both(rule.hit, negate ? negated(h) : h); };
  size_t i = 0;
  while (i < w.size()) {
    const std::string& word = w[i];
    if (word == "accept" || word == "drop" || word == "reject" || word == "return" || word == "jump" ||
        word == "goto" || word == "queue" || word == "continue") {
      rule.verdict = word;
      if ((word == "jump" || word == "goto") && i + 1 < w.size()) rule.target = w[i + 1];
      return rule;
    }
    ++i;
    if (word == "meta" && i < w.size()) continue;  // `meta iifname`, `meta l4proto`: the key follows
    if (word == "iifname" || word == "oifname" || word == "iif" || word == "oif") {
      // From the stack the packet arrives on the TUN and has no output interface yet; to the
      // stack it leaves through the TUN and came from no interface.
      const bool input_side = word[0] == 'i';
      auto [negate, value] = value_at(i);
      if (!value.empty() && value[0] == '@') {
        add(Hit::Some, false);
        continue;
      }
      const Hit h = input_side == from_stack
                        ? any_element(elements_of(value),
                                      [&](const std::string& p) { return name_matches(p, lab.tun); })
                        : Hit::None;
      add(h, negate);
    } else if (word == "ip" && i < w.size() && (w[i] == "saddr" || w[i] == "daddr")) {
      const bool source = w[i++] == "saddr";
      auto [negate, value] = value_at(i);
      const std::optional<wire::Ipv4Address> address =
          source == from_stack ? std::optional(lab.stack) : lab.host;
      if (!address || value.empty() || value[0] == '@') {
        add(Hit::Some, false);
        continue;
      }
      add(any_element(elements_of(value), [&](const std::string& e) { return address_matches(e, *address); }),
          negate);
    } else if ((word == "ip" && i < w.size() && w[i] == "protocol") || word == "l4proto") {
      if (word == "ip") ++i;
      auto [negate, value] = value_at(i);
      add(any_element(elements_of(value), [](const std::string& p) { return p == "tcp" || p == "6"; }),
          negate);
    } else if (word == "nfproto") {
      auto [negate, value] = value_at(i);
      add(any_element(elements_of(value), [](const std::string& p) { return p == "ipv4"; }), negate);
    } else if ((word == "tcp" || word == "th") && i < w.size() && (w[i] == "sport" || w[i] == "dport")) {
      // From the stack, its source port is the served one; to it, the destination port.
      const bool source = w[i++] == "sport";
      auto [negate, value] = value_at(i);
      if (value.empty() || value[0] == '@') {
        add(Hit::Some, false);
        continue;
      }
      add(ports_hit(elements_of(value), lab.served_ports, source == from_stack), negate);
    } else if (word == "udp" || word == "icmp" || word == "sctp" || word == "ip6") {
      add(Hit::None, false);  // the lab's traffic is TCP over IPv4
      while (i < w.size() && w[i] != "accept" && w[i] != "drop" && w[i] != "reject") ++i;
    } else if (word == "ct" && i < w.size() && w[i] == "state") {
      // The lab's connections start from either side (curl to the stack, `tcplab get` from it),
      // so in both directions some packets are new and the rest established.
      ++i;
      auto [negate, value] = value_at(i);
      const auto states = elements_of(value);
      const bool has_new = std::find(states.begin(), states.end(), "new") != states.end();
      const bool has_established = std::find(states.begin(), states.end(), "established") != states.end();
      add(has_new && has_established ? Hit::All : has_new || has_established ? Hit::Some : Hit::None, negate);
    } else if (word == "counter") {
      if (i + 3 < w.size() && w[i] == "packets" && w[i + 2] == "bytes") i += 4;
    } else if (word == "log") {
      while (i + 1 < w.size() && (w[i] == "prefix" || w[i] == "level" || w[i] == "flags" || w[i] == "group"))
        i += 2;
    } else if (word == "comment") {
      ++i;
    } else {
      // An expression doctor does not read (a mark, tcp flags, a rate limit): it may or may not
      // match; skip to the verdict.
      add(Hit::Some, false);
      while (i < w.size() && w[i] != "accept" && w[i] != "drop" && w[i] != "reject" && w[i] != "jump" &&
             w[i] != "goto" && w[i] != "return")
        ++i;
    }
  }
  return rule;
}

enum class Outcome { Accepted, Dropped, Continues };

struct Walk {
  const LabTraffic& lab;
  const Table& table;
  const Chain& base;
  Direction direction;
  NftVerdicts& out;

  NftDrop drop(const std::string& what) const { return {what, table.name, base.name, direction}; }

  // The kernel's order: the first rule whose matches all hold decides; `jump` comes back here
  // unless the other chain decides, `goto` does not (nft(8), "VERDICT STATEMENT"). `certain`
  // is false once a rule that only might match led here.
  Outcome walk(const Chain& chain, bool certain, int depth) {
    for (const std::string& text : chain.rules) {
      const Rule rule = judge(text, lab, direction);
      if (rule.hit == Hit::None) continue;
      const bool sure = certain && rule.hit == Hit::All;
      if (rule.verdict == "accept" && sure) return Outcome::Accepted;
      if (rule.verdict == "drop" || rule.verdict == "reject") {
        (sure ? out.drops : out.maybe_drops).push_back(drop("nft rule `" + text + "`"));
        if (sure) return Outcome::Dropped;
      }
      if (rule.verdict == "return" && sure) return Outcome::Continues;
      if ((rule.verdict == "jump" || rule.verdict == "goto") && depth < kMaxJumpDepth) {
        auto target = std::find_if(table.chains.begin(), table.chains.end(),
                                   [&](const Chain& c) { return c.name == rule.target; });
        if (target == table.chains.end()) continue;
        const Outcome o = walk(*target, sure, depth + 1);
        if (sure && (o != Outcome::Continues || rule.verdict == "goto")) return o;
      }
    }
    return Outcome::Continues;
  }
};

}  // namespace

NftVerdicts walk_nft_ruleset(const std::string& ruleset, const LabTraffic& lab) {
  NftVerdicts out;
  for (const Table& table : parse_ruleset(ruleset)) {
    for (const Chain& chain : table.chains) {
      if (!chain.hook) continue;
      Walk walk{lab, table, chain, *chain.hook, out};
      // Packets no rule decided get the chain's policy.
      if (walk.walk(chain, true, 0) == Outcome::Continues && !chain.policy_line.empty())
        out.drops.push_back(
            walk.drop("nft chain with `" + chain.policy_line + "` and no accept rule for " + lab.tun));
    }
  }
  return out;
}

}  // namespace tcplab::doctor
