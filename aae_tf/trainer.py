"""The one training loop for every mode.

Compiled multi-step calls (`for _ in tf.range(n)` around an XLA-compiled step),
`keras.metrics.Mean` per phase metric written at loop boundaries, a
`tf.train.Checkpoint` of networks, optimisers, random state and epoch, managed
by a `tf.train.CheckpointManager` that restores automatically.
"""

from __future__ import annotations

import contextlib
import math
import os
import shutil
import signal
import tempfile
import threading
import time
from typing import Callable, Dict, Optional, Tuple

from absl import logging
import keras
import numpy as np
import tensorflow as tf

from aae_tf import averaging
from aae_tf import checkpoint_files
from aae_tf import data as data_lib
from aae_tf import distribute
from aae_tf import outputs
from aae_tf import summaries
from aae_tf.config import ExperimentConfig, OptimizerConfig
from aae_tf.errors import (CheckpointError, ConfigError, Interrupted,
                           TrainingError, gist)
from aae_tf.phases import run_phases

CHECKPOINT_DIR = "checkpoints"
CHECKPOINT_PREFIX = "ckpt"
# Checkpoints of an interrupted run, numbered by global step, in a folder of
# their own so that ckpt-N in CHECKPOINT_DIR always means epoch N.
INTERRUPTED_DIR = "interrupted"
SIGNALS = (signal.SIGINT, signal.SIGTERM)
SUMMARY_DIR = "tensorboard"
STABILITY_TAG = "stability/objective_std"
# Runs longer than this many epochs are reminded after each epoch that
# max_epoch sets their length.
LONG_RUN_EPOCHS = 300
# What reading a damaged or foreign checkpoint raises.
CHECKPOINT_ERRORS = checkpoint_files.READ_ERRORS


# Epoch ends in a row at which the model reports a training problem before
# the run stops (Trainer._stop_if_stuck).
STUCK_EPOCHS = 2


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
    return _rate(self.schedule, self.step) * self.scale

  def get_config(self):
    return {"schedule": self.schedule, "step": int(self.step.numpy()),
            "scale": float(self.scale.numpy())}


def optimizer_config(config: ExperimentConfig, phase) -> OptimizerConfig:
  """The settings of `phase`'s optimiser: by its name, else by its role."""
  optimizers = config.train.optimizers
  return optimizers.get(phase.name, optimizers[phase.role])


def learning_rate_schedule(opt: OptimizerConfig, steps_per_epoch: int,
                           max_epoch: Optional[int] = None):
  """The rate of `opt` at each global step (counted from 0).

  Piecewise constant: the base rate, divided after each decay epoch (step s
  uses the rate of epoch s // steps_per_epoch; Keras keeps a value up to and
  including its boundary). With `opt.anneal`, also annealed over the end of
  a run of `max_epoch` epochs (`AnnealedSchedule`); with `opt.warmup_epochs`,
  warmed up over its start (`WarmUpSchedule`).
  """
  boundaries = [int(e * steps_per_epoch) - 1 for e in opt.decay_epochs]
  values = [opt.learning_rate * opt.decay_factor**i
            for i in range(len(boundaries) + 1)]
  schedule = (keras.optimizers.schedules.PiecewiseConstantDecay(
      boundaries, values) if boundaries else opt.learning_rate)
  if opt.anneal != "none":
    if not max_epoch:
      raise ValueError("An annealed rate needs the run's max_epoch.")
    schedule = AnnealedSchedule(schedule, opt.anneal,
                                max_epoch * steps_per_epoch, opt.anneal_start,
                                opt.anneal_final)
  warmup_steps = math.ceil(opt.warmup_epochs * steps_per_epoch)
  if warmup_steps > 0:
    schedule = WarmUpSchedule(schedule, warmup_steps)
  return schedule


def _rate(schedule, step) -> tf.Tensor:
  """A schedule's rate at `step` (a constant rate is its own schedule)."""
  base = (schedule(step) if callable(schedule)
          else tf.constant(schedule, tf.float32))
  return tf.cast(base, tf.float32)


