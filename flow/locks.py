"""One owner at a time for a folder tsflow writes: an OS lock (``flock`` on the folder itself: it needs no
file, works on a read-only folder, and ends with the process, however it ends), the ``RUNNING`` marker a
run leaves in its folder, and who holds a folder (its pid from ``/proc/locks``, with the marker's start time
and command), named in every refusal. ``flow.runs`` builds the output folders' rules on these."""
from __future__ import annotations

import errno
import json
import os
import secrets
import socket
import struct
import sys
import time
from contextlib import contextmanager
from pathlib import Path

from .errors import ConfigError

RUNNING = "RUNNING"


class FolderBusy(ConfigError):
    """Another live process holds the folder's lock: never taken, even with --force."""

    def __init__(self, message: str, holder: dict | None = None):
        super().__init__(message)
        self.holder = holder or {}


_held: dict[tuple[int, int], list] = {}  # (st_dev, st_ino) of a folder this process locks -> [fd, depth]


def _key(folder: Path) -> tuple[int, int] | None:
    try:
        st = os.stat(folder)
    except OSError:
        return None
    return st.st_dev, st.st_ino


NO_LOCK = -1  # what _try_lock returns for a folder it cannot open (no read permission): nothing to hold


def _try_lock(folder: Path) -> int | None:
    """An fd holding an exclusive lock on ``folder``; None if another process holds it. Where the file
    system has no locks the fd is returned unlocked, for a folder that cannot be opened ``NO_LOCK``: nothing
    to do better. Raises FileNotFoundError for a folder that is not there."""
    import fcntl

    try:
        fd = os.open(folder, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except FileNotFoundError:
        raise
    except OSError:
        return NO_LOCK
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    except OSError as exc:
        if exc.errno not in (errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL, errno.ENOSYS):
            os.close(fd)
            raise
    return fd


def _lock_pids(folder: Path) -> list[int]:
    """The pids holding a flock on ``folder`` (Linux: /proc/locks), empty where that cannot be read."""
    try:
        st = os.stat(folder)
        lines = Path("/proc/locks").read_text().splitlines()
    except OSError:
        return []
    ident = f"{os.major(st.st_dev):02x}:{os.minor(st.st_dev):02x}:{st.st_ino}"
    pids = []
    for line in lines:
        fields = line.split()
        if len(fields) >= 6 and fields[1] == "FLOCK" and fields[5] == ident and fields[4].isdigit():
            pids.append(int(fields[4]))
    return pids


def _process(pid: int) -> dict:
    """What /proc says of a process: its command line and start time (empty where there is no /proc)."""
    out = {"pid": pid}
    try:
        cmd = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        words = [w.decode(errors="replace") for w in cmd if w]
        if words:
            out["command"] = " ".join([Path(words[0]).name, *words[1:]])
        ticks = int(Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[19])
        boot = next(int(line.split()[1]) for line in Path("/proc/stat").read_text().splitlines()
                    if line.startswith("btime "))
        out["started"] = time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(boot + ticks / os.sysconf("SC_CLK_TCK")))
    except (OSError, ValueError, IndexError, StopIteration):
        pass
    return out


def lock_holder(folder: Path) -> dict | None:
    """Who holds ``folder``: None when nobody does (or this process does); else what is known of the
    holder (``pid``, ``host``, ``started``, ``command``; empty when nothing is)."""
    folder = Path(folder)
    if not folder.is_dir() or _key(folder) in _held:
        return None
    try:
        fd = _try_lock(folder)
    except OSError:
        return None
    if fd is not None:
        if fd != NO_LOCK:
            os.close(fd)
        return None
    pids = _lock_pids(folder)
    info = running_info(folder)
    if info.get("pid") in pids or (not pids and info and not process_gone(info)):
        return info
    return _process(pids[0]) if pids else {}


def describe(holder: dict) -> str:
    """``pid 123 on host, since 2024-01-01 10:00:00: tsflow build ...`` (what is known of it)."""
    if not holder:
        return "a process that cannot be named here"
    text = f"pid {holder.get('pid')}"
    if holder.get("host") and holder["host"] != socket.gethostname():
        text += f" on {holder['host']}"
    if holder.get("started"):
        text += f", since {holder['started']}"
    if holder.get("command"):
        text += f": {holder['command']}"
    return text


def stop_hint(holder: dict) -> str:
    pid = holder.get("pid")
    here = not holder.get("host") or holder["host"] == socket.gethostname()
    return f"wait for it to finish, or stop it (kill {pid})" if pid and here else "wait for it to finish"


