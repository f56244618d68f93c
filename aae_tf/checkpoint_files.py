"""A checkpoint's files on disk: whether they are all there and readable,
which checkpoints are, and what a failed or killed save left behind.

A checkpoint PREFIX-N is PREFIX-N.index and PREFIX-N.data-SSSSS-of-NNNNN;
TensorFlow writes them through a PREFIX-N_temp/ folder and the `checkpoint`
state file through checkpoint.tmp*, which a failed save leaves behind.
"""

from __future__ import annotations

import glob
import os
import re
from typing import List, Optional, Sequence, Tuple

from absl import logging
import numpy as np
import tensorflow as tf

from aae_tf import outputs
from aae_tf.errors import CheckpointError, gist

# What reading a damaged or foreign checkpoint raises.
READ_ERRORS = (tf.errors.OpError, AssertionError, ValueError, IndexError,
               KeyError)
_DATA_FILE = re.compile(r"\.data-(\d{5})-of-(\d{5})$")
_STATE_TEMP = "checkpoint.tmp*"


def number(path: str) -> int:
  """N of PREFIX-N."""
  return int(path.rsplit("-", 1)[-1])


def _data_files(path: str) -> List[str]:
  return [f for f in glob.glob(glob.escape(path) + ".data-*")
          if _DATA_FILE.search(f)]


def missing_files(path: str) -> List[str]:
  """Names of the checkpoint's files that are not on disk ("PREFIX-N.data-*"
  when no data file is left to tell how many there are)."""
  name = os.path.basename(path)
  missing = [] if os.path.exists(path + ".index") else [name + ".index"]
  shards = {int(_DATA_FILE.search(f).group(2)) for f in _data_files(path)}
  if not shards:
    return missing + [name + ".data-*" if missing else _first_data_file(path)]
  count = max(shards)
  expected = [f".data-{i:05d}-of-{count:05d}" for i in range(count)]
  return missing + [name + suffix for suffix in expected
                    if not os.path.exists(path + suffix)]


def _first_data_file(path: str) -> str:
  """The name of the data file that the index of `path` asks for first
  (TensorFlow's error names it), else "PREFIX-N.data-*"."""
  try:
    reader = tf.train.load_checkpoint(path)
    for name in reader.get_variable_to_shape_map():
      reader.get_tensor(name)
  except READ_ERRORS as e:
    found = re.search(re.escape(os.path.basename(path)) +
                      r"\.data-\d{5}-of-\d{5}", str(e))
    if found:
      return found.group(0)
  return os.path.basename(path) + ".data-*"


def problem(path: str) -> Tuple[Optional[str], Optional[str]]:
  """(What is wrong with checkpoint `path`, the full cause), or (None,
  None) when every tensor in it can be read."""
  missing = missing_files(path)
  if missing:
    return f"is missing {', '.join(missing)}", None
  try:
    reader = tf.train.load_checkpoint(path)
    for name in reader.get_variable_to_shape_map():
      reader.get_tensor(name)
  except READ_ERRORS as e:
    return f"cannot be read ({gist(e, 60)})", f"{type(e).__name__}: {e}"
  return None, None


def complete(directory: str, prefix: str) -> List[int]:
  """Numbers of the checkpoints in `directory` whose files are all there."""
  pattern = re.compile(re.escape(prefix) + r"-(\d+)\.index$")
  found = (pattern.search(f) for f in os.listdir(directory)) if os.path.isdir(
      directory) else ()
  return sorted(int(m.group(1)) for m in found
                if m and not missing_files(
                    os.path.join(directory, f"{prefix}-{m.group(1)}")))


def newest_readable(paths: Sequence[str], directory: str) -> Optional[str]:
  """The first of `paths` (newest first) that can be read, logging each one
  skipped and why; None for no paths; CheckpointError if none can be read."""
  skipped = []
  for path in paths:
    reason, detail = problem(path)
    if reason is None:
      return path
    logging.warning("Skipping checkpoint %s: it %s.", path, reason)
    if detail:
      logging.debug("%s: %s", path, detail)
    skipped.append(f"{os.path.basename(path)} {reason}")
  if skipped:
    raise CheckpointError(
        f"No checkpoint in {directory} can be read (newest: {skipped[0]}); "
        "move the folder aside to start again.")
  return None


def remove_partial_save(directory: str, prefix: str, n: int,
                        listed: bool) -> None:
  """Removes what a failed save of PREFIX-N left: its temporary folder and
  files, the state file's temporary, and (unless the state file `listed` an
  older PREFIX-N) its index and data files."""
  base = os.path.join(directory, f"{prefix}-{n}")
  leftovers = [base + "_temp"] + glob.glob(os.path.join(directory,
                                                        _STATE_TEMP))
  leftovers += [f for f in glob.glob(glob.escape(base) + ".*")
                if not listed or ".tempstate" in f]
  for path in leftovers:
    outputs.remove_quietly(path)


def remove_leftovers(directory: str, prefix: str) -> None:
  """Removes the temporary folders and files of saves that were killed."""
  leftovers = (glob.glob(os.path.join(glob.escape(directory),
                                      f"{prefix}-*_temp")) +
               glob.glob(os.path.join(glob.escape(directory), _STATE_TEMP)))
  for path in leftovers:
    logging.info("Removing %s, left by a checkpoint write that stopped.",
                 path)
    outputs.remove_quietly(path)


def size_on_disk(path: str) -> int:
  """Bytes of a checkpoint's files."""
  return sum(os.path.getsize(f) for f in glob.glob(glob.escape(path) + ".*"))


def expected_size(checkpoint: tf.train.Checkpoint,
                  latest: Optional[str]) -> int:
  """Roughly what the next save of `checkpoint` writes: the size of the
  `latest` one when it is whole, else the bytes of its variables."""
  if latest and not missing_files(latest):
    return size_on_disk(latest)
  total = 0
  for obj in tf.train.TrackableView(checkpoint).descendants():
    if hasattr(obj, "shape") and hasattr(obj, "dtype"):
      total += int(np.prod(obj.shape)) * tf.as_dtype(obj.dtype).size
  return total