class WarmUpSchedule(keras.optimizers.schedules.LearningRateSchedule):
  """A rate times min(1, (step + 1) / `steps`): 1 / steps of it at step 0,
  all of it from step `steps - 1` on."""

  def __init__(self, schedule, steps: int):
    self.schedule = schedule
    self.steps = int(steps)

  def __call__(self, step):
    factor = tf.minimum(1.0, (tf.cast(step, tf.float32) + 1.0) / self.steps)
    return _rate(self.schedule, step) * factor

  def get_config(self):
    return {"steps": self.steps}


class AnnealedSchedule(keras.optimizers.schedules.LearningRateSchedule):
  """A rate times a factor that is 1 up to step `start * total_steps`, then
  falls (linearly, or along half a cosine) to `final` at the last step,
  `total_steps - 1`."""

  def __init__(self, schedule, kind: str, total_steps: int, start: float,
               final: float):
    self.schedule = schedule
    self.kind = kind
    self.total_steps = int(total_steps)
    self.start_step = int(start * total_steps)
    self.final = final

  def factor(self, step) -> tf.Tensor:
    """The annealing factor at `step`."""
    span = float(max(self.total_steps - 1 - self.start_step, 1))
    t = tf.clip_by_value(
        (tf.cast(step, tf.float32) - self.start_step) / span, 0.0, 1.0)
    if self.kind == "cosine":
      t = 0.5 * (1.0 - tf.cos(math.pi * t))
    return 1.0 - (1.0 - self.final) * t

  def __call__(self, step):
    return _rate(self.schedule, step) * self.factor(step)

  def get_config(self):
    return {"kind": self.kind, "total_steps": self.total_steps,
            "start_step": self.start_step, "final": self.final}


def make_optimizer(opt: OptimizerConfig, schedule,
                   name: str) -> keras.optimizers.Optimizer:
  """A Keras optimiser of `opt.kind` following `schedule`."""
  if opt.kind == "sgd":
    return keras.optimizers.SGD(schedule, momentum=opt.momentum,
                                global_clipnorm=opt.clip_norm,
                                name=f"{name}_sgd")
  return keras.optimizers.Adam(schedule, beta_1=opt.momentum,
                               global_clipnorm=opt.clip_norm,
                               name=f"{name}_adam")