@contextmanager
def hold(folder: Path, busy):
    """Lock ``folder`` for the duration (re-entrant in this process); ``busy(holder)`` makes the exception
    raised when another process holds it."""
    folder = Path(folder)
    key = _key(folder) or ("path", str(folder.absolute()))
    if key in _held:
        _held[key][1] += 1
    else:
        for attempt in range(3):  # a holder that lets go while it is being named: taken after all
            fd = _try_lock(folder)
            if fd is not None:
                break
            holder = lock_holder(folder)
            if holder is not None:
                raise busy(holder)
        else:
            raise busy({})
        if fd != NO_LOCK:  # the inode the fd holds (the path may name another folder by now)
            st = os.fstat(fd)
            key = (st.st_dev, st.st_ino)
        _held[key] = [fd, 1]
    try:
        yield
    finally:
        entry = _held[key]
        entry[1] -= 1
        if entry[1] == 0:
            del _held[key]
            if entry[0] != NO_LOCK:
                os.close(entry[0])


def in_use(folder: Path):
    def busy(holder):
        return FolderBusy(f"{folder} is in use by another process ({describe(holder)}); it is left "
                          f"untouched: {stop_hint(holder)}, then run this again", holder)
    return busy


@contextmanager
def using_folder(folder: Path):
    """Hold the lock of an existing folder that this command writes into (``tsflow csim``, ``tsflow
    export``): refused (FolderBusy, naming the holder) while another process holds it."""
    with hold(Path(folder), in_use(Path(folder))):
        yield


# linux/fs.h: _IOR('f', 1, long), and the two inode flags that keep a file or what a folder holds from removal
FS_IOC_GETFLAGS, FS_IMMUTABLE_FL, FS_APPEND_FL = 0x80006601 | (struct.calcsize("l") << 16), 0x10, 0x20


def pinned(path: Path) -> str | None:
    """'immutable' or 'append-only' for a file or folder whose inode flags forbid removing it or what it holds
    (``chattr +i`` / ``+a``); None otherwise, or where the flags cannot be read (not Linux, another file system)."""
    import fcntl
    import stat

    try:
        if not stat.S_ISREG(os.lstat(path).st_mode) and not stat.S_ISDIR(os.lstat(path).st_mode):
            return None  # a symlink (its own flags do not matter), a device or a FIFO: never opened
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0))
    except OSError:
        return None
    try:
        flags = struct.unpack("i", fcntl.ioctl(fd, FS_IOC_GETFLAGS, b"\0" * 4))[0]
    except OSError:
        return None
    finally:
        os.close(fd)
    return "immutable" if flags & FS_IMMUTABLE_FL else "append-only" if flags & FS_APPEND_FL else None


def not_writable(folder: Path) -> OSError | None:
    """Why tsflow cannot write into ``folder`` (read-only file system, immutable, append-only, permissions),
    or None. tsflow replaces and removes what it wrote, so a folder where files can be made but not removed
    is not writable. The inode flags are read first (no probe file is left in an append-only folder), then
    a file is made and removed for real (the mode bits do not tell for root)."""
    flag = pinned(folder)
    if flag == "immutable":
        return OSError(errno.EPERM, f"it is immutable (chattr +i): nothing can be made in it; chattr -i {folder} "
                                    f"undoes it", str(folder))
    if flag == "append-only":
        return OSError(errno.EPERM, f"it is append-only (chattr +a): files can be made in it but not removed or "
                                    f"replaced, as tsflow must; chattr -a {folder} undoes it", str(folder))
    probe = Path(folder, f".tsflow-probe-{os.getpid()}-{secrets.token_hex(4)}")
    try:
        fd = os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except OSError as exc:
        return OSError(exc.errno, exc.strerror, str(folder))
    os.close(fd)
    try:
        probe.unlink()
    except OSError as exc:  # flags this process cannot read (another file system): the probe cannot go
        return OSError(exc.errno, f"files can be made in it but not removed ({exc.strerror}), as tsflow must; "
                                  f"remove the file {probe.name} it left once it can", str(folder))
    return None


def running_info(folder: Path) -> dict:
    try:
        info = json.loads((folder / RUNNING).read_text())
        return info if isinstance(info, dict) else {}
    except (OSError, ValueError):
        return {}


def process_gone(info: dict) -> bool:
    """True only when the run's process certainly no longer exists (same machine, no such pid)."""
    pid = info.get("pid")
    if info.get("host") != socket.gethostname() or not isinstance(pid, int) or pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except OSError:  # exists, owned by someone else
        return False
    return False


def running_marker() -> str:
    program = Path(sys.argv[0]).name if sys.argv and sys.argv[0] else "python"
    argv = ["tsflow" if program in ("__main__.py", "tsflow") else program, *sys.argv[1:]]
    return json.dumps({"pid": os.getpid(), "host": socket.gethostname(), "started": time.strftime("%Y-%m-%d %H:%M:%S"),
                       "command": " ".join(argv)}) + "\n"
