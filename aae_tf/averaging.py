"""An exponential moving average of network weights, for evaluation.

The raw weights keep training; the average is what validation, test, the
figures and the SavedModel see (`swapped`). Its variables are part of the
run's checkpoint, so a resumed run continues the same average.
"""

from __future__ import annotations

import contextlib
from typing import Dict, Iterator, List

import keras
import tensorflow as tf


class WeightAverage:
  """Shadow copies of some networks' trainable variables.

  After update number t (counted from 1) each shadow s of a variable v is
  s <- d_t s + (1 - d_t) v with d_t = min(decay, (1 + t) / (10 + t)): the
  early updates follow the weights closely, so the average is usable from
  the first epoch, and the decay reaches `decay` after about 10 / (1 - decay)
  updates.
  """

  def __init__(self, networks: Dict[str, keras.Model], decay: float):
    """`networks`: name -> built network whose weights are averaged;
    `decay`: in (0, 1)."""
    if not 0.0 < decay < 1.0:
      raise ValueError(f"decay must be in (0, 1), got {decay}.")
    self.decay = decay
    self.tracked: List[tf.Variable] = [
        v for name in sorted(networks)
        for v in networks[name].trainable_variables]
    self.shadows = {
        name: [tf.Variable(v, trainable=False, name=f"average_{i}")
               for i, v in enumerate(networks[name].trainable_variables)]
        for name in sorted(networks)}
    self.updates = tf.Variable(0, dtype=tf.int64, trainable=False,
                               name="updates")

  @property
  def shadow_variables(self) -> List[tf.Variable]:
    """The shadows, in the order of `tracked`."""
    return [s for name in sorted(self.shadows) for s in self.shadows[name]]

  def current_decay(self) -> tf.Tensor:
    """d_t of the next update."""
    t = tf.cast(self.updates + 1, tf.float32)
    return tf.minimum(self.decay, (1.0 + t) / (10.0 + t))

  def update(self) -> None:
    """One step of the average towards the current weights (traceable)."""
    decay = self.current_decay()
    for shadow, variable in zip(self.shadow_variables, self.tracked):
      shadow.assign(decay * shadow + (1.0 - decay) * variable)
    self.updates.assign_add(1)

  def checkpoint(self) -> tf.train.Checkpoint:
    """What a run's checkpoint keeps of the average (not the networks)."""
    return tf.train.Checkpoint(shadows=self.shadows, updates=self.updates)

  def load_into_networks(self) -> None:
    """Replaces the weights by the average (for a model that only infers)."""
    for shadow, variable in zip(self.shadow_variables, self.tracked):
      variable.assign(shadow)

  @contextlib.contextmanager
  def swapped(self) -> Iterator[None]:
    """Within the block the networks hold the average; the raw weights
    come back afterwards, bit for bit."""
    raw = [tf.identity(v) for v in self.tracked]
    self.load_into_networks()
    try:
      yield
    finally:
      for variable, value in zip(self.tracked, raw):
        variable.assign(value)
