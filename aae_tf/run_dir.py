"""A run's folder (SAVE_PATH): its config.json, and which runs may share it.

A SAVE_PATH holds config.json, checkpoints/, tensorboard/, saved_model/ and
the figures of one run. Training the same configuration again resumes it; a
different one is refused, so no run overwrites another's checkpoints.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile

from aae_tf.config import CONFIG_FILENAME, ExperimentConfig
from aae_tf.errors import CheckpointError, ConfigError, OutputError

# Fields that may change between a run and its resumption.
RESUMABLE_FIELDS = {("train", "max_epoch"), ("train", "progress_bar"),
                    ("train", "strategy"), ("train", "jit_compile"),
                    ("train", "steps_per_loop"), ("data", "data_dir"),
                    ("data", "source"), ("data", "cache_dir"),
                    ("data", "used_source"), ("train", "eval_every_epochs"),
                    ("train", "summary_every_epochs"),
                    ("train", "test_every_epochs"),
                    ("train", "checkpoint_every_epochs"),
                    ("train", "recipe")}
# Differences a refusal names (all of them are logged).
SHOWN_DIFFERENCES = 1


def prepare_save_path(config: ExperimentConfig) -> bool:
  """Creates SAVE_PATH and writes config.json; True when resuming a run.

  A SAVE_PATH that holds a run with a different configuration is refused, so
  no run overwrites another's checkpoints.
  """
  path = config.save_path
  try:
    os.makedirs(path, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path):
      pass
  except OSError as e:
    raise unwritable(path, e) from e
  config_path = os.path.join(path, CONFIG_FILENAME)
  resuming = os.path.exists(config_path)
  if resuming:
    previous = ExperimentConfig.load(config_path)
    diff = _differences(previous, config)
    if diff:
      shown = "; ".join(diff[:SHOWN_DIFFERENCES]) + (
          f"; {len(diff) - SHOWN_DIFFERENCES} more"
          if len(diff) > SHOWN_DIFFERENCES else "")
      raise OutputError(
          f"SAVE_PATH {path} holds another configuration ({shown}); use a "
          "new --save_path, or the same flags to resume.",
          detail="; ".join(diff))
  config.save(config_path)
  return resuming


def unwritable(path: str, error: OSError) -> OutputError:
  """The error for a SAVE_PATH that cannot be created or written."""
  return OutputError(f"Cannot write to SAVE_PATH {path!r} "
                     f"({error.strerror or type(error).__name__}); choose a "
                     "writable --save_path.", detail=repr(error))


def _differences(old: ExperimentConfig, new: ExperimentConfig) -> list:
  """'section.field: old -> new' for every field that may not change (a
  nested dict, such as the optimisers, field by field)."""
  out = []
  for section in ("data", "prior", "model", "train"):
    a = dataclasses.asdict(getattr(old, section))
    b = dataclasses.asdict(getattr(new, section))
    for key in sorted(set(a) | set(b)):
      if (section, key) not in RESUMABLE_FIELDS:
        out += _changes(f"{section}.{key}", a.get(key), b.get(key))
  if old.mode != new.mode:
    out.append(f"mode: {old.mode!r} -> {new.mode!r}")
  return out


def _changes(name: str, old, new) -> list:
  if old == new:
    return []
  if isinstance(old, dict) and isinstance(new, dict):
    return [change for key in sorted(set(old) | set(new))
            for change in _changes(f"{name}.{key}", old.get(key),
                                   new.get(key))]
  return [f"{name}: {old!r} -> {new!r}"]


# The sections of the configuration that make the trained model: a field of
# theirs given explicitly must agree with the run.
MODEL_SECTIONS = ("model", "prior")


def run_config(config: ExperimentConfig,
               explicit: frozenset = frozenset()) -> ExperimentConfig:
  """The configuration a run in `config.save_path` was trained with.

  Sampling and figures must use the trained model's shape, so they read it
  from SAVE_PATH/config.json. Fields of `config` named in `explicit`
  ("section.field", e.g. "model.ncode": those the user set) that are in
  MODEL_SECTIONS and contradict it are an error; data settings come from
  `config`.
  """
  path = os.path.join(config.save_path, CONFIG_FILENAME)
  if not os.path.exists(path):
    raise CheckpointError(f"No run in {config.save_path} ({CONFIG_FILENAME} is "
                          "missing); train first or fix save_path.")
  saved = ExperimentConfig.load(path)
  for name in sorted(explicit):
    section, _, field = name.partition(".")
    if section not in MODEL_SECTIONS:
      continue
    given = getattr(getattr(config, section), field)
    trained = getattr(getattr(saved, section), field)
    if given != trained:
      raise ConfigError(f"{name} {given} contradicts the run in "
                        f"{config.save_path}, trained with {trained}.")
  return dataclasses.replace(saved, save_path=config.save_path,
                             data=config.data)
