// The Linux TUN device the stack talks through: create (or attach to a persistent one),
// configure the kernel's side (MTU, address, up) with ioctls; its fd carries raw IPv4 packets.
#pragma once
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "stack/ip/cidr.hpp"
#include "stack/wire/ipv4.hpp"

namespace tcplab::link {

// The queue (txqueuelen) a TUN that tcplab creates gets towards tcplab, instead of the
// kernel's 500: in a namespace, downloads of 5 and 50 MiB lost 200-1,950 client ACKs at 500 and
// none at 1000 or 4096; 4096 leaves room for many clients at once. A ring of pointers.
constexpr int kTunTxQueueLength = 4096;

struct TunConfig {
  std::string name = "tcplab0";
  uint16_t mtu = 1500;
  // The kernel's address on the link; nullopt (--host-ip none) leaves addresses to an admin.
  std::optional<ip::Ipv4Cidr> host = ip::Ipv4Cidr{wire::Ipv4Address{0xC0000201}, 24};
  // Offloads (--offload): every packet both ways carries a virtio-net header (IFF_VNET_HDR),
  // our writes may be GSO super-packets, and the kernel may hand us TSO super-packets with a
  // partial checksum (TUNSETOFFLOAD TUN_F_CSUM | TUN_F_TSO4). See docs/architecture.md.
  bool offload = false;
};

// Checks a name the kernel would accept for an interface (dev_valid_name): 1..15 bytes, no '/',
// ':' or whitespace, not "." or ".."; and no '%', which TUNSETIFF would take as a pattern.
// Returns an error text or nothing.
std::optional<std::string> check_interface_name(const std::string& name);

// Whether /proc/misc lists the TUN driver (loaded), so a missing node is the node's fault.
bool tun_driver_loaded();

// The interface that already carries `address` (by getifaddrs), if any.
std::optional<std::string> interface_with_address(wire::Ipv4Address address);

// The user running tcplab, as an admin's `ip tuntap add ... user NAME` names them (the uid
// when the name is unknown). Written out in advice, since in the admin's sudo shell $USER is
// the admin.
std::string current_user_name();

class Tun {
 public:
  // Opens or attaches and configures. On failure returns nullopt and sets `error` to one line
  // saying what went wrong and how to fix it. `warnings` collects lines worth printing.
  static std::optional<Tun> open(const TunConfig& config, std::string& error,
                                 std::vector<std::string>& warnings);

  Tun(Tun&& other) noexcept;
  Tun& operator=(Tun&& other) noexcept;
  Tun(const Tun&) = delete;
  Tun& operator=(const Tun&) = delete;
  // Closing the descriptor is what removes a TUN we created (it was never made persistent);
  // a persistent TUN we attached to stays, as its admin left it.
  ~Tun();
  // Before leaving without destructors: a persistent TUN that this run gave offloads
  // (tx-checksumming, TSO: they belong to the device) gets them turned off again, and the MTU
  // and address this run set (--mtu, --host-ip on a TUN without one) are put back.
  void leave_as_found();

  int fd() const { return fd_; }
  const std::string& name() const { return name_; }
  uint16_t mtu() const { return mtu_; }
  bool attached_to_existing() const { return attached_; }
  // True when every read() and write() on fd() starts with a 10-byte virtio-net header
  // (stack/wire/virtio_net_header.hpp); false without --offload or when the kernel refused.
  bool vnet_header() const { return vnet_header_; }
  // Reading and writing packets is the event loop's job (stack/loop): one read() or write()
  // on fd() is exactly one IPv4 packet (after the virtio-net header, if vnet_header()).

 private:
  Tun(int fd, std::string name, uint16_t mtu, bool attached, bool vnet_header)
      : fd_(fd), name_(std::move(name)), mtu_(mtu), attached_(attached), vnet_header_(vnet_header) {}
  int fd_ = -1;
  std::string name_;
  uint16_t mtu_ = 0;
  bool attached_ = false;
  bool vnet_header_ = false;
  std::optional<int> mtu_to_restore_;  // an attached TUN's MTU before this run changed it
  bool address_to_remove_ = false;     // this run gave an attached TUN its only address
};

}  // namespace tcplab::link
