"""One writer per SAVE_PATH: a lock file held while a run trains.

The training process (a multi-worker run's chief) holds SAVE_PATH/writer.lock
from before it writes anything until it exits, normally, on an error or
after SIGINT / SIGTERM. The file names the holder (pid, host, start time) as
JSON and is also `flock`ed, so a lock left by a process that died (SIGKILL,
power loss) is recognised and replaced: the kernel dropped its flock. Where
the filesystem has no flock, a holder on this host whose pid is gone is
stale. Reading commands (--generate, --viz, TensorBoard) take no lock.
"""

from __future__ import annotations

import datetime
import errno
import fcntl
import json
import os
import socket
import sys
import time
import uuid
from typing import Optional

from absl import logging

from aae_tf import run_dir
from aae_tf.errors import OutputError

LOCK_FILENAME = "writer.lock"
# flock errors that mean the filesystem cannot lock, not that it is locked.
NO_FLOCK = (errno.ENOLCK, errno.EOPNOTSUPP, errno.EINVAL)
# link errors of a filesystem without hard links.
NO_LINK = (errno.EPERM, errno.EOPNOTSUPP, errno.EMLINK, errno.ENOSYS)
# A lock file this new with no record yet is being created, not stale.
CREATING_SECONDS = 5.0


def _holder_record() -> dict:
  """Who holds the lock: this process."""
  return {"pid": os.getpid(), "host": socket.gethostname(),
          "since": datetime.datetime.now().isoformat(timespec="seconds"),
          "command": " ".join(sys.argv)[:200]}


def _flock(fd: int) -> Optional[bool]:
  """Tries an exclusive flock on `fd` without waiting: True if taken, False
  if another process holds it, None if the filesystem cannot lock."""
  try:
    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    return True
  except OSError as e:
    if e.errno in (errno.EWOULDBLOCK, errno.EAGAIN):
      return False
    if e.errno in NO_FLOCK:
      return None
    raise


def _new_locked_file(path: str) -> int:
  """Creates `path` (FileExistsError if it exists), flocks it and writes
  this process's record; returns the open fd."""
  fd = os.open(path, os.O_CREAT | os.O_EXCL | os.O_RDWR | os.O_CLOEXEC, 0o644)
  try:
    _flock(fd)
    os.write(fd, json.dumps(_holder_record()).encode())
  except BaseException:
    os.close(fd)
    raise
  return fd


def _pid_alive(pid: int) -> bool:
  try:
    os.kill(pid, 0)
  except ProcessLookupError:
    return False
  except PermissionError:
    return True  # Alive, owned by another user.
  return True


def _read_record(fd: int) -> dict:
  """The holder's JSON record ({} if unreadable)."""
  try:
    os.lseek(fd, 0, os.SEEK_SET)
    record = json.loads(os.read(fd, 1 << 16).decode() or "{}")
    return record if isinstance(record, dict) else {}
  except (OSError, ValueError):
    return {}


def _same_file(path: str, fd: int) -> bool:
  """Whether `path` still names the file open as `fd`."""
  try:
    stat, own = os.stat(path), os.fstat(fd)
  except OSError:
    return False
  return (stat.st_dev, stat.st_ino) == (own.st_dev, own.st_ino)


def _is_live(record: dict, locked: Optional[bool]) -> bool:
  """Whether the holder described by `record` is still running: it holds
  the flock (unless it is on this host and its pid is gone: the flock is
  then a child's inherited copy); without flock, by host and pid."""
  here = record.get("host") == socket.gethostname()
  pid = record.get("pid")
  pid_gone = here and isinstance(pid, int) and not _pid_alive(pid)
  if locked is not None:
    return not locked and not pid_gone
  return not pid_gone


def describe(record: dict) -> str:
  """'pid 12 on host h since 2024-05-01T10:00:00' for a lock record."""
  return (f"pid {record.get('pid', '?')} on {record.get('host', '?')} since "
          f"{record.get('since', '?')}")


class RunLock:
  """The writer's lock on a SAVE_PATH; a context manager.

  Raises OutputError on entry if another live process holds it.
  """

  def __init__(self, save_path: str):
    self.save_path = save_path
    self.path = os.path.join(save_path, LOCK_FILENAME)
    self._fd: Optional[int] = None

  def __enter__(self) -> "RunLock":
    self.acquire()
    return self

  def __exit__(self, *exc_info) -> None:
    self.release()

  def acquire(self) -> None:
    """Takes the lock, replacing a stale one; OutputError if it is held."""
    try:
      os.makedirs(self.save_path, exist_ok=True)
      for _ in range(3):  # A stale lock is removed, then taken.
        self._fd = self._create()
        if self._fd is not None:
          return
        self._refuse_or_remove_stale()
    except OSError as e:
      raise run_dir.unwritable(self.save_path, e) from e
    raise OutputError(f"Could not take {self.path}: other processes keep "
                      "replacing it; run one command per --save_path.")

  def release(self) -> None:
    """Removes the lock file (if still ours) and drops the flock."""
    if self._fd is None:
      return
    try:
      if _same_file(self.path, self._fd):
        os.remove(self.path)
    except OSError as e:
      logging.warning("Could not remove %s: %s", self.path, e)
    finally:
      os.close(self._fd)
      self._fd = None

  def _create(self) -> Optional[int]:
    """Creates the lock file, already flocked and filled in, atomically (a
    private file linked into place; where the filesystem has no hard links,
    created in place); the open fd, or None if it exists."""
    private = f"{self.path}.{uuid.uuid4().hex}"
    fd = _new_locked_file(private)
    try:
      os.link(private, self.path)
    except OSError as e:
      os.close(fd)
      if isinstance(e, FileExistsError):
        return None
      if e.errno not in NO_LINK:
        raise
      try:
        return _new_locked_file(self.path)
      except FileExistsError:
        return None
    finally:
      os.remove(private)
    return fd

  def _refuse_or_remove_stale(self) -> None:
    """Raises OutputError naming a live holder; removes a stale lock."""
    try:
      fd = os.open(self.path, os.O_RDWR | os.O_CLOEXEC)
    except FileNotFoundError:
      return  # Released meanwhile: try again.
    try:
      locked = _flock(fd)
      record = _read_record(fd)
      being_created = (not record and time.time() - os.fstat(fd).st_mtime
                       < CREATING_SECONDS)
      if being_created or _is_live(record, locked):
        raise OutputError(
            f"SAVE_PATH {self.save_path} is being written by "
            f"{describe(record)}; wait for it to end or use another "
            "--save_path.")
      if _same_file(self.path, fd):
        os.remove(self.path)
        logging.warning("Removed the stale lock of %s, which no longer runs.",
                        describe(record))
    finally:
      os.close(fd)
