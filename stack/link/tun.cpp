// TUN device setup and I/O (Linux): /dev/net/tun + TUNSETIFF, then the classic SIOCSIF*
// ioctls on an AF_INET socket to give the kernel's side an address and bring it up.
#include "stack/link/tun.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <netinet/in.h>
#include <pwd.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <utility>

#include "stack/wire/virtio_net_header.hpp"

namespace tcplab::link {
namespace {

// Closes a descriptor when the setup path leaves early.
class FdGuard {
 public:
  explicit FdGuard(int fd) : fd_(fd) {}
  ~FdGuard() {
    if (fd_ >= 0) ::close(fd_);
  }
  FdGuard(const FdGuard&) = delete;
  FdGuard& operator=(const FdGuard&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }

 private:
  int fd_;
};

// The uid a persistent TUN belongs to (-1: anyone with CAP_NET_ADMIN), from sysfs.
std::string tun_owner(const std::string& name) {
  std::ifstream in("/sys/class/net/" + name + "/owner");
  std::string owner;
  if (!(in >> owner)) return "unknown";
  return owner;
}

ifreq request_for(const std::string& name) {
  ifreq ifr{};
  std::memcpy(ifr.ifr_name, name.data(), std::min(name.size(), sizeof ifr.ifr_name - 1));
  return ifr;
}

sockaddr_in inet_sockaddr(wire::Ipv4Address address) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_addr.s_addr = htonl(address.value);
  return sin;
}

std::string errno_text(int err) { return std::strerror(err); }

// Fills `error` for a failed TUNSETIFF, with the fix for each case.
std::string tunsetiff_error(int err, const std::string& name, bool existed) {
  switch (err) {
    case EPERM:
    case EACCES:
      if (existed) {
        return "TUN " + name + " exists but you may not attach to it (it belongs to uid " + tun_owner(name) +
               "); an admin can give it to you: sudo ip tuntap del mode tun name " + name +
               " && sudo ip tuntap add mode tun user " + current_user_name() + " name " + name;
      }
      return "cannot create TUN " + name +
             ": needs root or CAP_NET_ADMIN; or ask an admin for a persistent TUN: sudo ip tuntap add mode "
             "tun user " +
             current_user_name() + " name " + name;
    case EBUSY:
      return "TUN " + name +
             " is busy: another process has it open (another tcplab serve?); stop it or pick another --tun "
             "NAME";
    case EINVAL:
      if (existed) return "interface " + name + " exists and is not a TUN device; pick another --tun NAME";
      return "the kernel refused TUN name '" + name + "'; pick another --tun NAME";
    default:
      return "cannot set up TUN " + name + ": " + errno_text(err) + " (tcplab doctor checks the setup)";
  }
}

}  // namespace

std::string current_user_name() {
  if (const passwd* pw = getpwuid(getuid()); pw != nullptr && pw->pw_name != nullptr) return pw->pw_name;
  return std::to_string(getuid());  // `ip tuntap add user` takes a uid too
}

std::optional<std::string> check_interface_name(const std::string& name) {
  if (name.empty()) return "interface name is empty";
  if (name.size() >= IFNAMSIZ) return "interface name '" + name + "' is longer than 15 characters";
  if (name == "." || name == "..") return "interface name '" + name + "' is not allowed";
  for (char c : name) {
    // The kernel's rule (dev_valid_name in net/core/dev.c): no '/', ':' or whitespace, where
    // its isspace() also counts byte 0xA0; any other byte, UTF-8 included, is allowed.
    const unsigned char b = static_cast<unsigned char>(c);
    if (c == '/' || c == ':' || c == ' ' || (b >= '\t' && b <= '\r') || b == 0xa0) {
      return "interface name '" + name + "' contains a character the kernel does not allow ('/', ':' " +
             "or white space)";
    }
    // Allowed by that rule, but TUNSETIFF would take it as a pattern ("tun%d") and pick a name
    // itself, which is not what the user asked for.
    if (c == '%')
      return "interface name '" + name + "' contains '%', which would make the kernel pick the name";
    // Allowed too, but the name is printed in banners, errors and doctor's output, where an
    // escape byte would drive the terminal instead of being shown.
    if (b < 0x20 || b == 0x7f) return "interface name contains a control character";
  }
  return std::nullopt;
}

bool tun_driver_loaded() {
  // The driver registers the misc device "tun" (minor 200) when it loads.
  std::ifstream misc("/proc/misc");
  std::string minor, device;
  while (misc >> minor >> device)
    if (device == "tun") return true;
  return false;
}

