"""TensorBoard summaries written at the end of each epoch (host side)."""

from __future__ import annotations

import math

import numpy as np
import tensorflow as tf

from aae_tf import data as data_lib
from aae_tf import evaluation, figures
from aae_tf.config import TrainConfig

MAX_HISTOGRAM_DIMS = 10  # Code dimensions with their own histogram.


def fixed_eval_batch(split: data_lib.Split, train: TrainConfig) -> tf.Tensor:
  """The first validation images, shown as reconstructions every epoch."""
  n = min(train.num_image_summaries, len(split.labels))
  return tf.constant(data_lib.to_unit_range(split.images[:n]))


def _grid(images: np.ndarray) -> np.ndarray:
  """A square-ish grid image [1, H, W, C] for tf.summary.image."""
  cols = int(math.ceil(math.sqrt(len(images))))
  rows = int(math.ceil(len(images) / cols))
  return figures.tile_images(np.asarray(images), rows, cols)[None]


def write_epoch_summaries(model, eval_images: tf.Tensor,
                          validation: data_lib.Split,
                          train: TrainConfig) -> None:
  """Images, code histograms and (2-D codes) the latent scatter.

  Must run under `writer.as_default(step=...)`.
  """
  recon = model.decode_fn(model.encode_fn(eval_images)).numpy()
  pairs = np.stack([eval_images.numpy(), recon], axis=1).reshape(
      (-1,) + recon.shape[1:])
  tf.summary.image("images/reconstructions (original, reconstruction)",
                   _grid(pairs))
  samples = model.decode_fn(model.sample_prior(len(recon))).numpy()
  tf.summary.image("images/prior_samples", _grid(samples))

  limit = min(train.num_eval_codes, len(validation.labels))
  codes = evaluation.encode_split(model, validation, train.batch_size, limit)
  prior = model.sample_prior(limit).numpy()
  for dim in range(min(model.ncode, MAX_HISTOGRAM_DIMS)):
    tf.summary.histogram(f"codes/encoder_dim{dim}", codes[:, dim])
    tf.summary.histogram(f"codes/prior_dim{dim}", prior[:, dim])
  if model.ncode == 2:
    scatter = figures.latent_scatter(
        None, codes, validation.labels[:limit], prior_samples=prior,
        title="Validation codes")
    tf.summary.image("images/latent", scatter[None])