class Trainer:
  """Trains a mode (see `aae_tf.modes`) and keeps its checkpoints."""

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
    # Learning-rate drops on validation plateaus scale every
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
          learning_rate_schedule(opt, steps_per_epoch,
                                 config.train.max_epoch),
          self.step, self.lr_scale)
      self.optimizers[phase.name] = make_optimizer(opt, schedule, phase.name)
      phase.build(self.optimizers[phase.name], steps_per_epoch)
    # Keras keeps dropout and noise seeds in non-trainable variables that a
    # Checkpoint of the models alone misses; list them so resumption is exact.
    layer_state = [v for net in model.networks.values()
                   for v in net.non_trainable_variables]
    self.average = make_weight_average(model, config)
    extra = ({} if self.average is None
             else {"average": self.average.checkpoint()})
    self.checkpoint = tf.train.Checkpoint(
        epoch=self.epoch, step=self.step, rng=model.rng,
        lr_scale=self.lr_scale, best_validation=self.best_validation,
        epochs_without_improvement=self.epochs_without_improvement,
        layer_state=layer_state, optimizers=dict(self.optimizers),
        **extra, **model.networks)
    # Every worker saves (the save is collective); only the chief's copy is
    # kept in SAVE_PATH, the others go to a temporary folder.
    directory = (checkpoint_dir(config.save_path) if self.chief else
                 tempfile.mkdtemp(prefix="aae_tf_worker_checkpoints_"))
    self.manager = tf.train.CheckpointManager(
        self.checkpoint, directory, max_to_keep=config.train.max_checkpoints,
        checkpoint_name=CHECKPOINT_PREFIX)
    self.interrupt_manager = tf.train.CheckpointManager(
        self.checkpoint, os.path.join(directory, INTERRUPTED_DIR),
        max_to_keep=1, checkpoint_name=CHECKPOINT_PREFIX)
    self._stop_signal = None  # Set by SIGINT / SIGTERM during fit().
    self._stuck_epochs = 0  # Epoch ends in a row with a training problem.
    # A multi-worker cluster checkpoints on preemption with TensorFlow's own
    # handler, at the same step on every worker.
    resolver = getattr(self.strategy, "cluster_resolver", None)
    self.preemption = (
        tf.distribute.experimental.PreemptionCheckpointHandler(
            resolver, self.interrupt_manager)
        if isinstance(self.strategy,
                      tf.distribute.MultiWorkerMirroredStrategy) else None)
    # XLA cannot compile the cross-replica gradient sum: only one replica.
    jit = (config.train.jit_compile
           and self.strategy.num_replicas_in_sync == 1)
    self._step_fn = tf.function(self._train_step, jit_compile=jit)
    self._loop_fn = tf.function(self._train_loop)
    self._eval_fn = tf.function(self._eval_step, jit_compile=jit)
    self._eval_pass_fn = tf.function(self._eval_pass)
    self._eval_keys = None  # Names of model.eval_metrics, read once.
    self._plateau_metric_checked = False
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

  def _train_loop(self, iterator, num_steps):
    for _ in tf.range(num_steps):
      outputs = self.strategy.run(
          self._step_fn, args=(next(iterator), self.step.read_value()))
      self.step.assign_add(1)
      if self.average is not None:
        self.average.update()
      for key, value in outputs.items():
        value = self.strategy.reduce(tf.distribute.ReduceOp.MEAN, value,
                                     axis=None)
        self.metrics[key].update_state(value)
        if key == self.objective_key:
          self.objective_window.assign(tf.concat(
              [self.objective_window[1:], [value]], axis=0))

  def _eval_step(self, batch):
    return self.model.eval_metrics(batch)

  def _eval_pass(self, dataset, keys):
    """Batch-size-weighted means of the eval metrics over `dataset`, in one
    compiled loop (no host round trip per batch)."""
    totals = {k: tf.constant(0.0) for k in keys}
    count = tf.constant(0.0)
    for batch in dataset:
      n = tf.cast(tf.shape(batch["label"])[0], tf.float32)
      values = self._eval_fn(batch)
      totals = {k: totals[k] + values[k] * n for k in keys}
      count += n
    return {k: totals[k] / count for k in keys}

  # -- Host-side loop. --

  def averaged(self):
    """A context in which the networks hold their weight average (when the
    run keeps one); the raw weights come back after it."""
    if self.average is None:
      return contextlib.nullcontext()
    return self.average.swapped()

  def restore(self) -> Optional[str]:
    """Restores the newest checkpoint (by global step, periodic or written on
    an interrupt) that can be read, if any; returns its path. Newer ones
    that cannot be read are skipped, with a warning saying why."""
    for manager in (self.manager, self.interrupt_manager):
      checkpoint_files.remove_leftovers(manager.directory, CHECKPOINT_PREFIX)
    # Periodic ckpt-N ends epoch N; an interrupt's ckpt-S is at step S.
    steps = {p: checkpoint_files.number(p) * self.steps_per_epoch
             for p in self.manager.checkpoints}
    steps.update({p: checkpoint_files.number(p)
                  for p in self.interrupt_manager.checkpoints})
    latest = checkpoint_files.newest_readable(
        sorted(steps, key=steps.get, reverse=True), self.manager.directory)
    if latest:
      restore_checkpoint(self.checkpoint, latest)
      logging.info("Restored %s (step %d, epoch %d).", latest,
                   int(self.step.numpy()), int(self.epoch.numpy()))
    return latest

  def save(self, epoch: int) -> str:
    """Writes ckpt-EPOCH; a failed write removes its partial files and leaves
    the previous one in force."""
    path = self._write_checkpoint(
        self.manager, epoch, "Free disk space and run the same command "
        "again to resume.")
    logging.info("Saved %s", path)
    # A newer periodic checkpoint supersedes one written on an interrupt.
    shutil.rmtree(self.interrupt_manager.directory, ignore_errors=True)
    return path

  def _save_interrupted(self) -> str:
    """Writes the checkpoint of the current step after an interrupt."""
    step = int(self.step.numpy())
    return self._write_checkpoint(self.interrupt_manager, step,
                                  f"Interrupted at step {step}.")

  def _write_checkpoint(self, manager: tf.train.CheckpointManager,
                        number: int, then: str) -> str:
    """`manager.save(number)`; a failed write removes its partial files and
    is an OutputError naming the checkpoint kept, then `then`."""
    listed = any(checkpoint_files.number(p) == number
                 for p in manager.checkpoints)
    needed = checkpoint_files.expected_size(self.checkpoint,
                                            self.manager.latest_checkpoint)
    try:
      return manager.save(checkpoint_number=number)
    except (OSError, tf.errors.OpError) as e:
      checkpoint_files.remove_partial_save(manager.directory,
                                           CHECKPOINT_PREFIX, number, listed)
      kept = self.manager.latest_checkpoint
      raise outputs.write_error(
          f"{CHECKPOINT_PREFIX}-{number}", manager.directory, e, needed,
          f"{os.path.basename(kept) if kept else 'No checkpoint'} is kept. "
          f"{then}") from e

  def _on_signal(self, signum, frame) -> None:
    """First SIGINT / SIGTERM: stop at the next loop boundary. A second one
    (for example while the checkpoint is written): exit at once."""
    del frame
    if self._stop_signal is not None:
      os._exit(128 + signum)  # pylint: disable=protected-access
    self._stop_signal = signum
    logging.info("%s received: stopping after the current steps.",
                 signal.Signals(signum).name)

  def _install_signal_handlers(self) -> dict:
    """Our handlers for SIGNALS (main thread, single-process runs only);
    returns the previous ones."""
    if (self.preemption is not None or
        threading.current_thread() is not threading.main_thread()):
      return {}
    return {s: signal.signal(s, self._on_signal) for s in SIGNALS}

  def evaluate(self, split: data_lib.Split) -> Dict[str, float]:
    """Means of `model.eval_metrics` over a split, weighted by batch size."""
    dataset = data_lib.eval_dataset(split, self.config.train.eval_batch_size)
    values = self._eval_pass_fn(dataset, self._eval_metric_names(dataset))
    return {k: float(v) for k, v in values.items()}

  def _eval_metric_names(self, dataset: tf.data.Dataset) -> Tuple[str, ...]:
    """Names of `model.eval_metrics`, from the traced outputs (nothing run)."""
    if self._eval_keys is None:
      self._eval_keys = tuple(sorted(self._eval_fn.get_concrete_function(
          dataset.element_spec).structured_outputs))
    return self._eval_keys

  def check_plateau_metric(self, splits: data_lib.MnistSplits) -> None:
    """Raises ConfigError if plateau drops watch a metric the epochs will not
    report; run before anything is trained or written (the mode's per-epoch
    metrics are computed once, only when the metric is not a per-batch one)."""
    if (self.config.train.lr_plateau_patience is None or
        self._plateau_metric_checked):
      return
    metric = self.config.train.lr_plateau_metric
    dataset = data_lib.eval_dataset(splits.validation,
                                    self.config.train.eval_batch_size)
    known = {f"validation/{k}" for k in self._eval_metric_names(dataset)}
    if metric not in known:
      known.update(k for k in self.model.epoch_metrics(splits)
                   if k.startswith("validation/"))
    if metric not in known:
      raise ConfigError(f"--lr_plateau_metric {metric!r} is not a validation "
                       f"metric of {self.config.mode}; it has: "
                       f"{', '.join(sorted(known))}.")
    self._plateau_metric_checked = True

  def _update_plateau(self, results: Dict[str, float]) -> None:
    """Divides the learning rate when a validation metric stops improving."""
    train = self.config.train
    if train.lr_plateau_patience is None:
      return
    metric = train.lr_plateau_metric
    value = results[metric]
    if value < float(self.best_validation.numpy()):
      self.best_validation.assign(value)
      self.epochs_without_improvement.assign(0)
      return
    self.epochs_without_improvement.assign_add(1)
    if int(self.epochs_without_improvement.numpy()) >= train.lr_plateau_patience:
      self.lr_scale.assign(self.lr_scale * train.lr_plateau_factor)
      self.epochs_without_improvement.assign(0)
      logging.info("%s has not improved for %d epochs: learning rates x%g "
                   "(now x%g).", metric, train.lr_plateau_patience,
                   train.lr_plateau_factor, float(self.lr_scale.numpy()))

  def epoch_results(self, splits: data_lib.MnistSplits,
                    validation: bool = True,
                    test: bool = True) -> Dict[str, float]:
    """Held-out metrics after an epoch: validation (with the mode's own epoch
    metrics) and test (reported only, never used for a choice)."""
    results = {}
    chosen = (("validation", splits.validation, validation),
              ("test", splits.test, test))
    for name, split, wanted in chosen:
      if wanted:
        for key, value in self.evaluate(split).items():
          results[f"{name}/{key}"] = value
    if validation:
      results.update(self.model.epoch_metrics(splits))
    return results

  def fit(self, splits: data_lib.MnistSplits,
          on_epoch_end: Optional[Callable[[int], None]] = None) -> None:
    """Trains from the current epoch to `max_epoch`, writing summaries."""
    train = self.config.train
    writer = (tf.summary.create_file_writer(
        os.path.join(self.config.save_path, SUMMARY_DIR)) if self.chief
              else tf.summary.create_noop_writer())
    # An interrupted run resumes inside its epoch, at the same batch.
    start, offset = divmod(int(self.step.numpy()), self.steps_per_epoch)
    if start >= train.max_epoch:
      logging.info("Already trained for %d epochs.", start)
      return
    self.check_plateau_metric(splits)
    eval_images = summaries.fixed_eval_batch(splits.validation, train)
    with writer.as_default(step=self.step):
      summaries.write_hparams(self.config)
    self._stop_signal = None  # A stop ends one fit(), not the next.
    self._stuck_epochs = 0
    previous_handlers = self._install_signal_handlers()
    try:
      self._fit_epochs(splits, start, offset, writer, eval_images,
                       on_epoch_end)
    finally:
      for signum, handler in previous_handlers.items():
        signal.signal(signum, handler)
      writer.close()

  def _fit_epochs(self, splits, start: int, offset: int, writer, eval_images,
                  on_epoch_end) -> None:
    train = self.config.train
    durations = []
    for epoch in range(start, train.max_epoch):
      began = time.monotonic()
      dataset = self.model.train_dataset(splits.train, seed=train.seed + epoch)
      if offset:
        dataset = dataset.skip(offset)
      self._run_epoch(iter(distribute.distribute(self.strategy, dataset)),
                      epoch, writer, done=offset)
      offset = 0
      self._stop_if_stuck(eval_images[0], epoch)
      self.epoch.assign(epoch + 1)
      last = epoch + 1 == train.max_epoch
      validation = last or (epoch + 1) % train.eval_every_epochs == 0
      test = last or (train.test_every_epochs > 0 and
                      (epoch + 1) % train.test_every_epochs == 0)
      with self.averaged():
        results = self.epoch_results(splits, validation, test)
        with writer.as_default(step=self.step):
          for key, value in results.items():
            tf.summary.scalar(key, value)
          if last or (epoch + 1) % train.summary_every_epochs == 0:
            # Summaries sample the prior with the model's generator; putting
            # its state back keeps training independent of their cadence.
            state = tf.identity(self.model.rng.state)
            summaries.write_epoch_summaries(self.model, eval_images,
                                            splits.validation, train)
            self.model.rng.reset(state)
      if validation:
        self._update_plateau(results)
      writer.flush()
      logging.info("Epoch %d/%d: %s", epoch + 1, train.max_epoch,
                   ", ".join(f"{k}={v:.4f}" for k, v in results.items())
                   or "trained")
      if last or (epoch + 1) % train.checkpoint_every_epochs == 0:
        self.save(epoch + 1)
      durations.append(time.monotonic() - began)
      logging.info("%s", time_left_line(epoch + 1, train.max_epoch, durations))
      if on_epoch_end is not None:
        on_epoch_end(epoch + 1)
      self._stop_if_signalled(epoch)

  def _stop_if_stuck(self, images: tf.Tensor, epoch: int) -> None:
    """Stops a run that cannot learn any more: the model's
    `training_problem` on held-out `images`, with the raw weights, at
    STUCK_EPOCHS epoch ends in a row (input noise or dropout could still
    wake a layer that is off for the clean images)."""
    problem = self.model.training_problem(images)
    self._stuck_epochs = 0 if problem is None else self._stuck_epochs + 1
    if self._stuck_epochs < STUCK_EPOCHS:
      return
    raise TrainingError(
        f"Training stopped in epoch {epoch + 1} (step "
        f"{int(self.step.numpy())}): {problem}, at the end of "
        f"{STUCK_EPOCHS} epochs in a row. Resuming cannot help and this "
        "epoch is not saved; train again in a new --save_path with another "
        "--seed or with the rates warmed up (--warmup_epochs 1, longer "
        "where the recipe warms up already; docs/troubleshooting.md).")

  def _stop_if_signalled(self, epoch: int) -> None:
    """After a SIGINT / SIGTERM: checkpoint this step and stop."""
    signum = self._stop_signal
    if signum is None:
      return
    path = self._save_interrupted()
    step = int(self.step.numpy())
    raise Interrupted(
        f"{signal.Signals(signum).name}: stopped at step {step} (epoch "
        f"{epoch + 1}, step {step - epoch * self.steps_per_epoch} of "
        f"{self.steps_per_epoch}); checkpoint {path}. Run the same command "
        "to continue.", signum)

  def _run_epoch(self, iterator, epoch: int, writer, done: int = 0) -> None:
    train = self.config.train
    progbar = (keras.utils.Progbar(self.steps_per_epoch,
                                   stateful_metrics=list(self.metrics))
               if train.progress_bar and self.chief else None)
    while done < self.steps_per_epoch:
      n = min(train.steps_per_loop, self.steps_per_epoch - done)
      if self.preemption is not None:
        self.preemption.run(self._loop_fn, iterator, tf.constant(n, tf.int32))
      else:
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
      if done < self.steps_per_epoch:
        self._stop_if_signalled(epoch)


