"""A seccomp deny-list for the student's process, as raw BPF (no compiled dependency).

Runs inside the student's process: the worker installs it after importing
torch and before importing the student file. Stdlib only. Blocks what a
function that turns tensors into tensors never needs: new processes (threads
stay allowed), exec, sockets, ptrace and cross-process memory, mounts and
namespaces, raising resource limits, signals to any process but itself,
changing any file's mode, owner, times or extended attributes (Landlock does
not fence those), changing identity or capabilities, memory the address-space
limit does not count (memfd, fallocate, System V and POSIX IPC), and a few
kernel interfaces (bpf, perf, keyrings, io_uring, modules). Denied calls
fail with EPERM (clone3 with ENOSYS, so glibc falls back to clone, which is
then allowed for threads). See sandbox-notes §Layer 2.
"""

from __future__ import annotations

import ctypes
import errno
import os
import platform
import struct

CLONE_THREAD = 0x00010000
AUDIT_ARCH = {"x86_64": 0xC000003E, "aarch64": 0xC00000B7}
X32_BIT = 0x40000000

# name -> number, per architecture (x86_64 from arch/x86/entry/syscalls, aarch64 asm-generic).
SYSCALLS = {
    "x86_64": {
        "fork": 57, "vfork": 58, "clone": 56, "clone3": 435, "execve": 59, "execveat": 322,
        "socket": 41, "socketpair": 53, "ptrace": 101, "process_vm_readv": 310,
        "process_vm_writev": 311, "mount": 165, "umount2": 166, "pivot_root": 155, "chroot": 161,
        "unshare": 272, "setns": 308, "bpf": 321, "perf_event_open": 298, "keyctl": 250,
        "add_key": 248, "request_key": 249, "userfaultfd": 323, "io_uring_setup": 425,
        "io_uring_enter": 426, "io_uring_register": 427, "kexec_load": 246, "init_module": 175,
        "finit_module": 313, "delete_module": 176, "reboot": 169, "swapon": 167, "swapoff": 168,
        "acct": 163, "setrlimit": 160, "prlimit64": 302, "kill": 62, "tkill": 200, "tgkill": 234,
        "rt_sigqueueinfo": 129, "rt_tgsigqueueinfo": 297, "pidfd_send_signal": 424,
        "pidfd_open": 434, "open_by_handle_at": 304, "name_to_handle_at": 303,
        # File metadata, which Landlock does not fence: mode, owner, times, extended attributes.
        "chmod": 90, "fchmod": 91, "fchmodat": 268, "fchmodat2": 452, "chown": 92, "fchown": 93,
        "lchown": 94, "fchownat": 260, "utime": 132, "utimes": 235, "futimesat": 261, "utimensat": 280,
        "setxattr": 188, "lsetxattr": 189, "fsetxattr": 190, "setxattrat": 463, "removexattr": 197,
        "lremovexattr": 198, "fremovexattr": 199, "removexattrat": 466, "mknod": 133, "mknodat": 259,
        # Identity and privilege: nothing to gain back once dropped.
        "setuid": 105, "setgid": 106, "setreuid": 113, "setregid": 114, "setresuid": 117,
        "setresgid": 119, "setgroups": 116, "setfsuid": 122, "setfsgid": 123, "capset": 126,
        "quotactl": 179,
        # Memory that the address-space limit does not count, or that outlives the process.
        "memfd_create": 319, "memfd_secret": 447, "fallocate": 285, "shmget": 29, "msgget": 68,
        "semget": 64, "mq_open": 240,
        # File writes that bypass write(2)'s accounting (the disk watch counts write(2)'s bytes).
        "copy_file_range": 326, "splice": 275, "tee": 276, "io_setup": 206, "io_submit": 209, "mmap": 9,
    },
    "aarch64": {
        "clone": 220, "clone3": 435, "execve": 221, "execveat": 281, "socket": 198,
        "socketpair": 199, "ptrace": 117, "process_vm_readv": 270, "process_vm_writev": 271,
        "mount": 40, "umount2": 39, "pivot_root": 41, "chroot": 51, "unshare": 97, "setns": 268,
        "bpf": 280, "perf_event_open": 241, "keyctl": 219, "add_key": 217, "request_key": 218,
        "userfaultfd": 282, "io_uring_setup": 425, "io_uring_enter": 426, "io_uring_register": 427,
        "kexec_load": 104, "init_module": 105, "finit_module": 273, "delete_module": 106,
        "reboot": 142, "swapon": 224, "swapoff": 225, "acct": 89, "setrlimit": 164,
        "prlimit64": 261, "kill": 129, "tkill": 130, "tgkill": 131, "rt_sigqueueinfo": 138,
        "rt_tgsigqueueinfo": 240, "pidfd_send_signal": 424, "pidfd_open": 434,
        "open_by_handle_at": 265, "name_to_handle_at": 264,
        "fchmod": 52, "fchmodat": 53, "fchmodat2": 452, "fchown": 55, "fchownat": 54, "utimensat": 88,
        "setxattr": 5, "lsetxattr": 6, "fsetxattr": 7, "setxattrat": 463, "removexattr": 14,
        "lremovexattr": 15, "fremovexattr": 16, "removexattrat": 466, "mknodat": 33,
        "setuid": 146, "setgid": 144, "setreuid": 145, "setregid": 143, "setresuid": 147,
        "setresgid": 149, "setgroups": 159, "setfsuid": 151, "setfsgid": 152, "capset": 91,
        "quotactl": 60,
        "memfd_create": 279, "memfd_secret": 447, "fallocate": 47, "shmget": 194, "msgget": 186,
        "semget": 190, "mq_open": 180,
        "copy_file_range": 285, "splice": 76, "tee": 77, "io_setup": 0, "io_submit": 2, "mmap": 222,
    },
}
SPECIAL = {"clone", "clone3", "kill", "tgkill", "mmap"}  # decided by their arguments below
MAP_SHARED = 0x01  # MAP_SHARED_VALIDATE (0x03) has it too

