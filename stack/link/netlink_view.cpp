// rtnetlink dumps read by hand over an AF_NETLINK socket (rtnetlink(7), netlink(7)): one
// request with NLM_F_DUMP, then multipart replies until NLMSG_DONE. Every header and
// attribute is copied out with memcpy, so a short or odd message is refused, never misread.
#include "stack/link/netlink_view.hpp"

#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <functional>
#include <vector>

namespace tcplab::link {
namespace {

// The payload of one netlink message (after its nlmsghdr), or of one attribute.
struct Bytes {
  const uint8_t* data = nullptr;
  size_t size = 0;
};

// Reads a fixed-size struct from the start of `bytes`; false if it is too short.
template <class T>
bool read_struct(Bytes bytes, T& out) {
  if (bytes.size < sizeof(T)) return false;
  std::memcpy(&out, bytes.data, sizeof(T));
  return true;
}

// Calls `each(type, payload)` for every rtattr in `bytes` (RTA_ALIGN steps of 4 bytes).
void for_each_attribute(Bytes bytes, const std::function<void(unsigned short, Bytes)>& each) {
  size_t offset = 0;
  while (offset + sizeof(rtattr) <= bytes.size) {
    rtattr attr;
    std::memcpy(&attr, bytes.data + offset, sizeof attr);
    if (attr.rta_len < sizeof(rtattr) || offset + attr.rta_len > bytes.size) return;  // malformed: stop
    each(attr.rta_type, Bytes{bytes.data + offset + RTA_LENGTH(0), attr.rta_len - RTA_LENGTH(0)});
    offset += RTA_ALIGN(attr.rta_len);
  }
}

std::optional<wire::Ipv4Address> ipv4_attribute(Bytes payload) {
  if (payload.size != 4) return std::nullopt;
  return wire::Ipv4Address{static_cast<uint32_t>(payload.data[0]) << 24 |
                           static_cast<uint32_t>(payload.data[1]) << 16 |
                           static_cast<uint32_t>(payload.data[2]) << 8 | payload.data[3]};
}

std::optional<uint32_t> u32_attribute(Bytes payload) {
  uint32_t value = 0;
  if (payload.size != sizeof value) return std::nullopt;
  std::memcpy(&value, payload.data, sizeof value);  // host byte order, as the kernel sends it
  return value;
}

std::string interface_name(uint32_t index) {
  char name[IF_NAMESIZE] = {};
  if (index != 0 && if_indextoname(index, name) != nullptr) return name;
  return "if" + std::to_string(index);
}

std::string route_type_name(unsigned char type) {
  switch (type) {
    case RTN_UNICAST:
      return "unicast";
    case RTN_LOCAL:
      return "local";
    case RTN_BROADCAST:
      return "broadcast";
    case RTN_ANYCAST:
      return "anycast";
    case RTN_MULTICAST:
      return "multicast";
    case RTN_BLACKHOLE:
      return "blackhole";
    case RTN_UNREACHABLE:
      return "unreachable";
    case RTN_PROHIBIT:
      return "prohibit";
    case RTN_THROW:
      return "throw";
    case RTN_NAT:
      return "nat";
    default:
      return "type " + std::to_string(type);
  }
}

class NetlinkSocket {
 public:
  NetlinkSocket() : fd_(socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE)) {
    if (fd_ < 0) return;
    // The kernel answers a dump at once; the limit only guards against a wedged socket.
    timeval limit{2, 0};
    setsockopt(fd_, SOL_SOCKET, SO_RCVTIMEO, &limit, sizeof limit);
  }
  ~NetlinkSocket() {
    if (fd_ >= 0) ::close(fd_);
  }
  NetlinkSocket(const NetlinkSocket&) = delete;
  NetlinkSocket& operator=(const NetlinkSocket&) = delete;
  bool ok() const { return fd_ >= 0; }

  enum class Outcome { Done, Interrupted, Failed };

