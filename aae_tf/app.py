"""What the command line does: train, generate and visualise a run.

Every function takes an :class:`ExperimentConfig`; a run lives in
`config.save_path` (SAVE_PATH), which holds config.json, checkpoints/,
tensorboard/, saved_model/ and the figures.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from typing import Callable, Optional

from absl import logging
import numpy as np
import tensorflow as tf

from aae_tf import data as data_lib
from aae_tf import celeba, distribute, evaluation, export, figures, summaries
from aae_tf import trainer as trainer_lib
from aae_tf.config import CONFIG_FILENAME, ExperimentConfig
from aae_tf.errors import CheckpointError, ConfigError, OutputError
from aae_tf.models import build_model
from aae_tf.priors import GaussianMixturePrior

GENERATE_FILENAME = "generate_im.png"
LATENT_FILENAME = "latent.png"
LOSS_CURVES_FILENAME = "loss_curves.png"
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
LATEST = "latest"
VIZ_MODES = ("unsupervised", "label")  # Modes whose decoder reads codes only.
# Fields that may change between a run and its resumption.
RESUMABLE_FIELDS = {("train", "max_epoch"), ("train", "progress_bar"),
                    ("train", "strategy"), ("train", "jit_compile"),
                    ("train", "steps_per_loop"), ("data", "data_dir"),
                    ("data", "source"), ("data", "cache_dir"),
                    ("data", "used_source"), ("train", "eval_every_epochs"),
                    ("train", "summary_every_epochs"),
                    ("train", "checkpoint_every_epochs")}


def prepare_save_path(config: ExperimentConfig) -> bool:
  """Creates SAVE_PATH and writes config.json; True when resuming a run.

  A SAVE_PATH that holds a run with a different configuration is refused, so
  no run overwrites another's checkpoints.
  """
  path = config.save_path
  try:
    os.makedirs(path, exist_ok=True)
    with tempfile.NamedTemporaryFile(dir=path):
      pass
  except OSError as e:
    raise OutputError(f"Cannot write to SAVE_PATH {path!r} ({e.strerror}); "
                      "choose a writable --save_path.") from e
  config_path = os.path.join(path, CONFIG_FILENAME)
  resuming = os.path.exists(config_path)
  if resuming:
    previous = ExperimentConfig.load(config_path)
    diff = _differences(previous, config)
    if diff:
      raise OutputError(
          f"SAVE_PATH {path!r} holds a run with another configuration "
          f"({'; '.join(diff)}); use a new --save_path to start a new run, or "
          "the same flags to resume it.")
  config.save(config_path)
  return resuming


def _differences(old: ExperimentConfig, new: ExperimentConfig) -> list:
  out = []
  for section in ("data", "prior", "model", "train"):
    a = dataclasses.asdict(getattr(old, section))
    b = dataclasses.asdict(getattr(new, section))
    for key in sorted(set(a) | set(b)):
      if (section, key) in RESUMABLE_FIELDS:
        continue
      if a.get(key) != b.get(key):
        out.append(f"{section}.{key}: {a.get(key)!r} -> {b.get(key)!r}")
  if old.mode != new.mode:
    out.append(f"mode: {old.mode!r} -> {new.mode!r}")
  return out


# Command-line flag -> (section, field) of the config it sets.
FLAG_FIELDS = {"ncode": ("model", "ncode"), "dist_type": ("prior", "dist_type"),
               "posterior": ("model", "posterior"),
               "arch": ("model", "architecture"),
               "reconstruction": ("model", "reconstruction"),
               "prior_std": ("prior", "gaussian_std")}


def run_config(config: ExperimentConfig,
               explicit: frozenset = frozenset()) -> ExperimentConfig:
  """The configuration a run in `config.save_path` was trained with.

  Sampling and figures must use the trained model's shape, so they read it
  from SAVE_PATH/config.json. Flags given explicitly (`explicit`) that
  contradict it are an error; data settings come from `config`.
  """
  path = os.path.join(config.save_path, CONFIG_FILENAME)
  if not os.path.exists(path):
    raise CheckpointError(f"No run in {config.save_path} ({CONFIG_FILENAME} is "
                          "missing); train first or fix --save_path.")
  saved = ExperimentConfig.load(path)
  for flag, (section, field) in FLAG_FIELDS.items():
    given = getattr(getattr(config, section), field)
    trained = getattr(getattr(saved, section), field)
    if flag in explicit and given != trained:
      raise ConfigError(f"--{flag} {given} contradicts the run in "
                        f"{config.save_path}, trained with {trained}.")
  return dataclasses.replace(saved, save_path=config.save_path,
                             data=config.data)


def load_data(config: ExperimentConfig) -> data_lib.MnistSplits:
  """MNIST as configured, optionally cut to the first max_train_examples."""
  d = config.data
  if d.dataset == "celeba":
    splits = celeba.load_celeba(d.data_dir, config.model.image_shape[0],
                                d.max_images, d.cache_dir)
  else:
    splits = data_lib.load_mnist(d.data_dir, d.source, d.cache_dir,
                                 d.verify_checksums, d.validation_size)
  if d.max_train_examples is not None:
    n = d.max_train_examples
    available = len(splits.train.labels)
    if n > available:
      raise ConfigError(
          f"--train_size {n} is more than the {available} training images "
          f"(after --validation_size {d.validation_size}); choose at most "
          f"{available}.")
    splits = dataclasses.replace(
        splits, train=data_lib.Split(splits.train.images[:n],
                                     splits.train.labels[:n]))
  return splits


def check_counts(config: ExperimentConfig,
                 splits: data_lib.MnistSplits) -> None:
  """Counts the user names are used or refused, never clamped."""
  train = config.train
  available = len(splits.train.labels)
  if train.num_labeled is not None:
    if train.num_labeled > available:
      raise ConfigError(
          f"--num_labeled {train.num_labeled} is more than the {available} "
          "training images (after --train_size and --validation_size); "
          "leave it out to use every label.")
    # These modes train y on a labeled minibatch drawn from those images.
    classifies = config.mode in ("semisupervised", "dimreduction")
    if classifies and train.labeled_batch_size > train.num_labeled:
      raise ConfigError(
          f"--labeled_bsize {train.labeled_batch_size} is more than the "
          f"{train.num_labeled} labeled images; choose at most "
          f"{train.num_labeled}.")


def steps_per_epoch(config: ExperimentConfig, num_train: int) -> int:
  steps = num_train // config.train.batch_size
  if steps < 1:
    raise ConfigError(f"--bsize {config.train.batch_size} is larger than the "
                      f"{num_train} training images.")
  return steps


def train(config: ExperimentConfig,
          on_epoch_end: Optional[Callable[[int], None]] = None) -> str:
  """Trains (resuming when SAVE_PATH holds this run) and exports; returns the
  SavedModel path."""
  config.validate()
  # A multi-worker strategy must exist before other TensorFlow work.
  strategy = distribute.make_strategy(config.train.strategy)
  chief = distribute.is_chief(strategy)
  splits = load_data(config)
  check_counts(config, splits)
  logging.info("Training %s on %s from %s", config.mode, config.data.dataset,
               splits.source)
  config = dataclasses.replace(config, data=dataclasses.replace(
      config.data, used_source=splits.source))
  n_steps = steps_per_epoch(config, len(splits.train.labels))
  resuming = prepare_save_path(config) if chief else False
  with strategy.scope():
    model = build_model(config)
  trainer = trainer_lib.Trainer(model, config, n_steps, strategy)
  restored = trainer.restore()
  if resuming and not restored:
    logging.info("No checkpoint in %s yet: starting from epoch 0.",
                 config.save_path)
  trainer.fit(splits, on_epoch_end=on_epoch_end)
  if not chief:
    return ""
  path = export.export_saved_model(model, config.save_path)
  logging.info("SavedModel written to %s", path)
  write_run_figures(model, config, splits)
  return path


def write_run_figures(model, config: ExperimentConfig,
                      splits: data_lib.MnistSplits) -> None:
  """After training: loss_curves.png and the test codes for the projector."""
  logdir = os.path.join(config.save_path, trainer_lib.SUMMARY_DIR)
  summaries.write_loss_curves(logdir, os.path.join(config.save_path,
                                                   LOSS_CURVES_FILENAME))
  codes = evaluation.encode_split(model, splits.test,
                                  config.train.eval_batch_size)
  summaries.write_projector(logdir, codes, splits.test.labels)


def restore_model(config: ExperimentConfig, load: str):
  """Builds the mode and restores checkpoint `load` (an epoch or 'latest')."""
  config.validate()
  model = build_model(config)
  directory = trainer_lib.checkpoint_dir(config.save_path)
  state = tf.train.get_checkpoint_state(directory)
  available = list(state.all_model_checkpoint_paths) if state else []
  if load == LATEST:
    if not available:
      raise CheckpointError(f"No checkpoint in {directory}; train first "
                            "(--train) with this --save_path.")
    path = available[-1]
  else:
    if not str(load).isdigit():
      raise ConfigError(f"--load takes an epoch number or 'latest', got "
                        f"{load!r}.")
    path = os.path.join(directory, f"{trainer_lib.CHECKPOINT_PREFIX}-{load}")
    if path not in available and not tf.io.gfile.exists(path + ".index"):
      ids = [p.rsplit("-", 1)[-1] for p in available]
      raise CheckpointError(
          f"No checkpoint {load} in {directory}; available: "
          f"{', '.join(ids) or 'none'}.")
  checkpoint = tf.train.Checkpoint(**model.networks)
  try:
    checkpoint.restore(path).expect_partial().assert_existing_objects_matched()
  except trainer_lib.CHECKPOINT_ERRORS as e:
    raise CheckpointError(f"Checkpoint {path} is damaged or does not match "
                          f"this model ({type(e).__name__}: "
                          f"{str(e).splitlines()[0]}).") from e
  logging.info("Restored %s", path)
  return model


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
  images = images.reshape((-1,) + config.model.image_shape)
  figures.save_image_grid(path, images, GENERATE_GRID, GENERATE_GRID,
                          title=title, row_labels=row_labels)
  logging.info("Wrote %s", path)
  return path


def visualize(config: ExperimentConfig, load: str,
              splits: Optional[data_lib.MnistSplits] = None) -> list:
  """Writes latent.png (test codes by digit) and the learned manifold(s)."""
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
    ends = model.encode_fn(tf.constant(data_lib.to_unit_range(
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
  """Latent traversals (seed 003), as looping GIFs in SAVE_PATH.

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
  shape = config.model.image_shape
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
      frames.append(figures.tile_images(images.reshape((n,) + shape),
                                        TRAVERSE_GRID, TRAVERSE_GRID))
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
  images = tf.constant(data_lib.to_unit_range(splits.test.images[:rows]))
  styles = model.encode_fn(images).numpy()
  codes = np.repeat(styles, GENERATE_GRID, axis=0)
  digits = np.tile(np.arange(GENERATE_GRID), rows)
  decoded = model.decode_fn(tf.constant(codes), tf.constant(digits)).numpy()
  path = os.path.join(config.save_path, SAME_STYLE_FILENAME)
  figures.save_image_grid(
      path, decoded.reshape((-1,) + config.model.image_shape), rows,
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
