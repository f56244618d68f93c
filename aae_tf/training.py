"""Training a run end to end: data, counts, the trainer, export, figures.

`train_and_evaluate(config)` is what the command line, the benchmarks and
the tests' tiny runs all call; `restore_model` rebuilds a trained mode from
one of its checkpoints.
"""

from __future__ import annotations

import collections
import contextlib
import dataclasses
import glob
import os
from typing import Callable, Optional

from absl import logging
import tensorflow as tf

from aae_tf import data as data_lib
from aae_tf import mnist
from aae_tf import celeba, distribute, evaluation, export, summaries
from aae_tf import checkpoint_files, outputs, run_dir, run_lock
from aae_tf import trainer as trainer_lib
from aae_tf.config import ExperimentConfig
from aae_tf.errors import CheckpointError, ConfigError
from aae_tf.modes import build_model

LOSS_CURVES_FILENAME = "loss_curves.png"
LATEST = "latest"
# What a training run leaves: the trained mode, its trainer and the
# SavedModel's path ("" on a non-chief worker or without export).
Run = collections.namedtuple("Run", ["model", "trainer", "saved_model"])


def load_data(config: ExperimentConfig) -> data_lib.MnistSplits:
  """MNIST as configured, optionally cut to the first max_train_examples."""
  d = config.data
  if d.dataset == "celeba":
    splits = celeba.load_celeba(d.data_dir, config.model.image_shape[0],
                                d.max_images, d.cache_dir)
  else:
    splits = mnist.load_mnist(d.data_dir, d.source, d.cache_dir,
                                 d.verify_checksums, d.validation_size)
  if d.max_train_examples is not None:
    n = d.max_train_examples
    available = len(splits.train.labels)
    if n > available:
      raise ConfigError(
          f"data.max_train_examples {n} is more than the {available} "
          f"training images (after data.validation_size "
          f"{d.validation_size}); choose at most "
          f"{available}.")
    splits = dataclasses.replace(
        splits, train=data_lib.Split(splits.train.images[:n],
                                     splits.train.labels[:n]))
  return splits


def check_counts(config: ExperimentConfig,
                 splits: data_lib.MnistSplits) -> None:
  """Counts the user names are used or refused, never clamped."""
  train = config.train
  available = len(splits.train.labels)
  if train.num_labeled is not None:
    if train.num_labeled > available:
      raise ConfigError(
          f"train.num_labeled {train.num_labeled} is more than the "
          f"{available} training images (after data.max_train_examples and "
          "data.validation_size); "
          "leave it out to use every label.")
    if config.classifies and train.labeled_batch_size > train.num_labeled:
      raise ConfigError(
          f"train.labeled_batch_size {train.labeled_batch_size} is more "
          "than the "
          f"{train.num_labeled} labeled images; choose at most "
          f"{train.num_labeled}.")


def steps_per_epoch(config: ExperimentConfig, num_train: int) -> int:
  steps = num_train // config.train.batch_size
  if steps < 1:
    raise ConfigError(f"train.batch_size {config.train.batch_size} is larger "
                      f"than the {num_train} training images.")
  return steps


def train_and_evaluate(config: ExperimentConfig,
                       splits: Optional[data_lib.MnistSplits] = None,
                       on_epoch_end: Optional[Callable[[int], None]] = None,
                       export_model: bool = True) -> Run:
  """Trains (resuming when SAVE_PATH holds this run), evaluating as it goes,
  then exports the SavedModel and the run's figures.

  Args:
    config: The run.
    splits: The data; None loads what `config.data` names.
    on_epoch_end: Called with the epoch number after each epoch.
    export_model: Write saved_model/ and the end-of-run figures.
  """
  config.validate()
  # A multi-worker strategy must exist before other TensorFlow work.
  strategy = distribute.make_strategy(config.train.strategy)
  chief = distribute.is_chief(strategy)
  splits = splits or load_data(config)
  check_counts(config, splits)
  logging.info("Training %s on %s from %s", config.mode, config.data.dataset,
               splits.source)
  config = dataclasses.replace(config, data=dataclasses.replace(
      config.data, used_source=splits.source))
  n_steps = steps_per_epoch(config, len(splits.train.labels))
  with strategy.scope():
    model = build_model(config)
  trainer = trainer_lib.Trainer(model, config, n_steps, strategy)
  trainer.check_plateau_metric(splits)  # Before SAVE_PATH is written.
  # One writer per SAVE_PATH, from before its first write to the end.
  lock = (run_lock.RunLock(config.save_path) if chief
          else contextlib.nullcontext())
  with lock:
    return _train_and_export(model, trainer, config, splits, chief,
                             on_epoch_end, export_model)


