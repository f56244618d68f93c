"""The figure commands of a trained run: sample, visualise, interpolate and
traverse. Each reads the run from SAVE_PATH and writes PNG or GIF files there.
"""

from __future__ import annotations

import os
from typing import Optional

from absl import logging
import numpy as np
import tensorflow as tf

from aae_tf import data as data_lib
from aae_tf import evaluation, figures
from aae_tf.config import ExperimentConfig
from aae_tf.errors import ConfigError
from aae_tf.priors import GaussianMixturePrior
from aae_tf.training import load_data, restore_model

GENERATE_FILENAME = "generate_im.png"
LATENT_FILENAME = "latent.png"
INTERPOLATION_FILENAME = "interpolate_{}_{}.png"
INTERPOLATION_STEPS = 10  # Images per interpolation strip.
SAME_STYLE_FILENAME = "same_style.png"
TRAVERSE_GRID = 6  # Traversal animations show GRID x GRID codes.
TRAVERSE_FRAMES = 24  # Frames per sweep.
TRAVERSE_EXTENT = 2.0  # Sweep [-E, E] prior standard deviations.
MANIFOLD_FILENAME = "manifold.png"
MANIFOLD_COMPONENT_FILENAME = "manifold_{}.png"
GENERATE_GRID = 10  # generate_im.png is GRID x GRID samples.
MANIFOLD_GRID = 20  # Manifold images per side.
MANIFOLD_EXTENT = 3.0  # Gaussian manifold covers [-E, E]^2 (in prior stds).
COMPONENT_EXTENT = 2.0  # Mixture manifolds cover +-E stds along each axis.
VIZ_MODES = ("unsupervised", "label")  # Modes whose decoder reads codes only.
CLUSTER_HEADS_FILENAME = "cluster_heads.png"
CLUSTER_EXAMPLES_FILENAME = "cluster_examples.png"
CLUSTER_EXAMPLES = 10  # Test images per cluster in cluster_examples.png.


def generate(config: ExperimentConfig, load: str,
             supervise: bool = False) -> str:
  """Writes SAVE_PATH/generate_im.png: images decoded from prior samples.

  With `supervise` (supervised mode) each column shares one code and each
  row one digit; in the label mode row r comes from prior component r.
  """
  if supervise and config.mode != "supervised":
    raise ConfigError("--supervise samples a supervised model "
                      "(--train_supervised); this run is "
                      f"{config.mode}.")
  model = restore_model(config, load)
  n = GENERATE_GRID * GENERATE_GRID
  row_labels = None
  if supervise:
    codes = tf.tile(model.sample_prior(GENERATE_GRID), [GENERATE_GRID, 1])
    digits = tf.repeat(tf.range(GENERATE_GRID), GENERATE_GRID)
    images = model.decode_fn(codes, digits).numpy()
    title = "Same code per column, same digit per row"
    row_labels = [str(d) for d in range(GENERATE_GRID)]
  else:
    images = model.generate_fn(tf.constant(n)).numpy()
    title = f"Samples from the {config.prior.dist_type} prior"
    if config.mode == "label":
      title += ", component r in row r"
      row_labels = [str(d) for d in range(GENERATE_GRID)]
  path = os.path.join(config.save_path, GENERATE_FILENAME)
  figures.save_image_grid(path, images, GENERATE_GRID, GENERATE_GRID,
                          title=title, row_labels=row_labels)
  logging.info("Wrote %s", path)
  return path


def visualize(config: ExperimentConfig, load: str,
              splits: Optional[data_lib.MnistSplits] = None) -> list:
  """Writes latent.png (test codes by digit) and the learned manifold(s);
  for a clustering run, its cluster figures (any code size)."""
  if config.mode == "clustering":
    return _cluster_figures(config, load, splits or load_data(config))
  if config.model.ncode != 2:
    raise ConfigError(f"--viz needs a 2-D code (--ncode 2), this run has "
                      f"--ncode {config.model.ncode}.")
  if config.mode == "dimreduction":
    return [_representation_figure(config, load, splits or load_data(config))]
  if config.mode not in VIZ_MODES:
    raise ConfigError(f"--viz draws the code space of the {' and '.join(VIZ_MODES)} "
                      f"and dimreduction modes; this run is {config.mode}.")
  model = restore_model(config, load)
  splits = splits or load_data(config)
  test = splits.test
  codes = evaluation.encode_split(model, test, config.train.eval_batch_size)
  written = [os.path.join(config.save_path, LATENT_FILENAME)]
  figures.latent_scatter(
      written[0], codes, test.labels,
      prior_samples=model.sample_prior(len(codes)).numpy(),
      title=f"Test-set codes, {config.prior.dist_type} prior")
  for path, grid, xs, ys, title in _manifold_grids(model, config):
    images = model.decode_fn(tf.constant(grid, tf.float32)).numpy()
    figures.manifold_figure(path, images, MANIFOLD_GRID, MANIFOLD_GRID, xs, ys,
                            title)
    written.append(path)
  logging.info("Wrote %s", ", ".join(written))
  return written


