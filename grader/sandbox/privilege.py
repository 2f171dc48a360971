"""Give up every privilege before student code runs: capabilities, their bounding set, new privileges.

Runs inside the student's process (stdlib only, raw system calls through
ctypes), after torch is imported and before the fence and the student file.
A grader run as root (a class run, CI, Gradescope's container) would otherwise
hand student code root's capabilities: change any file's mode or owner, bind
ports, load what it likes. After ``drop()`` the process holds no capability,
cannot regain one (no bounding set, no ambient set, ``SECBIT_NOROOT`` locked,
``no_new_privs``), and is not dumpable when asked, so another process of the
same unprivileged user cannot open its ``/proc`` entries. Every step is best
effort on its own (a process without CAP_SETPCAP cannot touch the bounding
set, and needs not: it has nothing to drop); ``held()`` says what is left.
"""

from __future__ import annotations

import ctypes
import os
import struct

PR_SET_DUMPABLE, PR_CAPBSET_DROP, PR_SET_SECUREBITS, PR_SET_NO_NEW_PRIVS = 4, 24, 28, 38
PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL = 47, 4
# SECBIT_NOROOT, _NO_SETUID_FIXUP and _NO_CAP_AMBIENT_RAISE, each locked, and KEEP_CAPS locked off.
SECURE_BITS = 0x01 | 0x02 | 0x04 | 0x08 | 0x20 | 0x40 | 0x80
CAPSET = {"x86_64": 126, "aarch64": 91}
LINUX_CAPABILITY_VERSION_3 = 0x20080522


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def _last_cap() -> int:
    try:
        with open("/proc/sys/kernel/cap_last_cap") as file:
            return int(file.read())
    except (OSError, ValueError):
        return 63


def drop(dumpable: bool = True) -> None:
    """No capability now or later, no new privileges; ``dumpable=False`` hides /proc from same-uid peers."""
    libc = _libc()
    libc.prctl(PR_SET_SECUREBITS, SECURE_BITS, 0, 0, 0)  # root gains nothing by exec or setuid
    for cap in range(_last_cap() + 1):
        libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0)
    libc.prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0)
    machine = os.uname().machine
    if machine in CAPSET:
        header = ctypes.create_string_buffer(struct.pack("<Ii", LINUX_CAPABILITY_VERSION_3, 0))
        data = ctypes.create_string_buffer(bytes(24))  # effective, permitted, inheritable: all empty, twice
        libc.syscall(CAPSET[machine], header, data)
    libc.prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)
    if not dumpable:
        libc.prctl(PR_SET_DUMPABLE, 0, 0, 0, 0)


def held() -> dict[str, int]:
    """The capability sets this process still holds, from /proc/self/status (0 everywhere after ``drop``)."""
    sets: dict[str, int] = {}
    try:
        with open("/proc/self/status") as file:
            for line in file:
                key, _, value = line.partition(":")
                if key in ("CapPrm", "CapEff", "CapBnd", "CapAmb", "CapInh", "NoNewPrivs"):
                    sets[key] = int(value.strip(), 16 if key.startswith("Cap") else 10)
    except (OSError, ValueError):
        pass
    return sets
