"""The one training loop for every mode.

Compiled multi-step calls (`for _ in tf.range(n)` around an XLA-compiled step),
`keras.metrics.Mean` per phase metric written at loop boundaries, a
`tf.train.Checkpoint` of networks, optimisers, random state and epoch, managed
by a `tf.train.CheckpointManager` that restores automatically.
"""

from __future__ import annotations

import math
import os
import tempfile
from typing import Callable, Dict, Optional

from absl import logging
import keras
import numpy as np
import tensorflow as tf

from aae_tf import data as data_lib
from aae_tf import distribute
from aae_tf import summaries
from aae_tf.config import ExperimentConfig, OptimizerConfig
from aae_tf.errors import CheckpointError, OutputError, TrainingError
from aae_tf.phases import run_phases

CHECKPOINT_DIR = "checkpoints"
CHECKPOINT_PREFIX = "ckpt"
SUMMARY_DIR = "tensorboard"
PLATEAU_METRIC = "validation/reconstruction_loss"
STABILITY_TAG = "stability/objective_std"
# What reading a damaged or foreign checkpoint raises.
CHECKPOINT_ERRORS = (tf.errors.OpError, AssertionError, ValueError, IndexError,
                     KeyError)


def checkpoint_dir(save_path: str) -> str:
  return os.path.join(save_path, CHECKPOINT_DIR)


class GlobalStepSchedule(keras.optimizers.schedules.LearningRateSchedule):
  """A phase's learning rate at the loop's global step, times a shared scale.

  Keras calls a schedule with the optimiser's own update count; a phase that
  skips updates (`Phase.every`, balanced training) would then decay late.
  This schedule ignores that count and reads the trainer's step instead. The
  scale is lowered on validation plateaus.
  """

  def __init__(self, schedule, step: tf.Variable, scale: tf.Variable):
    self.schedule = schedule
    self.step = step
    self.scale = scale

  def __call__(self, optimizer_step):
    del optimizer_step  # The global step decides.
    base = (self.schedule(self.step) if callable(self.schedule)
            else tf.constant(self.schedule, tf.float32))
    return tf.cast(base, tf.float32) * self.scale

  def get_config(self):
    return {"schedule": self.schedule, "step": int(self.step.numpy()),
            "scale": float(self.scale.numpy())}


def optimizer_config(config: ExperimentConfig, phase) -> OptimizerConfig:
  """The settings of `phase`'s optimiser: by its name, else by its role."""
  optimizers = config.train.optimizers
  return optimizers.get(phase.name, optimizers[phase.role])


def learning_rate_schedule(opt: OptimizerConfig, steps_per_epoch: int):
  """Piecewise constant in global steps: the base rate, divided after each
  decay epoch (step s, counted from 0, uses the rate of epoch s //
  steps_per_epoch; Keras keeps a value up to and including its boundary)."""
  boundaries = [int(e * steps_per_epoch) - 1 for e in opt.decay_epochs]
  values = [opt.learning_rate * opt.decay_factor**i
            for i in range(len(boundaries) + 1)]
  if not boundaries:
    return opt.learning_rate
  return keras.optimizers.schedules.PiecewiseConstantDecay(boundaries, values)


def make_optimizer(opt: OptimizerConfig, schedule,
                   name: str) -> keras.optimizers.Optimizer:
  """A Keras optimiser of `opt.kind` following `schedule`."""
  if opt.kind == "sgd":
    return keras.optimizers.SGD(schedule, momentum=opt.momentum,
                                name=f"{name}_sgd")
  return keras.optimizers.Adam(schedule, beta_1=opt.momentum,
                               name=f"{name}_adam")