def _train_and_export(model, trainer: trainer_lib.Trainer,
                      config: ExperimentConfig, splits: data_lib.MnistSplits,
                      chief: bool, on_epoch_end, export_model: bool) -> Run:
  """The writing part of `train_and_evaluate`, under SAVE_PATH's lock."""
  resuming = run_dir.prepare_save_path(config) if chief else False
  restored = trainer.restore()
  if resuming and not restored:
    logging.info("No checkpoint in %s yet: starting from epoch 0.",
                 config.save_path)
  logging.info("%s", plan_line(config, trainer.steps_per_epoch,
                               int(trainer.epoch.numpy())))
  with outputs.write_errors("the run's summaries", config.save_path,
                            then="Free space and run the same command to "
                            "resume from the last checkpoint."):
    trainer.fit(splits, on_epoch_end=on_epoch_end)
  if not chief or not export_model:
    return Run(model, trainer, "")
  with trainer.averaged():
    path = export.export_saved_model(model, config.save_path)
    logging.info("SavedModel written to %s", path)
    write_run_figures(model, config, splits)
  return Run(model, trainer, path)


def plan_line(config: ExperimentConfig, steps: int, epoch: int) -> str:
  """What a run is about to do, in one line."""
  train = config.train
  labels = ("" if config.mode not in ("label", "semisupervised",
                                      "dimreduction") else
            "all labels, " if train.num_labeled is None else
            f"{train.num_labeled} labels, ")
  start = f", from epoch {epoch}" if epoch else ""
  return (f"Plan: {config.mode}, recipe {train.recipe or 'custom'}, "
          f"{labels}{train.max_epoch} epochs of {steps} steps{start}; "
          f"SAVE_PATH {config.save_path}")


def write_run_figures(model, config: ExperimentConfig,
                      splits: data_lib.MnistSplits) -> None:
  """After training: loss_curves.png and the test codes for the projector."""
  logdir = os.path.join(config.save_path, trainer_lib.SUMMARY_DIR)
  summaries.write_loss_curves(logdir, os.path.join(config.save_path,
                                                   LOSS_CURVES_FILENAME))
  codes = evaluation.encode_split(model, splits.test,
                                  config.train.eval_batch_size)
  summaries.write_projector(logdir, codes, splits.test.labels)


def restore_model(config: ExperimentConfig, load: str):
  """Builds the mode and restores checkpoint `load` (an epoch or 'latest')."""
  config.validate()
  model = build_model(config)
  directory = trainer_lib.checkpoint_dir(config.save_path)
  path = checkpoint_path(directory, load)
  average = trainer_lib.make_weight_average(model, config)
  extra = {} if average is None else {"average": average.checkpoint()}
  trainer_lib.restore_checkpoint(
      tf.train.Checkpoint(**extra, **model.networks), path, partial=True)
  if average is not None:  # The model infers with the averaged weights.
    average.load_into_networks()
  logging.info("Restored %s%s", path,
               "" if average is None else " (averaged weights)")
  return model


def checkpoint_path(directory: str, load: str) -> str:
  """The checkpoint `--load` names: epoch N, or 'latest' (the newest that
  can be read). One that is missing or damaged is a CheckpointError that
  says what is wrong and lists the checkpoints whose files are all there."""
  prefix = trainer_lib.CHECKPOINT_PREFIX
  state = tf.train.get_checkpoint_state(directory)
  listed = list(state.all_model_checkpoint_paths) if state else []
  whole = ", ".join(map(str, checkpoint_files.complete(directory, prefix)))
  if load == LATEST:
    path = checkpoint_files.newest_readable(
        sorted(listed, key=checkpoint_files.number, reverse=True), directory)
    if not path:
      raise CheckpointError(f"No checkpoint in {directory}; train first "
                            "(--train) with this --save_path.")
    return path
  if not str(load).isdigit():
    raise ConfigError(f"--load takes an epoch number or 'latest', got "
                      f"{load!r}.")
  path = os.path.join(directory, f"{prefix}-{int(load)}")
  if path not in listed and not glob.glob(glob.escape(path) + ".*"):
    raise CheckpointError(f"No checkpoint {load} in {directory}; "
                          f"available: {whole or 'none'}.")
  reason, detail = checkpoint_files.problem(path)
  if reason:
    raise CheckpointError(f"Checkpoint {load} in {directory} {reason}; "
                          f"checkpoints on disk: {whole or 'none'}.",
                          detail=detail)
  return path
