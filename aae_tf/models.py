"""Adversarial autoencoder modes: networks, prior and the ordered phase list.

A mode exposes the same small interface to the training loop, the figures and
the export: `networks`, `phases(make_optimizer)`, `encode`, `decode`,
`sample`, `eval_metrics`. A new mode is a new phase list, not a new trainer.
"""

from __future__ import annotations

from typing import Callable, Dict, List, Optional

import keras
import tensorflow as tf

from aae_tf import losses
from aae_tf.config import ExperimentConfig
from aae_tf.errors import ConfigError
from aae_tf.networks import MLPDecoder, MLPDiscriminator, MLPEncoder
from aae_tf.phases import Batch, Phase
from aae_tf.priors import Prior, build_prior

MakeOptimizer = Callable[[str], keras.optimizers.Optimizer]


class UnsupervisedAAE:
  """The paper's Figure 1: reconstruction, discriminator, generator phases."""

  def __init__(self, config: ExperimentConfig):
    model = config.model
    self.config = config
    self.ncode = model.ncode
    self.image_size = model.image_size
    self.prior: Prior = build_prior(config.prior, model.ncode)
    self.rng = tf.random.Generator.from_seed(config.train.seed)
    self.encoder = MLPEncoder(model.ncode, model.encoder_units,
                              model.posterior, model.keep_prob,
                              model.input_noise_std, model.min_stddev)
    self.decoder = MLPDecoder(model.image_size, model.decoder_units)
    self.discriminator = MLPDiscriminator(model.discriminator_units,
                                          model.leaky_relu_slope)
    self.encoder(tf.zeros([1, model.image_size]))
    self.decoder(tf.zeros([1, model.ncode]))
    self.discriminator(tf.zeros([1, model.ncode]))
    # Compiled inference for figures, summaries and evaluation.
    self.encode_fn = tf.function(self.encode, reduce_retracing=True)
    self.decode_fn = tf.function(self.decode, reduce_retracing=True)

  @property
  def networks(self) -> Dict[str, keras.Model]:
    return {"encoder": self.encoder, "decoder": self.decoder,
            "discriminator": self.discriminator}

  # -- The model's functions (TensorFlow, traceable). --

  def encode(self, images, training: bool = False) -> tf.Tensor:
    """The posterior mean: the code used for figures and export."""
    return self.encoder(images, training=training)["mean"]

  def sample_code(self, images, training: bool = True) -> tf.Tensor:
    """A posterior sample (reparameterised) or the deterministic code."""
    out = self.encoder(images, training=training)
    if "stddev" not in out:
      return out["mean"]
    eps = self.rng.normal(tf.shape(out["mean"]))
    return out["mean"] + out["stddev"] * eps

  def decode(self, codes, training: bool = False) -> tf.Tensor:
    return self.decoder(codes, training=training)

  def sample_prior(self, n, labels: Optional[tf.Tensor] = None) -> tf.Tensor:
    return self.prior.sample(self.rng, n, labels)

  def sample(self, n) -> tf.Tensor:
    """Images decoded from prior samples."""
    return self.decode(self.sample_prior(n))

  # -- Phases. --

  def _reconstruction(self, batch: Batch):
    images = batch["image"]
    reconstructions = self.decode(self.sample_code(images), training=True)
    return losses.reconstruction_loss(images, reconstructions), {}

  def _discriminator(self, batch: Batch):
    codes = self.sample_code(batch["image"])
    real = self.discriminator(self.sample_prior(tf.shape(codes)[0]),
                              training=True)
    fake = self.discriminator(codes, training=True)
    return (losses.discriminator_loss(real, fake),
            {"accuracy": losses.discriminator_accuracy(real, fake)})

  def _generator(self, batch: Batch):
    fake = self.discriminator(self.sample_code(batch["image"]), training=True)
    return losses.generator_loss(fake), {}

  def phases(self, make_optimizer: MakeOptimizer) -> List[Phase]:
    train = self.config.train
    return [
        Phase("reconstruction", self._reconstruction,
              [self.encoder, self.decoder], make_optimizer("reconstruction"),
              train.encw),
        Phase("discriminator", self._discriminator, [self.discriminator],
              make_optimizer("discriminator"), train.disw),
        Phase("generator", self._generator, [self.encoder],
              make_optimizer("generator"), train.genw),
    ]

  def eval_metrics(self, batch: Batch) -> Dict[str, tf.Tensor]:
    """Per-batch validation metrics (means), from the posterior mean."""
    images = batch["image"]
    recon = self.decode(self.encode(images))
    return {"reconstruction_loss": losses.reconstruction_loss(images, recon)}


MODES = {"unsupervised": UnsupervisedAAE}


def set_seeds(seed: int, deterministic: bool = False) -> None:
  """Seeds Python, NumPy, TensorFlow and Keras; optionally deterministic ops."""
  keras.utils.set_random_seed(seed)
  if deterministic:
    tf.config.experimental.enable_op_determinism()


def build_model(config: ExperimentConfig):
  """The mode named by `config.mode`, seeded, with built networks."""
  set_seeds(config.train.seed, config.train.deterministic)
  try:
    cls = MODES[config.mode]
  except KeyError:
    raise ConfigError(f"Unknown mode {config.mode!r}: choose one of "
                      f"{', '.join(MODES)}.") from None
  return cls(config)
