"""The OS jail of the agent-code process: landlock (files, TCP, signals) + a seccomp filter.

Applied by the child to itself, after it imported what it needs and before it runs any agent
code; it cannot be undone (``no_new_privs``, landlock and seccomp are one-way), and it is
inherited by anything the child could start. Linux only; elsewhere :func:`confine` applies
nothing and says so.

- **landlock** (Linux ≥ 5.13, ABI probed): the filesystem becomes read-only and limited to
  the folders given (the Python installation and our package: what ``import`` needs); no
  file can be written, created, removed or renamed anywhere; from ABI 4 no TCP bind or
  connect; from ABI 6 no signals to processes outside the jail and no abstract unix sockets.
- **seccomp** (x86_64): a BPF filter that refuses with ``EPERM`` the system calls agent
  code never needs: creating sockets, starting programs (``execve``), new processes
  (``fork``, ``clone`` without ``CLONE_THREAD``), ``ptrace`` and reading other processes'
  memory, signals to other processes, changing resource limits, mounts and namespaces,
  kernel modules, ``bpf``, ``io_uring``. Inherited file descriptors (the channel to the
  parent) keep working.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import struct
import sys
from collections.abc import Iterable
from dataclasses import dataclass

PR_SET_NO_NEW_PRIVS = 38
PR_SET_SECCOMP = 22
SECCOMP_MODE_FILTER = 2

SYS_LANDLOCK_CREATE_RULESET = 444  # the same number on every architecture
SYS_LANDLOCK_ADD_RULE = 445
SYS_LANDLOCK_RESTRICT_SELF = 446
LANDLOCK_CREATE_RULESET_VERSION = 1
LANDLOCK_RULE_PATH_BENEATH = 1

# landlock filesystem rights by the ABI that introduced them
_FS_V1 = (1 << 13) - 1          # execute … make_sym
_FS_REFER = 1 << 13             # ABI 2
_FS_TRUNCATE = 1 << 14          # ABI 3
_FS_IOCTL_DEV = 1 << 15         # ABI 5
_FS_READ = (1 << 0) | (1 << 2) | (1 << 3)   # execute, read_file, read_dir
_NET_TCP = (1 << 0) | (1 << 1)  # bind, connect (ABI 4)
_SCOPE_ALL = (1 << 0) | (1 << 1)  # abstract unix sockets, signals (ABI 6)

# x86_64 system call numbers refused by the filter
_X86_64_DENY = {
    "socket": 41, "connect": 42, "accept": 43, "bind": 49, "listen": 50, "accept4": 288,
    "execve": 59, "execveat": 322, "fork": 57, "vfork": 58,
    "ptrace": 101, "process_vm_readv": 310, "process_vm_writev": 311,
    "kill": 62, "tkill": 200, "tgkill": 234, "rt_sigqueueinfo": 129, "rt_tgsigqueueinfo": 297,
    "pidfd_open": 434, "pidfd_send_signal": 424, "pidfd_getfd": 438,
    "setrlimit": 160, "prlimit64": 302,
    "mount": 165, "umount2": 166, "pivot_root": 155, "chroot": 161, "unshare": 272,
    "setns": 308, "open_tree": 428, "move_mount": 429, "fsopen": 430, "fsmount": 432,
    "bpf": 321, "perf_event_open": 298, "keyctl": 250, "add_key": 248, "request_key": 249,
    "init_module": 175, "finit_module": 313, "delete_module": 176, "kexec_load": 246,
    "kexec_file_load": 320, "reboot": 169, "swapon": 167, "swapoff": 168,
    "io_uring_setup": 425, "userfaultfd": 323, "personality": 135, "syslog": 103,
    "acct": 163, "settimeofday": 164, "sethostname": 170, "setdomainname": 171,
    "iopl": 172, "ioperm": 173, "open_by_handle_at": 304, "name_to_handle_at": 303,
    "mknod": 133, "mknodat": 259,
}
_X86_64_CLONE = 56
_X86_64_CLONE3 = 435
_AUDIT_ARCH_X86_64 = 0xC000003E
_CLONE_THREAD = 0x00010000
_X32_BIT = 0x40000000

# BPF opcodes
_LD_W_ABS = 0x20
_JEQ_K = 0x15
_JGE_K = 0x35
_JSET_K = 0x45
_RET_K = 0x06
_SECCOMP_RET_ALLOW = 0x7FFF0000
_SECCOMP_RET_ERRNO = 0x00050000


@dataclass(frozen=True)
class Confinement:
    """What confines the agent-code process, in words for the report and ``--debug``."""

    landlock_abi: int
    seccomp: bool
    notes: tuple[str, ...] = ()

    @property
    def active(self) -> bool:
        return self.landlock_abi > 0 or self.seccomp

    def describe(self) -> str:
        parts = []
        if self.landlock_abi:
            net = ", no TCP" if self.landlock_abi >= 4 else ""
            parts.append(f"landlock ABI {self.landlock_abi} (read-only files{net})")
        if self.seccomp:
            parts.append("seccomp (no sockets, exec, fork, ptrace)")
        if not parts:
            why = "; ".join(self.notes) or "no OS confinement available"
            return f"none ({why}): only the Python-level checks and limits apply"
        return " + ".join(parts)

    def to_json(self) -> dict[str, object]:
        return {"landlock_abi": self.landlock_abi, "seccomp": self.seccomp,
                "notes": list(self.notes)}

    @classmethod
    def from_json(cls, data: object) -> Confinement:
        if not isinstance(data, dict):
            return cls(0, False, ("the agent-code process did not report its confinement",))
        abi = data.get("landlock_abi")
        notes = data.get("notes")
        return cls(abi if isinstance(abi, int) and not isinstance(abi, bool) else 0,
                   data.get("seccomp") is True,
                   tuple(str(n)[:200] for n in notes[:5]) if isinstance(notes, list) else ())


def _libc() -> ctypes.CDLL:
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    libc.prctl.restype = ctypes.c_int
    return libc


def landlock_abi() -> int:
    """The landlock ABI version this kernel offers (0: none)."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        found = int(_libc().syscall(SYS_LANDLOCK_CREATE_RULESET, None, ctypes.c_size_t(0),
                                    ctypes.c_uint32(LANDLOCK_CREATE_RULESET_VERSION)))
    except (OSError, AttributeError):
        return 0
    return max(found, 0)


