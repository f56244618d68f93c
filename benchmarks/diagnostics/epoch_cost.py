"""Diagnostic (not a test): what a recipe's full schedule costs on this machine.

For each MODE:RECIPE, times the compiled step loop on real MNIST batches
(after a warm-up, interleaved over repeats), and reports seconds per epoch
of training steps and the hours the recipe's max_epoch would take here. The
rows bound what a session can reach.

  python benchmarks/diagnostics/epoch_cost.py --data_dir /path/to/mnist \
      --runs semisupervised:paper,clustering:paper
"""

import os
import sys
import time

from absl import app
from absl import flags
from absl import logging

sys.path.insert(0, os.path.dirname(os.path.dirname(  # benchmarks/: common
    os.path.abspath(__file__))))
import common

flags.DEFINE_list("runs", ["semisupervised:paper", "clustering:paper"],
                  "MODE:RECIPE pairs to time.")
flags.DEFINE_integer("steps", 50, "Steps per timing.")
flags.DEFINE_integer("repeats", 3, "Timings per run, interleaved.")
flags.DEFINE_integer("num_labeled", 100, "Labels of the semi-supervised runs.")
flags.DEFINE_string("data_dir", None, "Folder with the MNIST IDX files.")
FLAGS = flags.FLAGS


def build(mode: str, recipe: str):
  """(trainer, iterator, config) of a throw-away run of mode under recipe."""
  import dataclasses  # pylint: disable=g-import-not-at-top
  import tempfile  # pylint: disable=g-import-not-at-top
  from aae_tf import recipes, training, trainer as trainer_lib  # pylint: disable=g-import-not-at-top
  from aae_tf.modes import build_model  # pylint: disable=g-import-not-at-top
  labeled = FLAGS.num_labeled if mode == "semisupervised" else None
  config = recipes.make_config(mode, tempfile.mkdtemp(), recipe,
                               num_labeled=labeled)
  config = dataclasses.replace(config, data=dataclasses.replace(
      config.data, data_dir=FLAGS.data_dir))
  splits = training.load_data(config)
  steps = training.steps_per_epoch(config, len(splits.train.labels))
  trainer = trainer_lib.Trainer(build_model(config), config, steps)
  dataset = trainer.model.train_dataset(splits.train, seed=0).repeat()
  return trainer, iter(dataset), config


def timing(trainer, iterator, steps: int) -> float:
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  start = time.perf_counter()
  trainer._loop_fn(iterator, tf.constant(steps))  # pylint: disable=protected-access
  trainer.step.numpy()
  return (time.perf_counter() - start) / steps


def main(argv):
  del argv
  import numpy as np  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  runs = [tuple(r.split(":")) for r in FLAGS.runs]
  built = {r: build(*r) for r in runs}
  for trainer, iterator, _ in built.values():
    trainer._loop_fn(iterator, tf.constant(3))  # pylint: disable=protected-access
  seconds = {r: [] for r in runs}
  for _ in range(FLAGS.repeats):
    for r in runs:
      trainer, iterator, _ = built[r]
      seconds[r].append(timing(trainer, iterator, FLAGS.steps))
  rows = []
  for (mode, recipe), per_step in seconds.items():
    trainer, _, config = built[(mode, recipe)]
    epoch = np.array(per_step) * trainer.steps_per_epoch
    hours = float(np.median(epoch)) * config.train.max_epoch / 3600
    units = "x".join(str(u) for u in config.model.encoder_units)
    row = {"mode": mode, "recipe": recipe, "encoder_units": units,
           "steps_per_epoch": trainer.steps_per_epoch,
           "epoch_seconds": [float(e) for e in epoch],
           "max_epoch": config.train.max_epoch, "hours": hours,
           "hardware": common.hardware(), "command": common.command_line()}
    rows.append(row)
    logging.info("%s", row)
  common.append_results("epoch_cost", rows)


if __name__ == "__main__":
  os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
  app.run(main)
