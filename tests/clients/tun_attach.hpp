// Attaching a test client to a persistent TUN device the bench script made in its namespace
// (tun_limit, tun_http_floor): IFF_TUN | IFF_NO_PI plus `extra_flags` (IFF_VNET_HDR), opened
// with `open_flags` (O_NONBLOCK). Any failure ends the program with the reason.
#pragma once
#include <fcntl.h>
#include <linux/if_tun.h>
#include <net/if.h>
#include <sys/ioctl.h>

#include <cstdio>
#include <string>

#include "tests/clients/tcp_client.hpp"

namespace tcpclient {

inline int attach_tun(const std::string& name, short extra_flags = 0, int open_flags = 0) {
  int fd = open("/dev/net/tun", O_RDWR | O_CLOEXEC | open_flags);
  if (fd < 0) fail_errno("open /dev/net/tun");
  ifreq ifr{};
  ifr.ifr_flags = static_cast<short>(IFF_TUN | IFF_NO_PI | extra_flags);
  std::snprintf(ifr.ifr_name, IFNAMSIZ, "%s", name.c_str());
  if (ioctl(fd, TUNSETIFF, &ifr) < 0) fail_errno("TUNSETIFF " + name);
  return fd;
}

}  // namespace tcpclient
