"""Exceptions that carry a message meant for the user.

The command line prints ``str(error)`` of any :class:`AAEError` on one line and exits
non-zero; everything else is a bug and keeps its traceback.
"""


import sys
from typing import Callable


class AAEError(Exception):
  """Base class of every error whose message tells the user what to do."""


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


def run_command(prog: str, fn: Callable[[], None]) -> None:
  """Runs a command-line action: an AAEError becomes `prog: error: ...` on
  one line of stderr and exit status 1; anything else keeps its traceback."""
  try:
    fn()
  except AAEError as e:
    sys.stderr.write(f"{prog}: error: {e}\n")
    sys.exit(1)