  // Sends one dump request (`header` is the family-specific struct after the nlmsghdr) and
  // hands every reply message's payload to `each`. Interrupted: the tables changed during the
  // dump (NLM_F_DUMP_INTR), so the caller should ask again.
  template <class Header>
  Outcome dump(uint16_t type, const Header& header, const std::function<void(Bytes)>& each,
               std::string& error) {
    const uint32_t seq = ++seq_;
    std::vector<uint8_t> request(NLMSG_LENGTH(sizeof(Header)), 0);
    nlmsghdr h{};
    h.nlmsg_len = static_cast<uint32_t>(request.size());
    h.nlmsg_type = type;
    h.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
    h.nlmsg_seq = seq;
    std::memcpy(request.data(), &h, sizeof h);
    std::memcpy(request.data() + NLMSG_LENGTH(0), &header, sizeof header);
    sockaddr_nl kernel{};
    kernel.nl_family = AF_NETLINK;
    if (sendto(fd_, request.data(), request.size(), 0, reinterpret_cast<const sockaddr*>(&kernel),
               sizeof kernel) < 0) {
      error = std::string("cannot send a netlink request: ") + std::strerror(errno);
      return Outcome::Failed;
    }
    bool interrupted = false;
    std::vector<uint8_t> buffer(64 * 1024);
    for (;;) {
      iovec io{buffer.data(), buffer.size()};
      sockaddr_nl from{};
      msghdr msg{};
      msg.msg_name = &from;
      msg.msg_namelen = sizeof from;
      msg.msg_iov = &io;
      msg.msg_iovlen = 1;
      ssize_t n = recvmsg(fd_, &msg, 0);
      if (n < 0) {
        if (errno == EINTR) continue;
        error = std::string("cannot read the netlink reply: ") + std::strerror(errno);
        return Outcome::Failed;
      }
      if (msg.msg_flags & MSG_TRUNC) {
        error = "a netlink reply did not fit the buffer";
        return Outcome::Failed;
      }
      if (from.nl_pid != 0) continue;  // only the kernel answers dumps
      size_t offset = 0;
      const size_t total = static_cast<size_t>(n);
      while (offset + sizeof(nlmsghdr) <= total) {
        nlmsghdr reply;
        std::memcpy(&reply, buffer.data() + offset, sizeof reply);
        if (reply.nlmsg_len < sizeof(nlmsghdr) || offset + reply.nlmsg_len > total) {
          error = "a malformed netlink reply";
          return Outcome::Failed;
        }
        Bytes payload{buffer.data() + offset + NLMSG_LENGTH(0), reply.nlmsg_len - NLMSG_LENGTH(0)};
        offset += NLMSG_ALIGN(reply.nlmsg_len);
        if (reply.nlmsg_seq != seq) continue;  // a late answer to an earlier request
        if (reply.nlmsg_flags & NLM_F_DUMP_INTR) interrupted = true;
        if (reply.nlmsg_type == NLMSG_DONE) return interrupted ? Outcome::Interrupted : Outcome::Done;
        if (reply.nlmsg_type == NLMSG_ERROR) {
          nlmsgerr err{};
          if (read_struct(payload, err) && err.error == 0) continue;  // an acknowledgement
          error = std::string("the kernel refused a netlink dump: ") + std::strerror(-err.error);
          return Outcome::Failed;
        }
        each(payload);
      }
    }
  }

 private:
  int fd_;
  uint32_t seq_ = 0;
};

}  // namespace

void add_address_message(std::span<const uint8_t> bytes, ip::NetworkView& view,
                         const InterfaceNamer& name_of) {
  const Bytes payload{bytes.data(), bytes.size()};
  ifaddrmsg ifa{};
  if (!read_struct(payload, ifa) || ifa.ifa_family != AF_INET) return;
  std::optional<wire::Ipv4Address> local, address;
  for_each_attribute(Bytes{payload.data + NLMSG_ALIGN(sizeof ifa), payload.size - NLMSG_ALIGN(sizeof ifa)},
                     [&](unsigned short type, Bytes value) {
                       if (type == IFA_LOCAL) local = ipv4_attribute(value);
                       if (type == IFA_ADDRESS) address = ipv4_attribute(value);
                     });
  const std::string name = name_of(ifa.ifa_index);
  if (local && address && *local != *address) {
    // Point-to-point: IFA_LOCAL is ours alone, the prefix belongs to the peer (IFA_ADDRESS).
    view.addresses.push_back({name, ip::Ipv4Cidr{*local, 32}});
    view.addresses.push_back({name, ip::Ipv4Cidr{*address, ifa.ifa_prefixlen}});
  } else if (auto a = local ? local : address) {
    view.addresses.push_back({name, ip::Ipv4Cidr{*a, ifa.ifa_prefixlen}});
  }
}

