"""Exceptions that carry a message meant for the user.

The command line prints ``str(error)`` of any :class:`AAEError` on one line and exits
non-zero; everything else is a bug and keeps its traceback.
"""


import signal
import sys
from typing import Callable


class AAEError(Exception):
  """Base class of every error whose message tells the user what to do."""
  exit_code = 1


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


def run_command(prog: str, fn: Callable[[], None]) -> None:
  """Runs a command-line action: an AAEError becomes `prog: error: ...` on
  one line of stderr and its exit status (1; 130 or 143 for an interrupted
  run); Ctrl-C outside training is one line and 130 too; anything else keeps
  its traceback."""
  try:
    fn()
  except Interrupted as e:
    sys.stderr.write(f"{prog}: {e}\n")
    sys.exit(e.exit_code)
  except AAEError as e:
    sys.stderr.write(f"{prog}: error: {e}\n")
    sys.exit(e.exit_code)
  except KeyboardInterrupt:
    sys.stderr.write(f"{prog}: interrupted; checkpoints already written "
                     "are kept.\n")
    sys.exit(128 + signal.SIGINT)
