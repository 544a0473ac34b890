// Fact gathering for `tcplab doctor` (see doctor_probe.hpp). Every probe degrades to "not
// known" rather than failing: doctor must run on broken machines, that is its job.
#include "tools/tcplab/doctor_probe.hpp"

#include <arpa/inet.h>
#include <dirent.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>

#include "stack/link/tun.hpp"

extern char** environ;

namespace tcplab::cli {

namespace {

// open/read rather than ifstream: some /sys files fail on read (carrier of a device that is
// down gives EINVAL), and libstdc++'s filebuf throws on that.
std::optional<std::string> read_text(const std::string& path) {
  int fd = open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return std::nullopt;
  std::string s;
  char buf[4096];
  for (;;) {
    ssize_t n = read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      close(fd);
      return std::nullopt;
    }
    if (n == 0) break;
    s.append(buf, static_cast<size_t>(n));
  }
  close(fd);
  return s;
}

std::optional<int64_t> read_int(const std::string& path, int base = 10) {
  auto text = read_text(path);
  if (!text || text->empty()) return std::nullopt;
  errno = 0;
  char* end = nullptr;
  long long v = std::strtoll(text->c_str(), &end, base);
  if (errno != 0 || end == text->c_str()) return std::nullopt;
  return v;
}

// The program on PATH (plus the sbin directories, which a user's PATH often lacks).
std::optional<std::string> find_program(const std::string& name) {
  std::string path = std::getenv("PATH") ? std::getenv("PATH") : "";
  path += ":/usr/sbin:/sbin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    std::string dir = path.substr(start, end == std::string::npos ? std::string::npos : end - start);
    if (!dir.empty()) {
      std::string candidate = dir + "/" + name;
      if (access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    if (end == std::string::npos) break;
    start = end + 1;
  }
  return std::nullopt;
}

// Runs argv (no shell) with stdout captured, at most 5 s. Nothing when it cannot start, is
// killed by the time limit, or exits non-zero.
std::optional<std::string> run(const std::vector<std::string>& argv) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return std::nullopt;
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_adddup2(&actions, fds[1], STDOUT_FILENO);
  posix_spawn_file_actions_addopen(&actions, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid;
  int rc = posix_spawn(&pid, args[0], &actions, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&actions);
  close(fds[1]);
  if (rc != 0) {
    close(fds[0]);
    return std::nullopt;
  }
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  bool timed_out = false;
  for (;;) {
    auto left =
        std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd p{fds[0], POLLIN, 0};
    int n = poll(&p, 1, static_cast<int>(left.count()));
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      timed_out = n == 0;
      break;
    }
    char buf[4096];
    ssize_t got = read(fds[0], buf, sizeof buf);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) break;
    out.append(buf, static_cast<size_t>(got));
    if (out.size() > (8u << 20)) break;  // a ruleset this large is not worth more
  }
  close(fds[0]);
  if (timed_out) kill(pid, SIGKILL);
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (timed_out || !WIFEXITED(status) || WEXITSTATUS(status) != 0) return std::nullopt;
  return out;
}

}  // namespace

doctor::Identity probe_identity() {
  doctor::Identity me;
  me.uid = geteuid();
  me.gid = getegid();
  int n = getgroups(0, nullptr);
  if (n > 0) {
    std::vector<gid_t> groups(static_cast<size_t>(n));
    n = getgroups(n, groups.data());
    for (int i = 0; i < n; ++i) me.groups.push_back(groups[static_cast<size_t>(i)]);
  }
  if (auto status = read_text("/proc/self/status"))
    me.cap_effective = doctor::parse_cap_effective(*status).value_or(0);
  if (const passwd* pw = getpwuid(me.uid); pw != nullptr && pw->pw_name != nullptr) me.name = pw->pw_name;
  return me;
}

doctor::TunNode probe_tun_node(const char* path) {
  doctor::TunNode node;
  node.driver_loaded = link::tun_driver_loaded();
  struct stat st {};
  if (stat(path, &st) != 0) return node;
  node.exists = true;
  node.char_device = S_ISCHR(st.st_mode);
  node.major = major(st.st_rdev);
  node.minor = minor(st.st_rdev);
  node.mode = st.st_mode & 07777;
  node.owner_uid = st.st_uid;
  node.owner_gid = st.st_gid;
  int fd = open(path, O_RDWR | O_CLOEXEC);
  if (fd < 0)
    node.open_errno = errno;
  else
    close(fd);
  return node;
}

doctor::Interface probe_interface(const std::string& name) {
  doctor::Interface device;
  std::string dir = "/sys/class/net/" + name;
  struct stat st {};
  if (name.find('/') != std::string::npos || stat(dir.c_str(), &st) != 0) return device;
  device.exists = true;
  if (auto flags = read_int(dir + "/tun_flags", 16)) {
    device.is_tun_driver = true;
    device.tun_flags = static_cast<uint32_t>(*flags);
    device.owner = read_int(dir + "/owner").value_or(-1);
    device.group = read_int(dir + "/group").value_or(-1);
  }
  // Reading carrier of a device that is down fails (EINVAL): no carrier.
  device.carrier = read_int(dir + "/carrier").value_or(0) == 1;
  device.mtu = static_cast<uint32_t>(read_int(dir + "/mtu").value_or(0));
  return device;
}


doctor::RpFilter probe_rp_filter(const std::string& device) {
  doctor::RpFilter rp;
  const std::string base = "/proc/sys/net/ipv4/conf/";
  auto get = [&](const std::string& which) -> std::optional<int> {
    auto v = read_int(base + which + "/rp_filter");
    if (!v) return std::nullopt;
    return static_cast<int>(*v);
  };
  rp.all = get("all");
  rp.default_value = get("default");
  if (device.find('/') == std::string::npos) rp.device = get(device);
  return rp;
}

doctor::Firewall probe_firewall(const doctor::Identity& me) {
  doctor::Firewall fw;
  auto nft = find_program("nft");
  auto iptables = find_program("iptables");
  if (!me.net_admin()) {
    fw.could_read = false;
    if (nft) fw.nft = "";
    if (iptables) fw.iptables = "";
    return fw;
  }
  // A tool that is installed but fails (no kernel support, no tables) lists no rules.
  if (nft) fw.nft = run({*nft, "list", "ruleset"}).value_or("");
  if (iptables) fw.iptables = run({*iptables, "-S"}).value_or("");
  return fw;
}

std::optional<std::string> probe_ethtool(const std::string& device) {
  auto ethtool = find_program("ethtool");
  if (!ethtool) return std::nullopt;
  return run({*ethtool, "-k", device});
}

doctor::Netem probe_netem() {
  doctor::Netem netem;
  if (auto modules = read_text("/proc/modules"))
    netem.loaded = modules->find("sch_netem ") != std::string::npos;
  utsname u{};
  if (uname(&u) != 0) return netem;
  std::string dir = std::string("/lib/modules/") + u.release;
  if (auto builtin = read_text(dir + "/modules.builtin"))
    netem.built_in = builtin->find("/sch_netem.ko") != std::string::npos;
  if (DIR* d = opendir((dir + "/kernel/net/sched").c_str())) {
    while (dirent* e = readdir(d))
      if (std::strncmp(e->d_name, "sch_netem.ko", 12) == 0) netem.module_file = true;
    closedir(d);
  }
  return netem;
}

}  // namespace tcplab::cli