void add_route_message(std::span<const uint8_t> bytes, ip::NetworkView& view, const InterfaceNamer& name_of) {
  const Bytes payload{bytes.data(), bytes.size()};
  rtmsg rtm{};
  if (!read_struct(payload, rtm) || rtm.rtm_family != AF_INET) return;
  ip::Route route;
  route.destination = ip::Ipv4Cidr{wire::Ipv4Address{0}, rtm.rtm_dst_len};
  route.table = rtm.rtm_table;  // RTA_TABLE below carries tables above 255
  route.type = route_type_name(rtm.rtm_type);
  struct Hop {
    uint32_t index = 0;
    std::optional<wire::Ipv4Address> gateway;
  };
  Hop single;
  std::vector<Hop> hops;
  for_each_attribute(Bytes{payload.data + NLMSG_ALIGN(sizeof rtm), payload.size - NLMSG_ALIGN(sizeof rtm)},
                     [&](unsigned short type, Bytes value) {
                       if (type == RTA_DST) {
                         if (auto a = ipv4_attribute(value)) route.destination.address = *a;
                       } else if (type == RTA_GATEWAY) {
                         single.gateway = ipv4_attribute(value);
                       } else if (type == RTA_OIF) {
                         single.index = u32_attribute(value).value_or(0);
                       } else if (type == RTA_TABLE) {
                         route.table = u32_attribute(value).value_or(route.table);
                       } else if (type == RTA_MULTIPATH) {
                         // A list of rtnexthop, each followed by its own attributes.
                         size_t offset = 0;
                         while (offset + sizeof(rtnexthop) <= value.size) {
                           rtnexthop nh;
                           std::memcpy(&nh, value.data + offset, sizeof nh);
                           if (nh.rtnh_len < sizeof nh || offset + nh.rtnh_len > value.size) break;
                           Hop hop;
                           hop.index = static_cast<uint32_t>(nh.rtnh_ifindex);
                           for_each_attribute(
                               Bytes{value.data + offset + RTNH_LENGTH(0), nh.rtnh_len - RTNH_LENGTH(0)},
                               [&](unsigned short t, Bytes v) {
                                 if (t == RTA_GATEWAY) hop.gateway = ipv4_attribute(v);
                               });
                           hops.push_back(hop);
                           offset += RTNH_ALIGN(nh.rtnh_len);
                         }
                       }
                     });
  if (hops.empty()) hops.push_back(single);
  for (const Hop& hop : hops) {
    ip::Route r = route;
    r.interface = hop.index != 0 ? name_of(hop.index) : std::string();
    r.gateway = hop.gateway;
    view.routes.push_back(std::move(r));
  }
}

void add_link_message(std::span<const uint8_t> bytes, ip::NetworkView& view) {
  const Bytes payload{bytes.data(), bytes.size()};
  ifinfomsg ifi{};
  if (!read_struct(payload, ifi) || ifi.ifi_type != ARPHRD_NONE) return;
  // Both strings come NUL-terminated; the kernel's "tun" link ops name the kind.
  auto text = [](Bytes value) {
    std::string s(reinterpret_cast<const char*>(value.data), value.size);
    return s.substr(0, s.find('\0'));
  };
  std::string name, kind;
  for_each_attribute(Bytes{payload.data + NLMSG_ALIGN(sizeof ifi), payload.size - NLMSG_ALIGN(sizeof ifi)},
                     [&](unsigned short type, Bytes value) {
                       if (type == IFLA_IFNAME) name = text(value);
                       if (type == IFLA_LINKINFO) {
                         for_each_attribute(value, [&](unsigned short t, Bytes v) {
                           if (t == IFLA_INFO_KIND) kind = text(v);
                         });
                       }
                     });
  if (kind == "tun" && !name.empty()) view.tun_interfaces.push_back(name);
}