class Trainer:
  """Trains a mode (see `aae_tf.models`) and keeps its checkpoints."""

  def __init__(self, model, config: ExperimentConfig, steps_per_epoch: int,
               strategy: Optional[tf.distribute.Strategy] = None):
    """`model` must have been built under `strategy.scope()`."""
    self.model = model
    self.config = config
    self.steps_per_epoch = steps_per_epoch
    self.strategy = strategy or tf.distribute.get_strategy()
    self.chief = distribute.is_chief(self.strategy)
    with self.strategy.scope():
      self._build(model, config, steps_per_epoch)

  def _build(self, model, config: ExperimentConfig,
             steps_per_epoch: int) -> None:
    self.optimizers: Dict[str, keras.optimizers.Optimizer] = {}
    # Learning-rate drops on validation plateaus (seed 003) scale every
    # phase's schedule; the plateau state is checkpointed.
    self.lr_scale = tf.Variable(1.0, trainable=False, name="lr_scale")
    self.best_validation = tf.Variable(float("inf"), trainable=False,
                                       name="best_validation")
    self.epochs_without_improvement = tf.Variable(
        0, dtype=tf.int64, trainable=False, name="epochs_without_improvement")
    self.epoch = tf.Variable(0, dtype=tf.int64, trainable=False, name="epoch")
    # The global step: steps done so far; every phase's schedule reads it.
    self.step = tf.Variable(0, dtype=tf.int64, trainable=False, name="step")
    self.phases = model.phases()
    for phase in self.phases:
      opt = optimizer_config(config, phase)
      schedule = GlobalStepSchedule(
          learning_rate_schedule(opt, steps_per_epoch), self.step,
          self.lr_scale)
      self.optimizers[phase.name] = make_optimizer(opt, schedule, phase.name)
      phase.build(self.optimizers[phase.name])
    # Keras keeps dropout and noise seeds in non-trainable variables that a
    # Checkpoint of the models alone misses; list them so resumption is exact.
    layer_state = [v for net in model.networks.values()
                   for v in net.non_trainable_variables]
    self.checkpoint = tf.train.Checkpoint(
        epoch=self.epoch, step=self.step, rng=model.rng,
        lr_scale=self.lr_scale, best_validation=self.best_validation,
        epochs_without_improvement=self.epochs_without_improvement,
        layer_state=layer_state, optimizers=dict(self.optimizers),
        **model.networks)
    # Every worker saves (the save is collective); only the chief's copy is
    # kept in SAVE_PATH, the others go to a temporary folder.
    directory = (checkpoint_dir(config.save_path) if self.chief else
                 tempfile.mkdtemp(prefix="aae_tf_worker_checkpoints_"))
    self.manager = tf.train.CheckpointManager(
        self.checkpoint, directory, max_to_keep=config.train.max_checkpoints,
        checkpoint_name=CHECKPOINT_PREFIX)
    # XLA cannot compile the cross-replica gradient sum: only one replica.
    jit = (config.train.jit_compile
           and self.strategy.num_replicas_in_sync == 1)
    self._step_fn = tf.function(self._train_step, jit_compile=jit)
    self._loop_fn = tf.function(self._train_loop)
    self._eval_fn = tf.function(self._eval_step, jit_compile=jit)
    self.metrics = {key: keras.metrics.Mean(f"train/{key}")
                    for phase in self.phases for key in phase.output_names}
    # The last `stability_window` values of the adversarial objective (the
    # code discriminator's loss), for its sliding-window deviation (MAAE).
    objectives = [p.name for p in self.phases if p.objective]
    self.objective_key = f"{objectives[0]}/loss" if objectives else None
    self.objective_window = tf.Variable(
        tf.fill([config.train.stability_window], float("nan")),
        trainable=False, name="objective_window")

  # -- Compiled functions. --

  def _train_step(self, batch, step=None):
    return run_phases(self.phases, batch, step)

  def step_compiler_ir(self, batch):
    """XLA's view of one training step on `batch`, as the loop compiles it
    (with the global step): call the result with stage="hlo" or
    "optimized_hlo". For profiling; it does not train."""
    step = tf.function(self._train_step, jit_compile=True)
    return step.experimental_get_compiler_ir(batch, tf.constant(0, tf.int64))

  def _train_loop(self, iterator, num_steps):
    for _ in tf.range(num_steps):
      outputs = self.strategy.run(
          self._step_fn, args=(next(iterator), self.step.read_value()))
      self.step.assign_add(1)
      for key, value in outputs.items():
        value = self.strategy.reduce(tf.distribute.ReduceOp.MEAN, value,
                                     axis=None)
        self.metrics[key].update_state(value)
        if key == self.objective_key:
          self.objective_window.assign(tf.concat(
              [self.objective_window[1:], [value]], axis=0))

  def _eval_step(self, batch):
    return self.model.eval_metrics(batch)

  # -- Host-side loop. --

  def restore(self) -> Optional[str]:
    """Restores the latest checkpoint, if any; returns its path."""
    latest = self.manager.latest_checkpoint
    if latest:
      try:
        self.checkpoint.restore(latest).assert_existing_objects_matched()
      except CHECKPOINT_ERRORS as e:
        raise CheckpointError(
            f"Checkpoint {latest} is damaged or belongs to another model "
            f"({type(e).__name__}); use another --save_path.") from e
      logging.info("Restored %s (epoch %d).", latest, int(self.epoch.numpy()))
    return latest

  def save(self, epoch: int) -> str:
    """Writes ckpt-EPOCH; a failed write leaves the previous one in force."""
    try:
      path = self.manager.save(checkpoint_number=epoch)
    except (OSError, tf.errors.OpError) as e:
      raise OutputError(
          f"Could not write the checkpoint of epoch {epoch} to "
          f"{self.manager.directory} ({type(e).__name__}: "
          f"{str(e).splitlines()[0] if str(e) else ''}); the previous "
          f"checkpoint ({self.manager.latest_checkpoint or 'none'}) is kept. "
          "Free disk space and run the same command again to resume.") from e
    logging.info("Saved %s", path)
    return path

  def evaluate(self, split: data_lib.Split) -> Dict[str, float]:
    """Means of `model.eval_metrics` over a split, weighted by batch size."""
    totals, count = {}, 0
    for batch in data_lib.eval_dataset(split,
                                           self.config.train.eval_batch_size):
      n = int(batch["label"].shape[0])
      for key, value in self._eval_fn(batch).items():
        totals[key] = totals.get(key, 0.0) + float(value) * n
      count += n
    return {k: v / count for k, v in totals.items()}

  def _update_plateau(self, results: Dict[str, float]) -> None:
    """Divides the learning rate when the validation loss stops improving."""
    train = self.config.train
    if train.lr_plateau_patience is None:
      return
    value = results[PLATEAU_METRIC]
    if value < float(self.best_validation.numpy()):
      self.best_validation.assign(value)
      self.epochs_without_improvement.assign(0)
      return
    self.epochs_without_improvement.assign_add(1)
    if int(self.epochs_without_improvement.numpy()) >= train.lr_plateau_patience:
      self.lr_scale.assign(self.lr_scale * train.lr_plateau_factor)
      self.epochs_without_improvement.assign(0)
      logging.info("%s has not improved for %d epochs: learning rates x%g "
                   "(now x%g).", PLATEAU_METRIC, train.lr_plateau_patience,
                   train.lr_plateau_factor, float(self.lr_scale.numpy()))

  def epoch_results(self, splits: data_lib.MnistSplits) -> Dict[str, float]:
    """Held-out metrics after an epoch: validation and test (reported only,
    never used for a choice) and the mode's own epoch metrics."""
    results = {}
    for name, split in (("validation", splits.validation),
                        ("test", splits.test)):
      for key, value in self.evaluate(split).items():
        results[f"{name}/{key}"] = value
    results.update(self.model.epoch_metrics(splits))
    return results

  def fit(self, splits: data_lib.MnistSplits,
          on_epoch_end: Optional[Callable[[int], None]] = None) -> None:
    """Trains from the current epoch to `max_epoch`, writing summaries."""
    train = self.config.train
    writer = (tf.summary.create_file_writer(
        os.path.join(self.config.save_path, SUMMARY_DIR)) if self.chief
              else tf.summary.create_noop_writer())
    start = int(self.epoch.numpy())
    if start >= train.max_epoch:
      logging.info("Already trained for %d epochs.", start)
      return
    eval_images = summaries.fixed_eval_batch(splits.validation, train)
    with writer.as_default(step=self.step):
      summaries.write_hparams(self.config)
    for epoch in range(start, train.max_epoch):
      dataset = self.model.train_dataset(splits.train, seed=train.seed + epoch)
      self._run_epoch(iter(distribute.distribute(self.strategy, dataset)),
                      epoch, writer)
      self.epoch.assign(epoch + 1)
      results = self.epoch_results(splits)
      self._update_plateau(results)
      with writer.as_default(step=self.step):
        for key, value in results.items():
          tf.summary.scalar(key, value)
        summaries.write_epoch_summaries(self.model, eval_images,
                                        splits.validation, train)
      writer.flush()
      logging.info("Epoch %d/%d: %s", epoch + 1, train.max_epoch,
                   ", ".join(f"{k}={v:.4f}" for k, v in results.items()))
      last = epoch + 1 == train.max_epoch
      if last or (epoch + 1) % train.checkpoint_every_epochs == 0:
        self.save(epoch + 1)
      if on_epoch_end is not None:
        on_epoch_end(epoch + 1)
    writer.close()

  def _run_epoch(self, iterator, epoch: int, writer) -> None:
    train = self.config.train
    progbar = (keras.utils.Progbar(self.steps_per_epoch,
                                   stateful_metrics=list(self.metrics))
               if train.progress_bar and self.chief else None)
    done = 0
    while done < self.steps_per_epoch:
      n = min(train.steps_per_loop, self.steps_per_epoch - done)
      self._loop_fn(iterator, tf.constant(n, tf.int32))
      done += n
      values = {k: float(m.result()) for k, m in self.metrics.items()}
      bad = [k for k, v in values.items() if not math.isfinite(v)]
      if bad:
        raise TrainingError(
            f"{', '.join(bad)} became NaN or Inf in epoch {epoch + 1} (step "
            f"{int(self.step.numpy())}); training stopped and the last good "
            f"checkpoint ({self.manager.latest_checkpoint or 'none'}) is kept. "
            "Lower --lr or the loss weights and run again.")
      with writer.as_default(step=self.step):
        for key, value in values.items():
          tf.summary.scalar(f"train/{key}", value)
        for name, opt in self.optimizers.items():
          tf.summary.scalar(f"learning_rate/{name}",
                            _current_learning_rate(opt))
        window = self.objective_window.numpy()
        if not np.isnan(window).any():
          tf.summary.scalar(STABILITY_TAG, float(np.std(window)))
      for metric in self.metrics.values():
        metric.reset_state()
      if progbar is not None:
        progbar.update(done, list(values.items()))


def _current_learning_rate(optimizer) -> float:
  lr = optimizer.learning_rate
  return float(np.asarray(lr))