def _representation_figure(config: ExperimentConfig, load: str,
                           splits: data_lib.MnistSplits) -> str:
  """latent.png of a dimensionality-reduction run: the test images' 2-D
  representations (cluster head + style) by digit, heads marked."""
  model = restore_model(config, load)
  test = splits.test
  points = evaluation.predict_split(model.represent_fn, test,
                                    config.train.eval_batch_size)
  path = os.path.join(config.save_path, LATENT_FILENAME)
  heads = model.cluster_heads.heads.numpy()
  figures.latent_scatter(
      path, points, test.labels, marks=heads, marks_label="cluster heads",
      title=f"Test-set representations, {model.num_classes} cluster heads")
  logging.info("Wrote %s", path)
  return path


def _cluster_figures(config: ExperimentConfig, load: str,
                     splits: data_lib.MnistSplits) -> list:
  """cluster_heads.png: every cluster decoded with the style z at zero;
  cluster_examples.png: per cluster (row, labelled with the digit its most
  sure naming image gives it), the test images most sure of it."""
  model = restore_model(config, load)
  batch = config.train.eval_batch_size
  heads_path = os.path.join(config.save_path, CLUSTER_HEADS_FILENAME)
  figures.save_cluster_heads(
      heads_path, model.decode_cluster_heads().numpy(),
      title=f"Heads of the {model.num_classes} clusters (style z = 0)")
  names = evaluation.cluster_names(
      model.classify_fn, getattr(splits, config.train.cluster_naming_split),
      batch)["paper"]
  test = splits.test
  probs = evaluation.predict_split(model.classify_fn, test, batch)
  rows = [data_lib.to_model_images(test.images[indices]) for indices in
          evaluation.most_sure_examples(probs, CLUSTER_EXAMPLES)]
  examples_path = os.path.join(config.save_path, CLUSTER_EXAMPLES_FILENAME)
  figures.save_image_grid(
      examples_path,
      figures.ragged_rows(rows, CLUSTER_EXAMPLES, model.image_shape),
      model.num_classes, CLUSTER_EXAMPLES,
      title="Test images most sure of each cluster",
      row_labels=[f"{k}: {d}" for k, d in enumerate(names)],
      ylabel="cluster: its digit")
  logging.info("Wrote %s, %s", heads_path, examples_path)
  return [heads_path, examples_path]


def interpolate(config: ExperimentConfig, load: str, pairs,
                splits: Optional[data_lib.MnistSplits] = None) -> list:
  """Writes interpolate_A_B.png per digit pair: decoded images along the
  straight line between the codes of the first test images of A and B."""
  if config.mode not in VIZ_MODES:
    raise ConfigError(f"--interpolate walks the code of the "
                      f"{' and '.join(VIZ_MODES)} modes; this run is "
                      f"{config.mode}.")
  model = restore_model(config, load)
  test = (splits or load_data(config)).test
  written = []
  for a, b in pairs:
    idx = [int(np.flatnonzero(test.labels == d)[0]) for d in (a, b)]
    ends = model.encode_fn(tf.constant(data_lib.to_model_images(
        test.images[idx]))).numpy()
    t = np.linspace(0.0, 1.0, INTERPOLATION_STEPS)[:, None]
    codes = (1 - t) * ends[0] + t * ends[1]
    images = model.decode_fn(tf.constant(codes, tf.float32)).numpy()
    path = os.path.join(config.save_path,
                        INTERPOLATION_FILENAME.format(a, b))
    figures.save_image_grid(path, images, 1, INTERPOLATION_STEPS,
                            title=f"From a test {a} to a test {b}")
    written.append(path)
  logging.info("Wrote %s", ", ".join(written))
  return written


