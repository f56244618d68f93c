"""Exceptions that carry a message meant for the user.

The command line prints ``str(error)`` of any :class:`AAEError` on one short
line and exits non-zero; the full cause (a TensorFlow message, say) goes to
the log at --verbosity 1. A failed read or write of a file is one line too;
everything else is a bug and keeps its traceback.
"""


import errno
import os
import re
import signal
import sys
from typing import Callable, Optional

from absl import logging

# The longest error line the command line should print, paths aside (the
# tests hold every message to it): a message quotes the cause's gist, the
# whole cause is logged.
MAX_LINE = 200
# System errors that make a read or write fail; their messages are what
# TensorFlow's file errors quote too.
IO_ERRNOS = (errno.ENOSPC, errno.EDQUOT, errno.EROFS, errno.EACCES,
             errno.EPERM, errno.EIO, errno.ENOENT, errno.ENOTDIR,
             errno.EISDIR, errno.EFBIG, errno.EMFILE, errno.ENFILE)


class AAEError(Exception):
  """Base class of every error whose message tells the user what to do.

  `detail`: the full underlying message (logged, not printed).
  """
  exit_code = 1

  def __init__(self, message: str, detail: Optional[str] = None):
    super().__init__(message)
    self.detail = detail


class ConfigError(AAEError, ValueError):
  """An invalid configuration value or combination of values."""


class DataError(AAEError):
  """A data set that is missing, damaged or of the wrong kind."""


class CheckpointError(AAEError):
  """A checkpoint that does not exist, is damaged or belongs to another model."""


class OutputError(AAEError):
  """SAVE_PATH cannot be written or holds another run's results."""


class TrainingError(AAEError):
  """Training cannot go on (for example a loss became NaN or Inf)."""


class Interrupted(AAEError):
  """SIGINT or SIGTERM stopped training; the shell's exit status for it."""

  def __init__(self, message: str, signum: int):
    super().__init__(message)
    self.exit_code = 128 + signum


def io_reason(error: BaseException) -> Optional[str]:
  """The system error behind a failed read or write ("No space left on
  device"), from an OSError or a TensorFlow file error; None for others."""
  if isinstance(error, OSError) and error.strerror:
    return error.strerror
  is_tensorflow = type(error).__module__.startswith("tensorflow")
  if isinstance(error, OSError) or is_tensorflow:
    text = str(error)
    for code in IO_ERRNOS:
      if os.strerror(code) in text:
        return os.strerror(code)
  return type(error).__name__ if isinstance(error, OSError) else None


def gist(error: BaseException, limit: int = 80) -> str:
  """The first line of an error's message without TensorFlow's op names
  ({{function_node ...}}, [Op:...]), cut to `limit` characters."""
  text = str(getattr(error, "message", None) or error or type(error).__name__)
  text = re.sub(r"\{\{[^}]*\}\}\s*", "", text.strip().splitlines()[0])
  text = re.sub(r"\s*\[Op:[^\]]*\]", "", text).strip()
  return text if len(text) <= limit else text[:limit - 3].rstrip() + "..."


def one_line(text: str) -> str:
  """`text` with its line breaks and runs of spaces made single spaces."""
  return " ".join(text.split())


def _print_error(prog: str, prefix: str, message: str,
                 detail: Optional[str]) -> None:
  """One short line on stderr; the whole message and its cause in the log."""
  logging.debug("%s%s%s", message, "\nCause: " if detail else "",
                detail or "")
  sys.stderr.write(one_line(f"{prog}: {prefix}{message}") + "\n")


def run_command(prog: str, fn: Callable[[], None]) -> None:
  """Runs a command-line action: an AAEError becomes `prog: error: ...` on
  one line of stderr and its exit status (1; 130 or 143 for an interrupted
  run); so does a file that cannot be read or written; Ctrl-C outside
  training is one line and 130 too; anything else keeps its traceback."""
  try:
    fn()
  except Interrupted as e:
    _print_error(prog, "", str(e), e.detail)
    sys.exit(e.exit_code)
  except AAEError as e:
    _print_error(prog, "error: ", str(e), e.detail)
    sys.exit(e.exit_code)
  except Exception as e:  # pylint: disable=broad-except
    reason = io_reason(e)
    if reason is None:
      raise
    filename = getattr(e, "filename", None)
    _print_error(prog, "error: ", f"Could not read or write "
                 f"{filename or 'a file'}: {reason}.", repr(e))
    sys.exit(1)
  except KeyboardInterrupt:
    sys.stderr.write(f"{prog}: interrupted; checkpoints already written "
                     "are kept.\n")
    sys.exit(128 + signal.SIGINT)
