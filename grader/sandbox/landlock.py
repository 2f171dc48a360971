"""Landlock: confine the student's process to reading the Python install and writing its folder.

Runs inside the student's process (stdlib only), after torch is imported and
before the student file is: the tier for machines where bubblewrap cannot make
namespaces (no unprivileged user namespaces, or a container without them).
Unprivileged, root included. ABI 4+ also denies TCP bind/connect; ABI 6+ also
scopes signals and abstract unix sockets to the process. Raw system calls
through ctypes, so no compiled dependency.
"""

from __future__ import annotations

import ctypes
import os
import platform
import struct
from collections.abc import Iterable

CREATE_RULESET, ADD_RULE, RESTRICT_SELF = 444, 445, 446  # the same on x86-64 and aarch64
VERSION_FLAG = 1
PATH_BENEATH = 1

EXECUTE, WRITE_FILE, READ_FILE, READ_DIR = 1 << 0, 1 << 1, 1 << 2, 1 << 3
FILE_RIGHTS = EXECUTE | WRITE_FILE | READ_FILE | (1 << 14) | (1 << 15)  # + TRUNCATE, IOCTL_DEV
READ = EXECUTE | READ_FILE | READ_DIR


def _libc() -> ctypes.CDLL:
    return ctypes.CDLL(None, use_errno=True)


def abi() -> int:
    """The Landlock ABI version of this kernel, 0 when there is none."""
    if platform.system() != "Linux" or platform.machine() not in ("x86_64", "aarch64"):
        return 0
    version = _libc().syscall(CREATE_RULESET, None, ctypes.c_size_t(0), VERSION_FLAG)
    return max(int(version), 0)


def _handled_fs(version: int) -> int:
    rights = (1 << 13) - 1          # ABI 1: execute ... make_sym
    if version >= 2:
        rights |= 1 << 13           # refer
    if version >= 3:
        rights |= 1 << 14           # truncate
    if version >= 5:
        rights |= 1 << 15           # ioctl_dev
    return rights


def restrict(read_only: Iterable[str], read_write: Iterable[str]) -> bool:
    """Allow reading ``read_only`` and everything in ``read_write``; deny the rest. Irreversible."""
    version = abi()
    if version < 1:
        return False
    handled = _handled_fs(version)
    attr = struct.pack("<QQQ", handled, 3 if version >= 4 else 0, 3 if version >= 6 else 0)
    size = 8 if version < 4 else 16 if version < 6 else 24
    libc = _libc()
    buffer = ctypes.create_string_buffer(attr[:size])
    ruleset = libc.syscall(CREATE_RULESET, buffer, ctypes.c_size_t(size), 0)
    if ruleset < 0:
        return False
    try:
        for paths, rights in ((read_only, READ), (read_write, handled)):
            for path in paths:
                _allow(libc, ruleset, path, rights & handled)
        if libc.prctl(38, 1, 0, 0, 0) != 0:  # PR_SET_NO_NEW_PRIVS
            return False
        return bool(libc.syscall(RESTRICT_SELF, ruleset, 0) == 0)
    finally:
        os.close(ruleset)


def _allow(libc: ctypes.CDLL, ruleset: int, path: str, rights: int) -> None:
    try:
        fd = os.open(path, os.O_PATH | os.O_CLOEXEC)
    except OSError:
        return  # a path this machine does not have
    try:
        if not os.path.isdir(path):
            rights &= FILE_RIGHTS  # directory rights on a file are an error
        rule = ctypes.create_string_buffer(struct.pack("<Qi", rights, fd))
        libc.syscall(ADD_RULE, ruleset, PATH_BENEATH, rule, 0)
    finally:
        os.close(fd)