def _landlock(readable: Iterable[str], abi: int) -> None:
    libc = _libc()
    fs = _FS_V1 | (_FS_REFER if abi >= 2 else 0) | (_FS_TRUNCATE if abi >= 3 else 0) \
        | (_FS_IOCTL_DEV if abi >= 5 else 0)
    if abi >= 6:
        attr = struct.pack("=QQQ", fs, _NET_TCP, _SCOPE_ALL)
    elif abi >= 4:
        attr = struct.pack("=QQ", fs, _NET_TCP)
    else:
        attr = struct.pack("=Q", fs)
    buf = ctypes.create_string_buffer(attr, len(attr))
    ruleset = int(libc.syscall(SYS_LANDLOCK_CREATE_RULESET, buf, ctypes.c_size_t(len(attr)),
                               ctypes.c_uint32(0)))
    if ruleset < 0:
        raise OSError(ctypes.get_errno(), "landlock_create_ruleset failed")
    try:
        for path in readable:
            try:
                fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
            except OSError:
                continue
            try:
                access = _FS_READ if os.path.isdir(path) else (1 << 2)
                rule = ctypes.create_string_buffer(struct.pack("=Qi", access, fd), 12)
                if libc.syscall(SYS_LANDLOCK_ADD_RULE, ruleset, LANDLOCK_RULE_PATH_BENEATH,
                                rule, ctypes.c_uint32(0)) < 0:
                    raise OSError(ctypes.get_errno(), f"landlock_add_rule failed for {path}")
            finally:
                os.close(fd)
        if libc.syscall(SYS_LANDLOCK_RESTRICT_SELF, ruleset, ctypes.c_uint32(0)) < 0:
            raise OSError(ctypes.get_errno(), "landlock_restrict_self failed")
    finally:
        os.close(ruleset)


def _stmt(code: int, k: int) -> bytes:
    return struct.pack("=HBBI", code, 0, 0, k)


def _jump(code: int, k: int, jt: int, jf: int) -> bytes:
    return struct.pack("=HBBI", code, jt, jf, k)


def seccomp_program() -> list[bytes]:
    """The x86_64 BPF filter (one 8-byte instruction per item)."""
    eperm = _SECCOMP_RET_ERRNO | errno.EPERM
    enosys = _SECCOMP_RET_ERRNO | errno.ENOSYS
    prog = [
        _stmt(_LD_W_ABS, 4),                               # arch
        _jump(_JEQ_K, _AUDIT_ARCH_X86_64, 1, 0),
        _stmt(_RET_K, eperm),                              # another ABI: refuse everything
        _stmt(_LD_W_ABS, 0),                               # nr
        _jump(_JGE_K, _X32_BIT, 0, 1),
        _stmt(_RET_K, eperm),                              # x32 system calls
        _jump(_JEQ_K, _X86_64_CLONE3, 0, 1),
        _stmt(_RET_K, enosys),                             # glibc falls back to clone
        _jump(_JEQ_K, _X86_64_CLONE, 0, 4),
        _stmt(_LD_W_ABS, 16),                              # clone flags (low word)
        _jump(_JSET_K, _CLONE_THREAD, 0, 1),
        _stmt(_RET_K, _SECCOMP_RET_ALLOW),                 # a thread
        _stmt(_RET_K, eperm),                              # a process
    ]
    for nr in sorted(set(_X86_64_DENY.values())):
        prog.append(_jump(_JEQ_K, nr, 0, 1))
        prog.append(_stmt(_RET_K, eperm))
    prog.append(_stmt(_RET_K, _SECCOMP_RET_ALLOW))
    return prog


class _SockFprog(ctypes.Structure):
    _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]


def _seccomp() -> None:
    prog = b"".join(seccomp_program())
    buf = ctypes.create_string_buffer(prog, len(prog))
    fprog = _SockFprog(len(prog) // 8, ctypes.cast(buf, ctypes.c_void_p))
    if _libc().prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, ctypes.byref(fprog), 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_SECCOMP) failed")


def confine(readable: Iterable[str]) -> Confinement:
    """Confine this process for good: landlock and seccomp where the OS offers them.

    Args:
        readable: folders (and files) that stay readable (nothing stays writable).

    Returns:
        What was applied; never raises (what failed is in ``notes``).
    """
    if not sys.platform.startswith("linux"):
        return Confinement(0, False, (f"{sys.platform} has no landlock or seccomp",))
    notes: list[str] = []
    libc = _libc()
    if libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0:
        return Confinement(0, False, ("prctl(PR_SET_NO_NEW_PRIVS) failed",))
    abi = landlock_abi()
    if abi:
        try:
            _landlock(list(readable), abi)
        except OSError as exc:
            notes.append(f"landlock: {exc}")
            abi = 0
    else:
        notes.append("the kernel offers no landlock")
    seccomp = False
    if platform.machine() in ("x86_64", "AMD64"):
        try:
            _seccomp()
            seccomp = True
        except OSError as exc:
            notes.append(f"seccomp: {exc}")
    else:
        notes.append(f"no seccomp filter for {platform.machine()}")
    return Confinement(abi, seccomp, tuple(notes))
