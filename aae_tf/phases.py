"""Training phases and the one generic step that runs them in order.

A mode is its networks plus an ordered list of :class:`Phase`: a loss, the
networks whose variables it trains, a weight and an optimiser. The step runs
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


@dataclasses.dataclass
class Phase:
  """One optimisation phase of a minibatch step."""
  name: str
  loss_fn: LossFn
  networks: Sequence[keras.Model]  # It trains exactly their variables.
  optimizer: keras.optimizers.Optimizer
  weight: float = 1.0
  # Names of the extra metrics `loss_fn` returns beside the loss.
  metrics: Tuple[str, ...] = ()
  # Narrows the networks' variables to the ones the loss reaches (e.g. the
  # encoder's trunk and class head only); default: all of them.
  select: Optional[Callable[[], list]] = None
  # Balanced training (seed 003): the update is skipped while this phase's
  # loss at the previous step was below `skip_below` (it is far ahead).
  skip_below: Optional[float] = None
  last_loss: Optional[tf.Variable] = None

  @property
  def output_names(self) -> list:
    """Keys this phase adds to the step's outputs."""
    names = [f"{self.name}/loss"] + [f"{self.name}/{m}" for m in self.metrics]
    if self.skip_below is not None:
      names.append(f"{self.name}/skipped")
    return names

  @property
  def variables(self) -> list:
    if self.select is not None:
      return self.select()
    return [v for net in self.networks for v in net.trainable_variables]

  def build(self) -> None:
    """Creates the optimiser's slots and the balance state (networks must be
    built; under the strategy's scope)."""
    self.optimizer.build(self.variables)
    if self.skip_below is not None:
      self.last_loss = tf.Variable(float("inf"), trainable=False,
                                   name=f"{self.name}_last_loss")


def run_phases(phases: Sequence[Phase], batch: Batch) -> Metrics:
  """Applies every phase once, in order; returns '<phase>/<metric>' scalars."""
  replicas = tf.distribute.get_strategy().num_replicas_in_sync
  outputs = {}
  for phase in phases:
    variables = phase.variables
    with tf.GradientTape() as tape:
      loss, metrics = phase.loss_fn(batch)
      # Losses are batch means per replica; gradients are summed over replicas.
      scaled = phase.weight * loss / replicas
    grads = tape.gradient(scaled, variables)
    if phase.skip_below is None:
      phase.optimizer.apply_gradients(zip(grads, variables))
    else:
      skip = phase.last_loss < phase.skip_below

      def apply(phase=phase, grads=grads, variables=variables):
        phase.optimizer.apply_gradients(zip(grads, variables))
        return tf.constant(0.0)

      outputs[f"{phase.name}/skipped"] = tf.cond(
          skip, lambda: tf.constant(1.0), apply)
      phase.last_loss.assign(loss)
    if tuple(metrics) != tuple(phase.metrics):
      raise ValueError(f"Phase {phase.name} returned metrics {list(metrics)} "
                       f"but declares {list(phase.metrics)}.")
    outputs[f"{phase.name}/loss"] = loss
    for key, value in metrics.items():
      outputs[f"{phase.name}/{key}"] = value
  return outputs
