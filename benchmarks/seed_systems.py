"""Benchmark (not a test): the TF1 seed's other systems on MNIST.

Trains each system through `aae_tf.training` (the same loop, checkpoints,
summaries and SavedModel as every mode), writes its figures, and appends a
row per system to results/seed_systems.md:

- conv: seed 003's convolutional AAE (5-D deterministic code, truncated
  Gaussian prior, balanced discriminator/encoder training, learning rate
  divided by 5 on validation plateaus); latent-traversal GIFs.
- conv_labels: the same with the one-hot label fed to the decoder (seed 003's
  odd scenarios); per-digit traversal GIFs and the same-style grid.
- bce: seed 004's deterministic AAE, sigmoid decoder with binary
  cross-entropy, N(0, 5^2) prior, separate generator / discriminator learning
  rates; interpolation strips between test digits.
- aae2d / maae2d: 2-D MLP AAE with one and with three discriminators; their
  test codes side by side (seed 000's latent comparison).
- maae_style: the supervised MAAE (three discriminators, 2-D style code);
  the style/content grid (columns share a style, rows a digit).

  python benchmarks/seed_systems.py --data_dir /path/to/mnist
"""

import os
import shutil
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app  # pylint: disable=g-import-not-at-top
from absl import flags
from absl import logging

import common  # pylint: disable=g-import-not-at-top

SYSTEMS = ("conv", "conv_labels", "bce", "aae2d", "maae2d", "maae_style")
flags.DEFINE_list("systems", list(SYSTEMS), "Systems to train.")
flags.DEFINE_integer("maxepoch", 10, "Epochs per system.")
flags.DEFINE_integer("train_size", 20000, "Train on the first N images.")
flags.DEFINE_integer("seed", 0, "Random seed.")
flags.DEFINE_string("data_dir", None, "Folder with the MNIST IDX files.")
flags.DEFINE_string("out_dir", "runs/bench_seed_systems", "Where runs go.")
FLAGS = flags.FLAGS
INTERPOLATION_PAIRS = ((0, 1), (4, 9), (3, 8), (7, 2))
FIGURES_DIR = os.path.join(common.RESULTS_DIR, "seed_systems")


def system_config(name: str):
  """(seed name, ExperimentConfig) of a system."""
  from aae_tf import config as config_lib  # pylint: disable=g-import-not-at-top
  conv_model = dict(architecture="conv", ncode=5, posterior="deterministic",
                    discriminator_units=(500, 500))
  no_decay = config_lib.adam_optimizers(decay_epochs=())
  conv_train = dict(optimizers=no_decay, lr_plateau_patience=2,
                    lr_plateau_factor=0.2, balance_discriminator_below=0.35,
                    balance_generator_below=0.35)
  systems = {
      "conv": ("003", "unsupervised", dict(dist_type="truncated_gaussian"),
               conv_model, conv_train),
      "conv_labels": ("003", "supervised",
                      dict(dist_type="truncated_gaussian"), conv_model,
                      conv_train),
      "bce": ("004", "unsupervised", dict(gaussian_std=5.0),
              dict(posterior="deterministic", reconstruction="bce"),
              dict(optimizers=config_lib.adam_optimizers(
                  decay_epochs=(), generator=1e-4, discriminator=5e-5))),
      "aae2d": ("000", "unsupervised", {}, dict(num_discriminators=1),
                dict(optimizers=no_decay)),
      "maae2d": ("000", "unsupervised", {}, dict(num_discriminators=3),
                 dict(optimizers=no_decay)),
      "maae_style": ("000", "supervised", {}, dict(num_discriminators=3),
                     dict(optimizers=no_decay)),
  }
  seed, mode, prior, model, train = systems[name]
  config = config_lib.ExperimentConfig(
      save_path=os.path.abspath(os.path.join(FLAGS.out_dir, name)),
      mode=mode,
      data=config_lib.DataConfig(data_dir=FLAGS.data_dir,
                                 max_train_examples=FLAGS.train_size),
      prior=config_lib.PriorConfig(**prior),
      model=config_lib.ModelConfig(**model),
      train=config_lib.TrainConfig(max_epoch=FLAGS.maxepoch, seed=FLAGS.seed,
                                   progress_bar=False, **train))
  return seed, config.validate()


