"""Benchmark (not a test): images/s of one mode's compiled step loop, to compare
two commits of this package in the same sitting (issue 14: "no mode slower
than before").

Run it with PYTHONPATH naming the checkout to measure; it works with the
package layouts before and after issue 14 (`aae_tf.app` / `aae_tf.models`,
then `aae_tf.training` / `aae_tf.modes`). Alternate the two checkouts a few
times and compare the medians, e.g.

  for i in 1 2 3; do for tree in /path/old /path/new; do
    PYTHONPATH=$tree taskset -c 0 python benchmarks/step_rate.py \
        --mode conv --data_dir /path/to/mnist; done; done

Prints one JSON line: the mode, the package's location and the images/s of
each repeat (`--steps` steps each, after a warm-up that compiles).
"""

import json
import os
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app  # pylint: disable=g-import-not-at-top
from absl import flags

import common  # pylint: disable=g-import-not-at-top

flags.DEFINE_enum("mode", "unsupervised",
                  ["unsupervised", "semisupervised", "conv", "maae"],
                  "Which model (as in throughput.py).")
flags.DEFINE_string("data_dir", None, "Folder with the MNIST IDX files.")
flags.DEFINE_integer("steps", 100, "Steps per timed repeat.")
flags.DEFINE_integer("repeats", 3, "Timed repeats.")
FLAGS = flags.FLAGS
WARMUP_STEPS = 5


def config_for(mode: str, save_path: str):
  """The models of throughput.py (same fields in both layouts)."""
  from aae_tf import config as config_lib  # pylint: disable=g-import-not-at-top
  train_mode, model = common.throughput_model(mode)
  return config_lib.ExperimentConfig(
      save_path=save_path, mode=train_mode,
      data=config_lib.DataConfig(data_dir=FLAGS.data_dir),
      model=model,
      train=config_lib.TrainConfig(
          progress_bar=False,
          num_labeled=1000 if mode == "semisupervised" else None)).validate()


def main(argv):
  del argv
  import aae_tf  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from aae_tf import trainer as trainer_lib  # pylint: disable=g-import-not-at-top
  package = os.path.dirname(aae_tf.__file__)
  # By file, not by import: an editable install can make the other layout's
  # modules importable from another checkout.
  if os.path.exists(os.path.join(package, "modes.py")):
    from aae_tf import training as loop  # pylint: disable=g-import-not-at-top
    from aae_tf.modes import build_model  # pylint: disable=g-import-not-at-top
  else:  # The layout before issue 14.
    from aae_tf import app as loop  # pylint: disable=g-import-not-at-top
    from aae_tf.models import build_model  # pylint: disable=g-import-not-at-top
  config = config_for(FLAGS.mode, tempfile.mkdtemp(prefix="step_rate_"))
  splits = loop.load_data(config)
  steps = loop.steps_per_epoch(config, len(splits.train.labels))
  trainer = trainer_lib.Trainer(build_model(config), config, steps)
  iterator = iter(trainer.model.train_dataset(splits.train, 0).repeat())
  trainer._loop_fn(iterator, tf.constant(WARMUP_STEPS))  # pylint: disable=protected-access
  trainer.step.numpy()
  rates = []
  for _ in range(FLAGS.repeats):
    start = time.perf_counter()
    trainer._loop_fn(iterator, tf.constant(FLAGS.steps))  # pylint: disable=protected-access
    trainer.step.numpy()
    rates.append(FLAGS.steps * config.train.batch_size /
                 (time.perf_counter() - start))
  print(json.dumps({"mode": FLAGS.mode,  # pylint: disable=print-function
                    "package": package,
                    "images_per_s": rates}))


if __name__ == "__main__":
  app.run(main)
