// The readiness banner and the namespace detection behind its paste-able lines.
#include "tools/tcplab/banner.hpp"

#include <dirent.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <optional>
#include <sstream>

#include "stack/text/shell_quote.hpp"

namespace tcplab::cli {
namespace {

struct Identity {
  dev_t dev;
  ino_t ino;
  bool operator==(const Identity&) const = default;
};

std::optional<Identity> identity_of(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return std::nullopt;
  return Identity{st.st_dev, st.st_ino};
}

// The parent PID from /proc/PID/stat ("pid (comm) state ppid ..."; comm may hold spaces and
// parentheses, so read after the last ')'). 0 when unknown.
long parent_of(long pid) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/stat");
  std::string line;
  if (!std::getline(in, line)) return 0;
  auto close = line.rfind(')');
  if (close == std::string::npos) return 0;
  std::istringstream rest(line.substr(close + 1));
  std::string state;
  long ppid = 0;
  if (!(rest >> state >> ppid)) return 0;
  return ppid;
}

// A name `tools/lab --name` accepts (its own rule): letters, digits, '-' and '_'.
bool lab_accepts(const std::string& name) {
  if (name.empty() || name.size() > 40) return false;
  for (char c : name) {
    const bool ok =
        (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

// The words that run a command in this process's network namespace, ending in a space.
std::string command_prefix(long pid, const BannerContext& c) {
  const std::string sudo = c.sudo ? "sudo " : "";
  switch (c.where.kind) {
    case NetworkNamespace::Kind::Default:
      return "";
    case NetworkNamespace::Kind::Named:
      if (!c.lab_path.empty() && lab_accepts(c.where.name)) {
        return sudo + text::shell_quote(c.lab_path) + " exec --name " + c.where.name + " -- ";
      }
      return sudo + "ip netns exec " + text::shell_quote(c.where.name) + " ";
    case NetworkNamespace::Kind::Unnamed:
    case NetworkNamespace::Kind::Unknown:
      // Entering the namespace works from any terminal, this one's own included.
      return sudo + "nsenter --net=/proc/" + std::to_string(pid) + "/ns/net -- ";
  }
  return "";
}

// " (echo on port 7, chargen on port 19)", or nothing without services.
std::string services_text(uint16_t echo, uint16_t discard, uint16_t chargen) {
  std::string services;
  auto service = [&](const char* name, uint16_t port) {
    if (port == 0) return;
    services += std::string(services.empty() ? " (" : ", ") + name + " on port " + std::to_string(port);
  };
  service("echo", echo);
  service("discard", discard);
  service("chargen", chargen);
  if (!services.empty()) services += ")";
  return services;
}

// "tcplab: this runs in network namespace NS; from another terminal (services):".
std::string where_line(const BannerContext& c, const std::string& services) {
  if (c.where.kind == NetworkNamespace::Kind::Named)
    return "tcplab: this runs in network namespace " + c.where.name + "; from another terminal" + services +
           ":\n";
  if (c.where.kind == NetworkNamespace::Kind::Unnamed)
    return "tcplab: this runs in a network namespace without a name; from another terminal" + services +
           ":\n";
  if (c.where.kind == NetworkNamespace::Kind::Unknown)
    return "tcplab: cannot tell whether this network namespace is your terminals' (/proc/1 is out of "
           "reach), so the lines enter it; from another terminal" +
           services + ":\n";
  return "tcplab: from another terminal" + services + ":\n";
}

// Whether PID 1 shares our network namespace; nothing when neither route can be read.
std::optional<bool> same_namespace_as_pid1(const Identity& self) {
  if (auto init = identity_of("/proc/1/ns/net")) return *init == self;
  // Opening /proc/1/ns/net needs ptrace rights over PID 1, which even root lacks without
  // CAP_SYS_PTRACE (a container) and any other user lacks always. /proc/PID/net needs none, and
  // each namespace has its own entries there, so one entry's inode tells the namespaces apart.
  auto ours = identity_of("/proc/self/net/dev");
  auto init = identity_of("/proc/1/net/dev");
  if (!ours || !init) return std::nullopt;
  return *ours == *init;
}

// True when a process up our chain of parents is in another namespace than `self`.
bool ancestor_elsewhere(const Identity& self) {
  for (long pid = parent_of(getpid()); pid > 1; pid = parent_of(pid)) {
    auto theirs = identity_of("/proc/" + std::to_string(pid) + "/ns/net");
    if (!theirs) return false;
    if (*theirs != self) return true;
  }
  return false;
}

}  // namespace

NetworkNamespace current_network_namespace() {
  link::NamespaceEvidence evidence;
  auto self = identity_of("/proc/self/ns/net");
  if (!self) return link::decide_network_namespace(evidence);
  if (DIR* dir = opendir("/run/netns")) {
    while (dirent* entry = readdir(dir)) {
      std::string name = entry->d_name;
      if (name == "." || name == "..") continue;
      if (identity_of("/run/netns/" + name) == self) {
        evidence.run_netns_name = name;
        break;
      }
    }
    closedir(dir);
  }
  evidence.same_as_pid1 = same_namespace_as_pid1(*self);
  evidence.ancestor_elsewhere = ancestor_elsewhere(*self);
  return link::decide_network_namespace(evidence);
}

std::string lab_script_path() {
  char exe[PATH_MAX];
  ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
  if (n <= 0) return "";
  std::string path(exe, static_cast<size_t>(n));
  auto slash = path.rfind('/');
  if (slash == std::string::npos) return "";
  std::string candidate = path.substr(0, slash) + "/../tools/lab";
  char resolved[PATH_MAX];
  if (realpath(candidate.c_str(), resolved) == nullptr || access(resolved, X_OK) != 0) return "";
  return resolved;
}

BannerContext current_banner_context() {
  BannerContext c;
  c.where = current_network_namespace();
  c.lab_path = lab_script_path();
  // Entering a namespace needs root. Through sudo, the user's next terminal is not root.
  c.sudo = geteuid() != 0 || std::getenv("SUDO_USER") != nullptr;
  // Signalling a process started through sudo needs sudo too; a plain root shell does not.
  c.kill_sudo = geteuid() == 0 && std::getenv("SUDO_USER") != nullptr;
  return c;
}

std::string banner_text(const BannerInfo& info, const BannerContext& c) {
  const std::string ip = info.ip.to_string();
  std::string out = "tcplab: up on " + info.tun + ", stack " + ip + ", host " + info.host_text + "\n";
  if (!info.note.empty()) out += "tcplab: " + info.note + "\n";
  out += where_line(c, services_text(info.echo_port, info.discard_port, info.chargen_port));
  const std::string prefix = command_prefix(info.pid, c);
  if (info.http_port != 0) {
    out += "  " + prefix + "curl http://" + ip +
           (info.http_port == 80 ? "" : ":" + std::to_string(info.http_port)) + "/\n";
  }
  out += "  " + prefix + "ping -c 3 " + ip + "\n";
  for (uint16_t port : {info.echo_port, info.discard_port, info.chargen_port}) {
    if (port != 0) out += "  " + prefix + "nc " + ip + " " + std::to_string(port) + "\n";
  }
  out += "tcplab: drop counters and the connection table, printed by this process on its stderr:\n";
  out += "  " + std::string(c.kill_sudo ? "sudo " : "") + "kill -USR1 " + std::to_string(info.pid) + "\n";
  if (!info.status_file.empty()) {
    if (c.where.kind == NetworkNamespace::Kind::Named && !c.lab_path.empty() && lab_accepts(c.where.name)) {
      out += "tcplab: or shown where you type it (also written to " + info.status_file + "):\n";
      out += "  " + std::string(c.sudo ? "sudo " : "") + text::shell_quote(c.lab_path) + " table --name " +
             c.where.name + "\n";
    } else {
      out += "tcplab: each report is also written to " + info.status_file + "\n";
    }
  }
  return out;
}

std::string kernel_banner_text(const KernelBannerInfo& info, const BannerContext& c) {
  const std::string ip = info.address.to_string();
  std::string out =
      "tcplab: up on " + ip + ":" + std::to_string(info.http_port) + " (the kernel's TCP, no TUN)\n";
  out += where_line(c, services_text(info.echo_port, info.discard_port, info.chargen_port));
  // The same prefix as the TUN banner: a socket bound in this namespace (its 127.0.0.1, say)
  // is out of reach of a terminal in another one.
  const std::string prefix = command_prefix(info.pid, c);
  out += "  " + prefix + "curl http://" + ip + ":" + std::to_string(info.http_port) + "/\n";
  for (uint16_t port : {info.echo_port, info.discard_port, info.chargen_port}) {
    if (port != 0) out += "  " + prefix + "nc " + ip + " " + std::to_string(port) + "\n";
  }
  if (info.trace_requested)
    out += "tcplab: no trace: kernel sockets show us no segments, so --trace has nothing to print\n";
  out += "tcplab: pid " + std::to_string(info.pid) +
         "; SIGUSR1 prints the connection table, SIGINT/SIGTERM stop\n";
  return out;
}

}  // namespace tcplab::cli