# Classic BPF opcodes and seccomp return values.
LD_ABS, JEQ, JSET, JGE, RET = 0x20, 0x15, 0x45, 0x35, 0x06
ALLOW, ERRNO = 0x7FFF0000, 0x00050000
NR, ARCH, ARG0, ARG3, ARG4 = 0, 4, 16, 40, 48  # offsets in struct seccomp_data (the args' low 32 bits)


def _program(arch: str, pid: int, shared_files: bool = False) -> list[tuple[int, int, int, int]]:
    """The filter as (code, jt, jf, k) tuples, labels resolved.

    Unless ``shared_files`` (a GPU driver maps its device files shared), a shared mapping of a
    file is denied: its writes reach the file without write(2), so no byte count would see them.
    """
    calls = SYSCALLS[arch]
    own = [pid & 0xFFFFFFFF, 0, (-pid) & 0xFFFFFFFF]  # kill(self), kill(0), kill(-own group)
    body: list[tuple[int, str | int, str | int, int]] = [
        (LD_ABS, 0, 0, ARCH), (JEQ, 0, "allow", AUDIT_ARCH[arch]), (LD_ABS, 0, 0, NR),
    ]
    if arch == "x86_64":
        body.append((JGE, "deny", 0, X32_BIT))  # the x32 ABI's numbers would slip past
    body += [(JEQ, "deny", 0, n) for name, n in calls.items() if name not in SPECIAL]
    body += [(JEQ, "clone", 0, calls["clone"]), (JEQ, "enosys", 0, calls["clone3"]),
             (JEQ, "kill", 0, calls["kill"]), (JEQ, "tgkill", 0, calls["tgkill"]),
             (JEQ, "allow" if shared_files else "mmap", 0, calls["mmap"]),
             (RET, 0, 0, ALLOW)]
    labels: dict[str, list[tuple[int, str | int, str | int, int]]] = {
        "clone": [(LD_ABS, 0, 0, ARG0), (JSET, "allow", "deny", CLONE_THREAD)],
        "kill": [(LD_ABS, 0, 0, ARG0), *[(JEQ, "allow", 0, k) for k in own], (JEQ, "deny", "deny", 0)],
        "tgkill": [(LD_ABS, 0, 0, ARG0), (JEQ, "allow", "deny", own[0])],
        # mmap(addr, length, prot, flags, fd, offset): shared and backed by a file (fd != -1) -> EPERM.
        "mmap": [(LD_ABS, 0, 0, ARG3), (JSET, 0, "allow", MAP_SHARED), (LD_ABS, 0, 0, ARG4),
                 (JEQ, "allow", "deny", 0xFFFFFFFF)],
        "enosys": [(RET, 0, 0, ERRNO | errno.ENOSYS)],
        "deny": [(RET, 0, 0, ERRNO | errno.EPERM)],
        "allow": [(RET, 0, 0, ALLOW)],
    }
    where: dict[str, int] = {}
    for name, block in labels.items():
        where[name] = len(body)
        body += block

    def jump(target: str | int, at: int) -> int:
        return target if isinstance(target, int) else where[target] - at - 1

    return [(code, jump(jt, i), jump(jf, i), k) for i, (code, jt, jf, k) in enumerate(body)]


def supported() -> str | None:
    """The architecture name when this machine can take the filter, else None."""
    arch = platform.machine()
    return arch if platform.system() == "Linux" and arch in SYSCALLS else None


def install(shared_files: bool = False) -> bool:
    """Install the filter on this process (and its threads to come). Irreversible."""
    arch = supported()
    if arch is None:
        return False
    program = _program(arch, os.getpid(), shared_files)
    raw = b"".join(struct.pack("<HBBI", *ins) for ins in program)
    filters = ctypes.create_string_buffer(raw)

    class Prog(ctypes.Structure):
        _fields_ = [("len", ctypes.c_ushort), ("filter", ctypes.c_void_p)]

    prog = Prog(len(program), ctypes.addressof(filters))
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
        return False
    return bool(libc.prctl(22, 2, ctypes.byref(prog), 0, 0) == 0)  # PR_SET_SECCOMP, FILTER