std::optional<uint64_t> link_tx_dropped(std::span<const uint8_t> bytes, int index) {
  const Bytes payload{bytes.data(), bytes.size()};
  ifinfomsg ifi{};
  if (!read_struct(payload, ifi) || ifi.ifi_index != index) return std::nullopt;
  std::optional<uint64_t> dropped;
  for_each_attribute(Bytes{payload.data + NLMSG_ALIGN(sizeof ifi), payload.size - NLMSG_ALIGN(sizeof ifi)},
                     [&](unsigned short type, Bytes value) {
                       // The struct has grown over the years; tx_dropped is in every version.
                       constexpr size_t kAt = offsetof(rtnl_link_stats64, tx_dropped);
                       uint64_t n = 0;
                       if (type != IFLA_STATS64 || value.size < kAt + sizeof n) return;
                       std::memcpy(&n, value.data + kAt, sizeof n);
                       dropped = n;
                     });
  return dropped;
}

std::optional<uint64_t> read_tx_dropped(const std::string& interface) {
  // By index in this process's namespace: /sys/class/net shows the namespace that mounted
  // sysfs, which after a plain `unshare --net` is another one, maybe with a tcplab0 of its own.
  const int index = static_cast<int>(if_nametoindex(interface.c_str()));
  NetlinkSocket socket;
  if (index == 0 || !socket.ok()) return std::nullopt;
  std::optional<uint64_t> dropped;
  std::string error;
  ifinfomsg links{};
  links.ifi_family = AF_UNSPEC;
  auto outcome = socket.dump(
      RTM_GETLINK, links,
      [&](Bytes p) {
        if (auto n = link_tx_dropped({p.data, p.size}, index)) dropped = n;
      },
      error);
  if (outcome == NetlinkSocket::Outcome::Failed) return std::nullopt;
  return dropped;
}

std::optional<ip::NetworkView> read_network_view(std::string& error) {
  NetlinkSocket socket;
  if (!socket.ok()) {
    error = std::string("cannot open a netlink socket to read the routing tables: ") + std::strerror(errno);
    return std::nullopt;
  }
  // A table that changes during a dump is flagged; ask again a few times, then give up.
  for (int attempt = 0; attempt < 5; ++attempt) {
    ip::NetworkView view;
    ifaddrmsg addresses{};
    addresses.ifa_family = AF_INET;
    auto a = socket.dump(
        RTM_GETADDR, addresses,
        [&](Bytes p) {
          add_address_message({p.data, p.size}, view, interface_name);
        },
        error);
    if (a == NetlinkSocket::Outcome::Failed) return std::nullopt;
    // RT_TABLE_UNSPEC in a dump request means every table, not only main.
    rtmsg routes{};
    routes.rtm_family = AF_INET;
    routes.rtm_table = RT_TABLE_UNSPEC;
    auto r = socket.dump(
        RTM_GETROUTE, routes,
        [&](Bytes p) {
          add_route_message({p.data, p.size}, view, interface_name);
        },
        error);
    if (r == NetlinkSocket::Outcome::Failed) return std::nullopt;
    ifinfomsg links{};
    links.ifi_family = AF_UNSPEC;
    auto l = socket.dump(
        RTM_GETLINK, links,
        [&](Bytes p) {
          add_link_message({p.data, p.size}, view);
        },
        error);
    if (l == NetlinkSocket::Outcome::Failed) return std::nullopt;
    if (a == NetlinkSocket::Outcome::Done && r == NetlinkSocket::Outcome::Done &&
        l == NetlinkSocket::Outcome::Done)
      return view;
  }
  error = "the addresses and routes kept changing while being read; try again";
  return std::nullopt;
}

}  // namespace tcplab::link