def _duration(seconds: float) -> str:
  """'42 s', '17 min' or '3.5 h'."""
  if seconds < 90:
    return f"{seconds:.0f} s"
  if seconds < 90 * 60:
    return f"{seconds / 60:.0f} min"
  return f"{seconds / 3600:.1f} h"


def time_left_line(done: int, max_epoch: int, durations) -> str:
  """After epoch `done` of `max_epoch`: its time and the time left, from the
  mean epoch of this process (the first one, which compiles, left out once
  there are others)."""
  steady = durations[1:] or durations
  left = (max_epoch - done) * sum(steady) / len(steady)
  line = (f"Epoch {done}/{max_epoch} took {_duration(durations[-1])}; "
          f"about {_duration(left)} left.")
  if max_epoch > LONG_RUN_EPOCHS and done < max_epoch:
    line += " A smaller max_epoch (--maxepoch) shortens the run."
  return line


def make_weight_average(model, config: ExperimentConfig
                        ) -> Optional[averaging.WeightAverage]:
  """The run's average of `model.inference_networks`, or None without one."""
  decay = config.train.weight_average_decay
  if not decay:
    return None
  return averaging.WeightAverage(model.inference_networks, decay)


def restore_checkpoint(checkpoint: tf.train.Checkpoint, path: str,
                       partial: bool = False) -> None:
  """Restores `path` into `checkpoint`; a checkpoint with missing or
  damaged files, or of another model, is a CheckpointError. `partial`: only
  the objects `checkpoint` names (e.g. the networks without optimisers)."""
  reason, detail = checkpoint_files.problem(path)
  if reason:  # Checked first: nothing is half-restored from it.
    raise CheckpointError(f"Checkpoint {path} {reason}.", detail=detail)
  try:
    status = checkpoint.restore(path)
    if partial:
      status = status.expect_partial()
    status.assert_existing_objects_matched()
  except CHECKPOINT_ERRORS as e:
    raise CheckpointError(
        f"Checkpoint {path} belongs to another model ({gist(e, 60)}); use "
        "another --save_path.", detail=f"{type(e).__name__}: {e}") from e


def _current_learning_rate(optimizer) -> float:
  lr = optimizer.learning_rate
  return float(np.asarray(lr))