std::optional<std::string> interface_with_address(wire::Ipv4Address address) {
  ifaddrs* list = nullptr;
  if (getifaddrs(&list) != 0) return std::nullopt;
  std::optional<std::string> found;
  for (ifaddrs* it = list; it != nullptr; it = it->ifa_next) {
    if (it->ifa_addr == nullptr || it->ifa_addr->sa_family != AF_INET) continue;
    sockaddr_in sin;
    std::memcpy(&sin, it->ifa_addr, sizeof sin);
    if (ntohl(sin.sin_addr.s_addr) == address.value) {
      found = it->ifa_name;
      break;
    }
  }
  freeifaddrs(list);
  return found;
}

std::optional<Tun> Tun::open(const TunConfig& config, std::string& error,
                             std::vector<std::string>& warnings) {
  const std::string& name = config.name;
  if (auto bad = check_interface_name(name)) {
    error = *bad;
    return std::nullopt;
  }
  const bool existed = if_nametoindex(name.c_str()) != 0;

  // Check before creating anything: the kernel would accept the same address twice and
  // routing would then go wherever it pleases.
  bool address_already_ours = false;
  if (config.host) {
    if (auto holder = interface_with_address(config.host->address)) {
      if (*holder != name) {
        error = "address " + config.host->address.to_string() + " is already on interface " + *holder +
                "; pick another --host-ip (and --ip), or remove it: sudo ip addr del " +
                config.host->to_string() + " dev " + *holder;
        return std::nullopt;
      }
      address_already_ours = true;  // an admin configured the persistent TUN already
    }
  }

  // Anything but the character device 10,200 at that path would give a misleading error
  // further on (an ioctl on /dev/null: "Inappropriate ioctl for device"), so say what it is.
  struct stat node {};
  if (::stat("/dev/net/tun", &node) == 0 &&
      (!S_ISCHR(node.st_mode) || major(node.st_rdev) != 10 || minor(node.st_rdev) != 200)) {
    error =
        "/dev/net/tun is not the TUN character device (10,200); an admin recreates it: sudo rm "
        "/dev/net/tun && sudo mknod /dev/net/tun c 10 200 (tcplab doctor checks this)";
    return std::nullopt;
  }
  FdGuard tun(::open("/dev/net/tun", O_RDWR | O_CLOEXEC));
  if (tun.get() < 0) {
    int err = errno;
    if (err == ENOENT && tun_driver_loaded()) {
      error =
          "no /dev/net/tun, though the TUN driver is loaded: an admin creates the node: sudo mkdir -p "
          "/dev/net && sudo mknod /dev/net/tun c 10 200 && sudo chmod 0666 /dev/net/tun (tcplab doctor "
          "checks this)";
    } else if (err == ENOENT || err == ENXIO || err == ENODEV) {
      error = "no /dev/net/tun: the TUN driver is not loaded (sudo modprobe tun; tcplab doctor checks this)";
    } else if (err == EACCES || err == EPERM) {
      error =
          "cannot open /dev/net/tun: permission denied (run as root, or ask an admin to make it usable: sudo "
          "chmod 0666 /dev/net/tun)";
    } else {
      error = "cannot open /dev/net/tun: " + errno_text(err);
    }
    return std::nullopt;
  }

  // IFF_TUN: IP packets, no Ethernet header. IFF_NO_PI: no 4-byte packet-info prefix, so a
  // read() returns exactly one IPv4 packet as it would appear on a wire.
  // IFF_VNET_HDR (--offload): a virtio-net header before every packet, both ways. Asked only
  // if the driver lists it; otherwise the TUN opens as before and a warning says so.
  bool vnet_header = false;
  if (config.offload) {
    unsigned int features = 0;
    if (ioctl(tun.get(), TUNGETFEATURES, &features) == 0 && (features & IFF_VNET_HDR) != 0) {
      vnet_header = true;
    } else {
      warnings.push_back("the TUN driver has no IFF_VNET_HDR; running without offloads");
    }
  }
  ifreq ifr = request_for(name);
  ifr.ifr_flags = static_cast<short>(IFF_TUN | IFF_NO_PI | (vnet_header ? IFF_VNET_HDR : 0));
  if (ioctl(tun.get(), TUNSETIFF, &ifr) < 0) {
    error = tunsetiff_error(errno, name, existed);
    return std::nullopt;
  }
  if (vnet_header) {
    int header_size = static_cast<int>(wire::kVirtioNetHeaderLength);
    if (ioctl(tun.get(), TUNSETVNETHDRSZ, &header_size) < 0) {
      error = "cannot set the virtio-net header size of " + name + ": " + errno_text(errno);
      return std::nullopt;
    }
    // The header's fields are little-endian (stack/wire/virtio_net_header) on any host; the
    // kernel's default is the host's own order. Harmless where that is little-endian already.
    int little_endian = 1;
    [[maybe_unused]] int ignored = ioctl(tun.get(), TUNSETVNETLE, &little_endian);
    // TUN_F_CSUM: the kernel may leave a TCP checksum partial (we finish it); TUN_F_TSO4: it
    // may send us TCP super-packets up to 64 KiB. A kernel that refuses still takes our GSO
    // writes, so only the read side falls back.
    if (ioctl(tun.get(), TUNSETOFFLOAD, TUN_F_CSUM | TUN_F_TSO4) < 0) {
      warnings.push_back("the kernel refused TUN offloads (" + errno_text(errno) + ") on " + name +
                         "; reads stay one MTU-sized packet each");
    }
  } else if (existed) {
    // Offloads belong to the device, not the descriptor: a persistent TUN that an --offload
    // run left with TSO on would hand this run super-packets and partial checksums it cannot
    // recognise without the header. Turn them off; an older kernel without them fails harmlessly.
    [[maybe_unused]] int ignored = ioctl(tun.get(), TUNSETOFFLOAD, 0);
  }
  int flags = fcntl(tun.get(), F_GETFL);
  if (flags < 0 || fcntl(tun.get(), F_SETFL, flags | O_NONBLOCK) < 0) {
    error = "cannot make TUN " + name + " non-blocking: " + errno_text(errno);
    return std::nullopt;
  }

  if (!existed) {
    // A new TUN gets an IPv6 link-local address and the kernel starts router solicitations on
    // it; those would show up as "ipv4-bad-version" drops and confuse a first trace.
    // Best effort: nothing depends on it.
    std::ofstream sysctl("/proc/sys/net/ipv6/conf/" + name + "/disable_ipv6");
    if (sysctl) sysctl << "1\n";
  }

  // The SIOCSIF* requests act on the interface by name through any socket.
  FdGuard control(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (control.get() < 0) {
    error = "cannot open a control socket: " + errno_text(errno);
    return std::nullopt;
  }

  uint16_t mtu = config.mtu;
  std::optional<int> mtu_to_restore;  // an attached TUN's own MTU, put back on exit
  ifr = request_for(name);
  if (ioctl(control.get(), SIOCGIFMTU, &ifr) == 0 && ifr.ifr_mtu != config.mtu) {
    int current = ifr.ifr_mtu;
    if (existed) mtu_to_restore = current;
    ifr = request_for(name);
    ifr.ifr_mtu = config.mtu;
    if (ioctl(control.get(), SIOCSIFMTU, &ifr) < 0) {
      int err = errno;
      if ((err == EPERM || err == EACCES) && existed) {
        warnings.push_back("cannot change the MTU of " + name + " (needs CAP_NET_ADMIN); using its MTU " +
                           std::to_string(current));
        mtu = static_cast<uint16_t>(current);
        mtu_to_restore.reset();
      } else if (err == EINVAL) {
        error =
            "the kernel refused MTU " + std::to_string(config.mtu) + " for " + name + "; pick another --mtu";
        return std::nullopt;
      } else {
        error = "cannot set the MTU of " + name + ": " + errno_text(err);
        return std::nullopt;
      }
    }
  }

  // The kernel queues what it sends towards tcplab in a ring of txqueuelen packets and drops
  // (tx_dropped) whatever finds it full. While tcplab writes a burst it does not read, and
  // a client's ACKs during a bulk download overflowed the default 500 (hundreds lost in a
  // 5 MiB download). A TUN we create gets a longer ring; a persistent one stays as its admin
  // set it. Best effort: the queue length only changes what is lost under load.
  if (!existed) {
    ifr = request_for(name);
    ifr.ifr_qlen = kTunTxQueueLength;
    [[maybe_unused]] int ignored = ioctl(control.get(), SIOCSIFTXQLEN, &ifr);
  }

  if (config.host && !address_already_ours) {
    auto fail_address = [&](int err) {
      if (err == EPERM || err == EACCES) {
        error = "cannot assign " + config.host->to_string() + " to " + name +
                ": needs CAP_NET_ADMIN; ask an admin (sudo ip addr add " + config.host->to_string() +
                " dev " + name + " && sudo ip link set " + name +
                " up), then run tcplab again: it takes the address the TUN already carries";
      } else {
        error = "cannot assign " + config.host->to_string() + " to " + name + ": " + errno_text(err);
      }
    };
    ifr = request_for(name);
    sockaddr_in address = inet_sockaddr(config.host->address);
    std::memcpy(&ifr.ifr_addr, &address, sizeof address);
    if (ioctl(control.get(), SIOCSIFADDR, &ifr) < 0) {
      fail_address(errno);
      return std::nullopt;
    }
    ifr = request_for(name);
    sockaddr_in mask = inet_sockaddr(config.host->netmask());
    std::memcpy(&ifr.ifr_netmask, &mask, sizeof mask);
    if (ioctl(control.get(), SIOCSIFNETMASK, &ifr) < 0) {
      fail_address(errno);
      return std::nullopt;
    }
  }
  // An attached TUN that had no address gets ours for this run only.
  const bool address_to_remove = existed && config.host && !address_already_ours;

  ifr = request_for(name);
  if (ioctl(control.get(), SIOCGIFFLAGS, &ifr) < 0) {
    error = "cannot read the flags of " + name + ": " + errno_text(errno);
    return std::nullopt;
  }
  if (!(ifr.ifr_flags & IFF_UP)) {
    ifr.ifr_flags = static_cast<short>(ifr.ifr_flags | IFF_UP | IFF_RUNNING);
    if (ioctl(control.get(), SIOCSIFFLAGS, &ifr) < 0) {
      int err = errno;
      if (err == EPERM || err == EACCES) {
        error = "cannot bring " + name + " up: needs CAP_NET_ADMIN; ask an admin: sudo ip link set " + name +
                " up";
      } else {
        error = "cannot bring " + name + " up: " + errno_text(err);
      }
      return std::nullopt;
    }
  }
  Tun made(tun.release(), name, mtu, existed, vnet_header);
  made.mtu_to_restore_ = mtu_to_restore;
  made.address_to_remove_ = address_to_remove;
  return made;
}

Tun::Tun(Tun&& other) noexcept
    : fd_(std::exchange(other.fd_, -1)),
      name_(std::move(other.name_)),
      mtu_(other.mtu_),
      attached_(other.attached_),
      vnet_header_(other.vnet_header_),
      mtu_to_restore_(std::exchange(other.mtu_to_restore_, std::nullopt)),
      address_to_remove_(std::exchange(other.address_to_remove_, false)) {}

Tun& Tun::operator=(Tun&& other) noexcept {
  if (this != &other) {
    leave_as_found();
    if (fd_ >= 0) ::close(fd_);
    fd_ = std::exchange(other.fd_, -1);
    name_ = std::move(other.name_);
    mtu_ = other.mtu_;
    attached_ = other.attached_;
    vnet_header_ = other.vnet_header_;
    mtu_to_restore_ = std::exchange(other.mtu_to_restore_, std::nullopt);
    address_to_remove_ = std::exchange(other.address_to_remove_, false);
  }
  return *this;
}

Tun::~Tun() {
  leave_as_found();
  if (fd_ >= 0) ::close(fd_);
}

void Tun::leave_as_found() {
  if (fd_ < 0 || !attached_) return;
  // The device's IFF_VNET_HDR flag is the descriptor owner's to set and stays until the next
  // attach resets it; the offload features are what `ethtool -k` shows the admin.
  if (vnet_header_) {
    [[maybe_unused]] int ignored = ioctl(fd_, TUNSETOFFLOAD, 0);
  }
  if (!mtu_to_restore_ && !address_to_remove_) return;
  // Best effort, once: the MTU and address this run set go back to what the admin left.
  FdGuard control(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (control.get() < 0) return;
  if (mtu_to_restore_) {
    ifreq ifr = request_for(name_);
    ifr.ifr_mtu = *mtu_to_restore_;
    [[maybe_unused]] int ignored = ioctl(control.get(), SIOCSIFMTU, &ifr);
  }
  if (address_to_remove_) {
    // Setting 0.0.0.0 removes the interface's address, as `ifconfig NAME 0.0.0.0` does.
    ifreq ifr = request_for(name_);
    sockaddr_in none = inet_sockaddr(wire::Ipv4Address{0});
    std::memcpy(&ifr.ifr_addr, &none, sizeof none);
    [[maybe_unused]] int ignored = ioctl(control.get(), SIOCSIFADDR, &ifr);
  }
  mtu_to_restore_.reset();
  address_to_remove_ = false;
}

}  // namespace tcplab::link