def keep(path: str, name: str) -> str:
  """Copies a figure into results/seed_systems/ as <name>; returns it."""
  os.makedirs(FIGURES_DIR, exist_ok=True)
  target = os.path.join(FIGURES_DIR, name)
  shutil.copyfile(path, target)
  return os.path.relpath(target, common.RESULTS_DIR)


def figures_for(name: str, config, splits, codes_by_system) -> list:
  """Writes the system's figures; returns their paths under results/."""
  from aae_tf import commands, training, evaluation, figures  # pylint: disable=g-import-not-at-top
  import side_by_side  # pylint: disable=g-import-not-at-top
  kept = []
  if name in ("conv", "conv_labels"):
    for path in commands.traverse(config, "latest", splits):
      kept.append(keep(path, f"{name}_{os.path.basename(path)}"))
  elif name == "bce":
    for path in commands.interpolate(config, "latest", INTERPOLATION_PAIRS,
                                    splits):
      kept.append(keep(path, f"{name}_{os.path.basename(path)}"))
  elif name in ("aae2d", "maae2d"):
    model = training.restore_model(config, "latest")
    codes_by_system[name] = evaluation.encode_split(
        model, splits.test, config.train.eval_batch_size)
    if len(codes_by_system) == 2:
      panels = [figures.latent_scatter(
          None, codes_by_system[key], splits.test.labels, limits=4.0,
          title=f"{'AAE, 1' if key == 'aae2d' else 'MAAE, 3'} "
          f"discriminator{'s' * (key == 'maae2d')}, test codes")
                for key in ("aae2d", "maae2d")]
      path = os.path.join(FIGURES_DIR, "aae_vs_maae_latent.png")
      os.makedirs(FIGURES_DIR, exist_ok=True)
      side_by_side.save_side_by_side(path, panels)
      kept.append(os.path.relpath(path, common.RESULTS_DIR))
  elif name == "maae_style":
    path = commands.generate(config, "latest", supervise=True)
    kept.append(keep(path, f"{name}_generate_supervise.png"))
  return kept


def main(argv):
  del argv
  from aae_tf import evaluation, training  # pylint: disable=g-import-not-at-top
  unknown = set(FLAGS.systems) - set(SYSTEMS)
  if unknown:
    raise SystemExit(f"Unknown systems {sorted(unknown)}; choose from "
                     f"{', '.join(SYSTEMS)}.")
  codes_by_system = {}
  for name in FLAGS.systems:
    seed, config = system_config(name)
    if os.path.exists(config.save_path):
      raise SystemExit(f"{config.save_path} exists; choose a new --out_dir.")
    start = time.perf_counter()
    training.train_and_evaluate(config)
    wall = time.perf_counter() - start
    splits = training.load_data(config)
    model = training.restore_model(config, "latest")
    mse = evaluation.reconstruction_error(
        model, splits.test, config.train.eval_batch_size)
    kept = figures_for(name, config, splits, codes_by_system)
    row = {"system": name, "seed": seed, "epochs": FLAGS.maxepoch,
           "train_images": len(splits.train.labels), "wall_time_s": wall,
           "test_mse_unit_range": mse, "figures": kept,
           "hardware": common.hardware(), "command": common.command_line()}
    logging.info("%s", row)
    links = ", ".join(f"[{os.path.basename(k)}]({k})" for k in kept[:4])
    if len(kept) > 4:
      links += f" and {len(kept) - 4} more"
    common.append_results("seed_systems", [row])


if __name__ == "__main__":
  app.run(common.command_main(main))