def traverse(config: ExperimentConfig, load: str,
             splits: Optional[data_lib.MnistSplits] = None) -> list:
  """Latent traversals, as looping GIFs in SAVE_PATH.

  For every code dimension j, traverse_z{j}.gif: a grid of fixed prior
  samples whose dimension j sweeps [-E, E] prior stds over time. A
  supervised run instead writes traverse_digit{d}.gif (the same sweep of
  dimension 0 with every digit label d) and same_style.png: test images'
  styles (rows) decoded with every digit (columns).
  """
  if config.mode not in VIZ_MODES + ("supervised",):
    raise ConfigError(f"--traverse walks the code of the unsupervised, label "
                      f"and supervised modes; this run is {config.mode}.")
  model = restore_model(config, load)
  n = TRAVERSE_GRID * TRAVERSE_GRID
  base = model.sample_prior(n).numpy()
  sweep = np.linspace(-TRAVERSE_EXTENT, TRAVERSE_EXTENT, TRAVERSE_FRAMES)
  sweep = sweep * config.prior.gaussian_std
  supervised = config.mode == "supervised"
  jobs = ([(0, d, f"traverse_digit{d}.gif") for d in range(GENERATE_GRID)]
          if supervised else
          [(j, None, f"traverse_z{j}.gif") for j in range(model.ncode)])
  written = []
  for dim, digit, name in jobs:
    frames = []
    for value in sweep:
      codes = base.copy()
      codes[:, dim] = value
      labels = tf.fill([n], digit) if supervised else None
      images = model.decode_fn(tf.constant(codes, tf.float32), labels).numpy()
      frames.append(figures.tile_images(images, TRAVERSE_GRID,
                                        TRAVERSE_GRID))
    path = os.path.join(config.save_path, name)
    figures.save_animation(path, np.stack(frames))
    written.append(path)
  if supervised:
    written.append(_same_style(model, config, splits or load_data(config)))
  logging.info("Wrote %s", ", ".join(written))
  return written


def _same_style(model, config: ExperimentConfig, splits) -> str:
  """same_style.png: row i keeps test image i's style, column d is digit d."""
  rows = GENERATE_GRID
  images = tf.constant(data_lib.to_model_images(splits.test.images[:rows]))
  styles = model.encode_fn(images).numpy()
  codes = np.repeat(styles, GENERATE_GRID, axis=0)
  digits = np.tile(np.arange(GENERATE_GRID), rows)
  decoded = model.decode_fn(tf.constant(codes), tf.constant(digits)).numpy()
  path = os.path.join(config.save_path, SAME_STYLE_FILENAME)
  figures.save_image_grid(
      path, decoded, rows,
      GENERATE_GRID, title="Style of a test image (row), every digit (column)",
      col_labels=[str(d) for d in range(GENERATE_GRID)])
  return path


def parse_pairs(text) -> list:
  """'0-4,7-8' (or a list of 'A-B') -> [(0, 4), (7, 8)]."""
  items = text.split(",") if isinstance(text, str) else list(text)
  pairs = []
  for item in items:
    parts = item.strip().split("-")
    if (len(parts) != 2 or not all(p.isdigit() and int(p) < 10
                                   for p in parts)):
      raise ConfigError(f"--pairs takes digit pairs like 0-4,7-8; got "
                        f"{item!r}.")
    pairs.append((int(parts[0]), int(parts[1])))
  return pairs


def _manifold_grids(model, config: ExperimentConfig):
  """(path, codes [G*G, 2], x values, y values, title) per manifold figure."""
  n = MANIFOLD_GRID
  prior = model.prior
  if isinstance(prior, GaussianMixturePrior):
    stds = np.asarray(prior.stds)
    steps = figures.grid_coordinates(-COMPONENT_EXTENT, COMPONENT_EXTENT, n)
    for k, (mean, rot) in enumerate(zip(prior.means(), prior.rotations())):
      grid = figures.component_grid(mean, rot, stds, n, COMPONENT_EXTENT)
      yield (os.path.join(config.save_path,
                          MANIFOLD_COMPONENT_FILENAME.format(k)), grid,
             steps * stds[0], steps * stds[1],
             f"Manifold of component {k} (along its axes)")
    return
  extent = MANIFOLD_EXTENT * config.prior.gaussian_std
  xs = figures.grid_coordinates(-extent, extent, n)
  ys = xs[::-1]
  grid = np.array([[x, y] for y in ys for x in xs])
  yield (os.path.join(config.save_path, MANIFOLD_FILENAME), grid, xs, xs,
         f"Learned manifold over [-{extent:g}, {extent:g}]^2")
