"""Training phases and the one generic step that runs them in order.

A mode is its networks plus an ordered list of :class:`Phase`: a loss, the
networks whose variables it trains, a weight and a role; the trainer gives
each phase its own optimiser, configured by phase name or role. The step runs
each phase with its own `GradientTape` and optimiser, so every phase sees the
weights the previous phase just updated (the paper's per-minibatch order).
"""

from __future__ import annotations

import dataclasses
from typing import Callable, Dict, Optional, Sequence, Tuple

import keras
import tensorflow as tf

Batch = Dict[str, tf.Tensor]
Metrics = Dict[str, tf.Tensor]
# A phase loss maps a batch to (unweighted loss, extra metrics).
LossFn = Callable[[Batch], Tuple[tf.Tensor, Metrics]]
# exp(-RAMP_UP_SHARPNESS (1 - t)^2): Laine and Aila's ramp-up of a weight.
RAMP_UP_SHARPNESS = 5.0


@dataclasses.dataclass
class Phase:
  """One optimisation phase of a minibatch step."""
  name: str
  loss_fn: LossFn
  networks: Sequence[keras.Model]  # It trains exactly their variables.
  role: str  # One of config.ROLES: picks the optimiser settings.
  weight: float = 1.0
  # The adversarial objective whose sliding-window deviation is logged as
  # the stability metric (at most one phase of a mode).
  objective: bool = False
  optimizer: Optional[keras.optimizers.Optimizer] = None  # Set by the trainer.
  # Names of the extra metrics `loss_fn` returns beside the loss.
  metrics: Tuple[str, ...] = ()
  # Narrows the networks' variables to the ones the loss reaches (e.g. the
  # encoder's trunk and class head only); default: all of them.
  select: Optional[Callable[[], list]] = None
  # Balanced training: the update is skipped while this phase's
  # loss at the previous step was below `skip_below` (it is far ahead).
  skip_below: Optional[float] = None
  last_loss: Optional[tf.Variable] = None
  # The update runs at steps 0, every, 2 * every, ... only (the TF1 seed runs
  # the semi-supervised classification phase every ten steps); the loss is
  # still computed and reported at every step.
  every: int = 1
  # The weight rises from (almost) 0 to `weight` over this many epochs of
  # global steps (`ramp_up_factor`); 0: the full weight from the start.
  ramp_up_epochs: float = 0.0
  steps_per_epoch: Optional[int] = None  # Set by the trainer (`build`).

  @property
  def output_names(self) -> list:
    """Keys this phase adds to the step's outputs."""
    names = [f"{self.name}/loss"] + [f"{self.name}/{m}" for m in self.metrics]
    if self.skip_below is not None:
      names.append(f"{self.name}/skipped")
    if self.ramp_up_epochs > 0:
      names.append(f"{self.name}/weight")
    return names

  @property
  def variables(self) -> list:
    if self.select is not None:
      return self.select()
    return [v for net in self.networks for v in net.trainable_variables]

  def build(self, optimizer: keras.optimizers.Optimizer,
            steps_per_epoch: Optional[int] = None) -> None:
    """Takes `optimizer`, creates its slots and the balance state (networks
    must be built; under the strategy's scope); `steps_per_epoch` turns
    `ramp_up_epochs` into global steps."""
    if self.ramp_up_epochs > 0 and not steps_per_epoch:
      raise ValueError(f"Phase {self.name} ramps its weight up over epochs "
                       "and needs steps_per_epoch.")
    self.optimizer = optimizer
    self.steps_per_epoch = steps_per_epoch
    optimizer.build(self.variables)
    if self.skip_below is not None:
      self.last_loss = tf.Variable(float("inf"), trainable=False,
                                   name=f"{self.name}_last_loss")


def run_phases(phases: Sequence[Phase], batch: Batch,
               step: Optional[tf.Tensor] = None) -> Metrics:
  """Applies every phase once, in order; returns '<phase>/<metric>' scalars.

  `step` (the global step, int64) is needed by phases with `every` > 1.
  """
  replicas = tf.distribute.get_strategy().num_replicas_in_sync
  outputs = {}
  for phase in phases:
    variables = phase.variables
    weight = _weight(phase, step)
    with tf.GradientTape() as tape:
      loss, metrics = phase.loss_fn(batch)
      # Losses are batch means per replica; gradients are summed over replicas.
      scaled = weight * loss / replicas
    update = _update_condition(phase, step)

    def apply(phase=phase, tape=tape, scaled=scaled, variables=variables):
      grads = tape.gradient(scaled, variables)
      phase.optimizer.apply_gradients(zip(grads, variables))
      return tf.constant(0.0)

    if update is None:
      apply()
    else:
      skipped = tf.cond(update, apply, lambda: tf.constant(1.0))
      if phase.skip_below is not None:
        outputs[f"{phase.name}/skipped"] = skipped
    if phase.skip_below is not None:
      phase.last_loss.assign(loss)
    if tuple(metrics) != tuple(phase.metrics):
      raise ValueError(f"Phase {phase.name} returned metrics {list(metrics)} "
                       f"but declares {list(phase.metrics)}.")
    outputs[f"{phase.name}/loss"] = loss
    for key, value in metrics.items():
      outputs[f"{phase.name}/{key}"] = value
    if phase.ramp_up_epochs > 0:
      outputs[f"{phase.name}/weight"] = weight
  return outputs


def ramp_up_factor(step: tf.Tensor, ramp_steps: float) -> tf.Tensor:
  """exp(-5 (1 - t)^2) with t = min(step / ramp_steps, 1): about 0.0067 at
  step 0, 1 from `ramp_steps` on (the sigmoid-shaped ramp-up of Laine and
  Aila's temporal ensembling)."""
  t = tf.minimum(tf.cast(step, tf.float32) / float(ramp_steps), 1.0)
  return tf.exp(-RAMP_UP_SHARPNESS * tf.square(1.0 - t))


def _weight(phase: Phase, step):
  """The phase's weight at `step` (a float, or a tensor when ramped)."""
  if phase.ramp_up_epochs <= 0:
    return phase.weight
  if step is None:
    raise ValueError(f"Phase {phase.name} ramps its weight up and needs the "
                     "global step.")
  return phase.weight * ramp_up_factor(
      step, phase.ramp_up_epochs * phase.steps_per_epoch)


def _update_condition(phase: Phase, step) -> Optional[tf.Tensor]:
  """When the phase updates this step (a bool tensor), or None: always."""
  conditions = []
  if phase.skip_below is not None:
    conditions.append(tf.logical_not(phase.last_loss < phase.skip_below))
  if phase.every > 1:
    if step is None:
      raise ValueError(f"Phase {phase.name} runs every {phase.every} steps "
                       "and needs the global step.")
    conditions.append(tf.equal(tf.cast(step, tf.int64) % phase.every, 0))
  if not conditions:
    return None
  return tf.reduce_all(tf.stack(conditions))
