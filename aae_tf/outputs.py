"""Writing a run's files so that a failed write leaves nothing partial.

A figure is written under a temporary name and renamed into place; a write
that fails removes what it wrote, keeps the previous file and becomes one
short OutputError: what failed, where, why, and on a full disk how much
space there is (and is needed, when known). The full cause is its detail.
"""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import uuid
from typing import Iterator, Optional

from aae_tf.errors import OutputError, io_reason

FULL_DISK = (os.strerror(errno.ENOSPC), os.strerror(errno.EDQUOT))


def size_text(n: int) -> str:
  """Bytes as '12.3 MB' or '4.5 GB'."""
  return f"{n / 1e9:.1f} GB" if n >= 1e9 else f"{n / 1e6:.1f} MB"


def free_bytes(path: str) -> Optional[int]:
  """Free space on the filesystem of `path` (or its nearest existing
  parent); None if it cannot be read."""
  path = os.path.abspath(path)
  while not os.path.exists(path) and os.path.dirname(path) != path:
    path = os.path.dirname(path)
  try:
    return shutil.disk_usage(path).free
  except OSError:
    return None


def write_error(what: str, where: str, error: BaseException,
                needed: Optional[int] = None, then: str = "") -> OutputError:
  """OutputError for a failed write of `what` to `where`: the cause's gist
  (the system error), the space on a full disk, then `then` (what is kept,
  what to do)."""
  reason = io_reason(error) or type(error).__name__
  space = ""
  if reason in FULL_DISK:
    free = free_bytes(where)
    parts = ([f"needs about {size_text(needed)}"] if needed else []) + (
        [f"{size_text(free)} free"] if free is not None else [])
    space = f" ({', '.join(parts)})" if parts else ""
  return OutputError(f"Could not write {what} to {where}: {reason}{space}."
                     f"{' ' + then if then else ''}", detail=str(error))


def remove_quietly(path: str) -> None:
  """Removes a file or folder if present, ignoring errors."""
  if os.path.isdir(path) and not os.path.islink(path):
    shutil.rmtree(path, ignore_errors=True)
  else:
    with contextlib.suppress(OSError):
      os.remove(path)


@contextlib.contextmanager
def write_errors(what: str, where: str, then: str = "") -> Iterator[None]:
  """Turns a failed file write in the block (an OSError, or TensorFlow's
  error quoting one) into `write_error`; other errors pass unchanged."""
  try:
    yield
  except Exception as e:  # pylint: disable=broad-except
    if io_reason(e) is None:
      raise
    raise write_error(what, where, e, then=then) from e


@contextlib.contextmanager
def atomic_file(path: str, what: str = "") -> Iterator[str]:
  """Yields a temporary path beside `path` to write; renames it to `path`
  when the block ends. A failed write removes it and keeps the previous
  `path`, raising OutputError."""
  path = os.fspath(path)
  directory, name = os.path.split(path)
  partial = os.path.join(directory, f".{name}.{uuid.uuid4().hex[:8]}.partial")
  try:
    with write_errors(what or name, directory or "."):
      yield partial
      os.replace(partial, path)
  except BaseException:
    remove_quietly(partial)
    raise
