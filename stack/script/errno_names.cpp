#include "stack/script/errno_names.hpp"

#include <algorithm>
#include <iterator>

namespace tcplab::scenario {

namespace {

// Sorted, for a binary search.
constexpr std::string_view kErrnoNames[] = {
    "E2BIG",           "EACCES",       "EADDRINUSE",   "EADDRNOTAVAIL",   "EADV",
    "EAFNOSUPPORT",    "EAGAIN",       "EALREADY",     "EBADE",           "EBADF",
    "EBADFD",          "EBADMSG",      "EBADR",        "EBADRQC",         "EBADSLT",
    "EBFONT",          "EBUSY",        "ECANCELED",    "ECHILD",          "ECHRNG",
    "ECOMM",           "ECONNABORTED", "ECONNREFUSED", "ECONNRESET",      "EDEADLK",
    "EDEADLOCK",       "EDESTADDRREQ", "EDOM",         "EDOTDOT",         "EDQUOT",
    "EEXIST",          "EFAULT",       "EFBIG",        "EHOSTDOWN",       "EHOSTUNREACH",
    "EHWPOISON",       "EIDRM",        "EILSEQ",       "EINPROGRESS",     "EINTR",
    "EINVAL",          "EIO",          "EISCONN",      "EISDIR",          "EISNAM",
    "EKEYEXPIRED",     "EKEYREJECTED", "EKEYREVOKED",  "EL2HLT",          "EL2NSYNC",
    "EL3HLT",          "EL3RST",       "ELIBACC",      "ELIBBAD",         "ELIBEXEC",
    "ELIBMAX",         "ELIBSCN",      "ELNRNG",       "ELOOP",           "EMEDIUMTYPE",
    "EMFILE",          "EMLINK",       "EMSGSIZE",     "EMULTIHOP",       "ENAMETOOLONG",
    "ENAVAIL",         "ENETDOWN",     "ENETRESET",    "ENETUNREACH",     "ENFILE",
    "ENOANO",          "ENOBUFS",      "ENOCSI",       "ENODATA",         "ENODEV",
    "ENOENT",          "ENOEXEC",      "ENOKEY",       "ENOLCK",          "ENOLINK",
    "ENOMEDIUM",       "ENOMEM",       "ENOMSG",       "ENONET",          "ENOPKG",
    "ENOPROTOOPT",     "ENOSPC",       "ENOSR",        "ENOSTR",          "ENOSYS",
    "ENOTBLK",         "ENOTCONN",     "ENOTDIR",      "ENOTEMPTY",       "ENOTNAM",
    "ENOTRECOVERABLE", "ENOTSOCK",     "ENOTSUP",      "ENOTTY",          "ENOTUNIQ",
    "ENXIO",           "EOPNOTSUPP",   "EOVERFLOW",    "EOWNERDEAD",      "EPERM",
    "EPFNOSUPPORT",    "EPIPE",        "EPROTO",       "EPROTONOSUPPORT", "EPROTOTYPE",
    "ERANGE",          "EREMCHG",      "EREMOTE",      "EREMOTEIO",       "ERESTART",
    "ERFKILL",         "EROFS",        "ESHUTDOWN",    "ESOCKTNOSUPPORT", "ESPIPE",
    "ESRCH",           "ESRMNT",       "ESTALE",       "ESTRPIPE",        "ETIME",
    "ETIMEDOUT",       "ETOOMANYREFS", "ETXTBSY",      "EUCLEAN",         "EUNATCH",
    "EUSERS",          "EWOULDBLOCK",  "EXDEV",        "EXFULL",
};

}  // namespace

bool is_errno_name(std::string_view name) {
  return std::binary_search(std::begin(kErrnoNames), std::end(kErrnoNames), name);
}

}  // namespace tcplab::scenario
