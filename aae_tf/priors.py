"""Prior distributions imposed on the code, sampled with TensorFlow ops.

Every prior draws from a `tf.random.Generator` so that sampling is seeded,
checkpointed, XLA-compatible and usable inside an exported SavedModel. The
mixture and swiss-roll priors are 2-D; for a code of 2k dimensions each pair of
dimensions is drawn from the same component (chosen per sample), so a label can
pick the component (`labels` in `sample`, -1 meaning "any component").
"""

from __future__ import annotations

import math
from typing import Optional

import numpy as np
import tensorflow as tf

from aae_tf.config import PriorConfig
# The label (-1) that lets the prior pick the component.
from aae_tf.data import UNLABELED
from aae_tf.errors import ConfigError



class Prior:
  """Base class: a distribution over codes of `ncode` dimensions."""

  name = "prior"
  num_components = 1

  def __init__(self, ncode: int):
    self.ncode = ncode

  def sample(self, rng: tf.random.Generator, n,
             labels: Optional[tf.Tensor] = None) -> tf.Tensor:
    """Returns float32 [n, ncode]; `labels` (int [n]) pick components."""
    raise NotImplementedError

  def get_config(self) -> dict:
    return {"name": self.name, "ncode": self.ncode}

  def _components(self, rng: tf.random.Generator, n,
                  labels: Optional[tf.Tensor]) -> tf.Tensor:
    """Component index per sample: the label where given, else uniform."""
    random = rng.uniform([n], 0, self.num_components, dtype=tf.int32)
    if labels is None:
      return random
    labels = tf.cast(labels, tf.int32)
    return tf.where(labels > UNLABELED, labels % self.num_components,
                    random)


class GaussianPrior(Prior):
  """N(0, std^2 I)."""

  name = "gaussian"

  def __init__(self, ncode: int, std: float = 1.0):
    super().__init__(ncode)
    self.std = std

  def sample(self, rng, n, labels=None):
    del labels  # One component.
    return rng.normal([n, self.ncode], stddev=self.std)

  def get_config(self):
    return {**super().get_config(), "std": self.std}


class TruncatedGaussianPrior(GaussianPrior):
  """N(0, std^2 I) truncated at two standard deviations: samples
  beyond 2 std are redrawn, so every coordinate lies in [-2 std, 2 std]."""

  name = "truncated_gaussian"

  def sample(self, rng, n, labels=None):
    del labels  # One component.
    return rng.truncated_normal([n, self.ncode], stddev=self.std)


class GaussianMixturePrior(Prior):
  """Components on a circle: k-th rotated by 2*pi*k/K after a radial shift."""

  name = "gmm"

  def __init__(self, ncode: int, num_components: int = 10,
               radius: float = 1.4, stds=(0.5, 0.1)):
    super().__init__(ncode)
    self.num_components = num_components
    self.radius = radius
    self.stds = tuple(float(s) for s in stds)

  def angles(self) -> np.ndarray:
    return 2 * np.pi * np.arange(self.num_components) / self.num_components

  def means(self) -> np.ndarray:
    """Component means in 2-D, [K, 2]."""
    a = self.angles()
    return self.radius * np.stack([np.cos(a), np.sin(a)], axis=1)

  def rotations(self) -> np.ndarray:
    """[K, 2, 2]; columns are the component's radial and tangential axes."""
    a = self.angles()
    c, s = np.cos(a), np.sin(a)
    return np.stack([np.stack([c, -s], -1), np.stack([s, c], -1)], axis=1)

  def sample(self, rng, n, labels=None):
    pairs = self.ncode // 2
    k = self._components(rng, n, labels)
    local = rng.normal([n, pairs, 2]) * tf.constant(self.stds)
    local += tf.constant([self.radius, 0.0])
    angle = tf.cast(k, tf.float32) * (2 * math.pi / self.num_components)
    c, s = tf.cos(angle)[:, None], tf.sin(angle)[:, None]
    x = local[..., 0] * c - local[..., 1] * s
    y = local[..., 0] * s + local[..., 1] * c
    return tf.reshape(tf.stack([x, y], axis=-1), [n, self.ncode])

  def log_density_2d(self, points: np.ndarray) -> np.ndarray:
    """Log-density of each 2-D point under each component, [N, K] (numpy)."""
    rel = points[:, None, :] - self.means()[None]
    local = np.einsum("nkd,kde->nke", rel, self.rotations())
    z = local / np.asarray(self.stds)
    return (-0.5 * np.sum(z**2, -1) - np.log(2 * np.pi)
            - np.sum(np.log(self.stds)))

  def get_config(self):
    return {**super().get_config(), "num_components": self.num_components,
            "radius": self.radius, "stds": list(self.stds)}


class SwissRollPrior(Prior):
  """The paper's swiss roll: u ~ U(0, 1), r = R sqrt(u), angle = 2 pi T sqrt(u).

  With labels, segment k covers u in [k/K, (k+1)/K).
  """

  name = "swiss_roll"

  def __init__(self, ncode: int, num_components: int = 10,
               radius: float = 3.0, turns: float = 2.0):
    super().__init__(ncode)
    self.num_components = num_components
    self.radius = radius
    self.turns = turns

  def sample(self, rng, n, labels=None):
    pairs = self.ncode // 2
    k = tf.cast(self._components(rng, n, labels), tf.float32)[:, None]
    u = (k + rng.uniform([n, pairs])) / self.num_components
    root = tf.sqrt(u)
    r = self.radius * root
    angle = 2 * math.pi * self.turns * root
    points = tf.stack([r * tf.cos(angle), r * tf.sin(angle)], axis=-1)
    return tf.reshape(points, [n, self.ncode])

  def get_config(self):
    return {**super().get_config(), "num_components": self.num_components,
            "radius": self.radius, "turns": self.turns}


def build_prior(config: PriorConfig, ncode: int) -> Prior:
  """The prior named by `config.dist_type`."""
  if config.dist_type == "gaussian":
    return GaussianPrior(ncode, config.gaussian_std)
  if config.dist_type == "truncated_gaussian":
    return TruncatedGaussianPrior(ncode, config.gaussian_std)
  if config.dist_type in ("gmm", "swiss_roll") and ncode % 2:
    raise ConfigError(f"The {config.dist_type} prior needs an even "
                      "model.ncode, "
                      f"got {ncode}.")
  if config.dist_type == "gmm":
    return GaussianMixturePrior(ncode, config.n_components, config.gmm_radius,
                                config.gmm_stds)
  if config.dist_type == "swiss_roll":
    return SwissRollPrior(ncode, config.n_components,
                          config.swiss_roll_radius, config.swiss_roll_turns)
  raise ConfigError(f"Unknown prior {config.dist_type!r}: choose gaussian, "
                    "truncated_gaussian, gmm or swiss_roll.")
