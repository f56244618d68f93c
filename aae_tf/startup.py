"""Starting TensorFlow quietly for the command line.

Before its logging is initialised, TensorFlow's native code writes start-up
notes to stderr that no environment variable silences (oneDNN, missing CUDA
drivers on a CPU machine). The command line starts TensorFlow with stderr
sent to a temporary file and shows that file only if the start fails or the
user asks for it (--verbosity 1).
"""

from __future__ import annotations

import contextlib
import logging
import os
import sys
import tempfile

# Libraries whose INFO lines (SavedModel and checkpoint internals) drown the
# run's own log unless the user asks for them.
QUIET_PACKAGES = ("tensorflow", "keras", "tf_keras", "tensorboard")


class _LibraryInfoFilter(logging.Filter):
  """Drops records below WARNING that come from QUIET_PACKAGES' files."""

  def filter(self, record: logging.LogRecord) -> bool:
    if record.levelno >= logging.WARNING:
      return True
    parts = record.pathname.split(os.sep)
    return not any(p in parts for p in QUIET_PACKAGES)


@contextlib.contextmanager
def native_stderr_captured():
  """Sends file descriptor 2 to a temporary file; replays the file to
  stderr if the block raises."""
  sys.stderr.flush()
  saved = os.dup(2)
  with tempfile.TemporaryFile() as sink:
    os.dup2(sink.fileno(), 2)
    try:
      yield
    except BaseException:
      os.dup2(saved, 2)
      sink.seek(0)
      sys.stderr.write(sink.read().decode(errors="replace"))
      raise
    finally:
      os.dup2(saved, 2)
      os.close(saved)


def start_tensorflow(verbose: bool = False) -> None:
  """Imports TensorFlow and initialises its devices; their start-up notes
  are shown only when `verbose`."""
  if verbose:
    os.environ["TF_CPP_MIN_LOG_LEVEL"] = "0"
    context = contextlib.nullcontext()
  else:
    os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
    context = native_stderr_captured()
  with context:
    import tensorflow as tf  # pylint: disable=g-import-not-at-top
    tf.config.list_physical_devices()
  if not verbose:
    from absl import logging as absl_logging  # pylint: disable=g-import-not-at-top
    absl_logging.get_absl_handler().addFilter(_LibraryInfoFilter())
    logging.getLogger("tensorflow").setLevel(logging.WARNING)
