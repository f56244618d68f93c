"""TensorBoard summaries written at the end of each epoch (host side)."""

from __future__ import annotations

import dataclasses
import math
import os

import numpy as np
from tensorboard.backend.event_processing import event_accumulator
from tensorboard.plugins import projector
from tensorboard.plugins.hparams import api as hp
import tensorflow as tf

from aae_tf import data as data_lib
from aae_tf import evaluation, figures, outputs
from aae_tf.config import TrainConfig

MAX_HISTOGRAM_DIMS = 10  # Code dimensions with their own histogram.
PROJECTOR_DIR = "projector"  # Under the summary folder.
PROJECTOR_METADATA = "metadata.tsv"
PROJECTOR_CHECKPOINT = "embedding.ckpt"


def fixed_eval_batch(split: data_lib.Split, train: TrainConfig):
  """The first validation images and labels, reconstructed every epoch."""
  n = min(train.num_image_summaries, len(split.labels))
  return (tf.constant(data_lib.to_model_images(split.images[:n])),
          tf.constant(split.labels[:n].astype(np.int32)))


def _grid(images: np.ndarray) -> np.ndarray:
  """A square-ish grid image [1, H, W, C] of images [N, H, W, C] for
  tf.summary.image."""
  cols = int(math.ceil(math.sqrt(len(images))))
  rows = int(math.ceil(len(images) / cols))
  return figures.tile_images(np.asarray(images), rows, cols)[None]


def write_epoch_summaries(model, eval_images: tf.Tensor,
                          validation: data_lib.Split,
                          train: TrainConfig) -> None:
  """Images, code histograms, (2-D codes) the latent scatter and (clustering
  modes) the grid of cluster heads.

  Must run under `writer.as_default(step=...)`.
  """
  images, labels = eval_images
  recon = model.reconstruct_fn(images, labels).numpy()
  pairs = np.stack([images.numpy(), recon], axis=1).reshape(
      (-1,) + recon.shape[1:])
  tf.summary.image("images/reconstructions (original, reconstruction)",
                   _grid(pairs))
  samples = model.generate_fn(tf.constant(len(recon))).numpy()
  tf.summary.image("images/prior_samples",
                   _grid(samples))
  if model.config.mode in ("clustering", "dimreduction"):
    tf.summary.image("images/cluster_heads", figures.cluster_heads_grid(
        model.decode_cluster_heads().numpy())[None])

  limit = min(train.num_eval_codes, len(validation.labels))
  codes = evaluation.encode_split(model, validation, train.eval_batch_size,
                                 limit)
  prior = model.sample_prior(limit).numpy()
  for dim in range(min(model.ncode, MAX_HISTOGRAM_DIMS)):
    tf.summary.histogram(f"codes/encoder_dim{dim}", codes[:, dim])
    tf.summary.histogram(f"codes/prior_dim{dim}", prior[:, dim])
  if model.ncode == 2:
    scatter = figures.latent_scatter(
        None, codes, validation.labels[:limit], prior_samples=prior,
        title="Validation codes")
    tf.summary.image("images/latent", scatter[None])


def hparams_dict(config) -> dict:
  """Flat, TensorBoard-friendly hyperparameters of a run."""
  flat = {"mode": config.mode}

  def add(prefix: str, values: dict) -> None:
    for key, value in values.items():
      if isinstance(value, dict):  # Nested: optimisers by phase or role.
        add(f"{prefix}{key}.", value)
        continue
      if isinstance(value, (list, tuple)):
        value = ",".join(str(v) for v in value)
      elif value is None:
        value = "none"
      flat[f"{prefix}{key}"] = value

  for section in ("data", "prior", "model", "train"):
    add(f"{section}.", dataclasses.asdict(getattr(config, section)))
  return flat


def write_hparams(config) -> None:
  """The run's hyperparameters for the HParams dashboard (under a writer)."""
  hp.hparams(hparams_dict(config), trial_id=os.path.basename(
      os.path.normpath(config.save_path)))


def write_projector(logdir: str, codes: np.ndarray, labels: np.ndarray) -> str:
  """Codes for TensorBoard's embedding projector, with digits as metadata.

  A failed write removes this call's partial files (OutputError).
  """
  before = set(os.listdir(logdir)) if os.path.isdir(logdir) else set()
  try:
    with outputs.write_errors("the projector's codes", logdir):
      os.makedirs(logdir, exist_ok=True)
      with outputs.atomic_file(os.path.join(logdir, PROJECTOR_METADATA)) as p:
        with open(p, "w") as f:
          f.write("".join(f"{int(label)}\n" for label in labels))
      embedding = tf.Variable(codes, name="codes")
      checkpoint = tf.train.Checkpoint(embedding=embedding)
      checkpoint.save(os.path.join(logdir, PROJECTOR_CHECKPOINT))
      config = projector.ProjectorConfig()
      entry = config.embeddings.add()
      entry.tensor_name = "embedding/.ATTRIBUTES/VARIABLE_VALUE"
      entry.metadata_path = PROJECTOR_METADATA
      projector.visualize_embeddings(logdir, config)
  except BaseException:
    after = set(os.listdir(logdir)) if os.path.isdir(logdir) else set()
    for name in after - before:
      outputs.remove_quietly(os.path.join(logdir, name))
    raise
  return logdir


def read_scalars(logdir: str) -> dict:
  """All scalar series of a run's event files: {tag: (steps, values)}."""
  acc = event_accumulator.EventAccumulator(
      logdir, size_guidance={event_accumulator.TENSORS: 0})
  acc.Reload()
  series = {}
  for tag in acc.Tags().get("tensors", []):
    events = acc.Tensors(tag)
    if events and tf.make_ndarray(events[0].tensor_proto).ndim == 0:
      series[tag] = (np.array([e.step for e in events]),
                     np.array([float(tf.make_ndarray(e.tensor_proto))
                               for e in events]))
  return series


def write_loss_curves(logdir: str, path: str) -> None:
  """loss_curves.png: every phase loss and the validation loss against step."""
  series = {tag: value for tag, value in read_scalars(logdir).items()
            if tag.endswith("loss")}
  if series:
    figures.loss_curves(path, series, title="Training and validation losses",
                        panel_of=loss_kind)


def loss_kind(tag: str) -> str:
  """The panel of a loss in loss_curves.png: losses of one kind have one
  scale (reconstruction ~ 10-100, adversarial ~ 1)."""
  for kind in ("reconstruction", "classification"):
    if kind in tag:
      return kind
  return "adversarial (discriminators and generators)"
