"""Diagnostic (not a test): how epoch time and peak memory grow with the data
set size and the batch size, for the unsupervised MLP AAE (its seed recipe)
or the semi-supervised one (its default recipe).

Every configuration runs in a fresh process (so its peak resident memory is
its own): it trains three epochs through `training.train_and_evaluate` and
reports the second epoch's time (the first includes compilation, the last
the test split and the export) and the process's peak RSS.

  python benchmarks/diagnostics/scaling.py --data_dir /path/to/mnist
  python benchmarks/diagnostics/scaling.py --mode semisupervised \
      --fractions 0.5 --batch_sizes 200,400 \
      --data_dir /path/to/mnist
"""

import json
import os
import resource
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app  # pylint: disable=g-import-not-at-top
from absl import flags
from absl import logging

sys.path.insert(0, os.path.dirname(os.path.dirname(  # benchmarks/: common
    os.path.abspath(__file__))))
import common  # pylint: disable=g-import-not-at-top

flags.DEFINE_enum("mode", "unsupervised", ["unsupervised", "semisupervised"],
                  "The model: unsupervised (seed recipe) or semi-supervised "
                  "(default recipe, --num_labeled labels).")
flags.DEFINE_integer("num_labeled", 100, "Labels of --mode semisupervised.")
flags.DEFINE_list("fractions", ["0.25", "0.5", "1.0"], "Shares of the 50,000 "
                  "training images (at --base_batch).")
flags.DEFINE_integer("base_batch", None, "The batch size of --fractions "
                     "(default: the recipe's).")
flags.DEFINE_list("batch_sizes", ["64", "128", "256", "512", "1024"],
                  "Batch sizes (at the largest of --fractions).")
flags.DEFINE_string("data_dir", None, "Folder with the MNIST IDX files.")
flags.DEFINE_string("child", None, "Internal: run one configuration.")
FLAGS = flags.FLAGS
TRAIN_IMAGES = 50000


def num_labeled():
  return FLAGS.num_labeled if FLAGS.mode == "semisupervised" else None


def recipe_config(save_path: str):
  """--mode's default recipe (with --num_labeled labels if semi-supervised),
  not yet validated."""
  from aae_tf import recipes  # pylint: disable=g-import-not-at-top
  return recipes.make_config(FLAGS.mode, save_path, num_labeled=num_labeled(),
                             validate=False)


def child(spec: str) -> None:
  """Trains three epochs of one configuration; prints a JSON line."""
  import dataclasses  # pylint: disable=g-import-not-at-top
  from aae_tf import training  # pylint: disable=g-import-not-at-top
  images, batch = (int(v) for v in spec.split(","))
  stamps = [time.perf_counter()]
  with tempfile.TemporaryDirectory() as tmp:
    config = recipe_config(os.path.join(tmp, "run"))
    config = dataclasses.replace(
        config,
        data=dataclasses.replace(config.data, data_dir=FLAGS.data_dir,
                                 max_train_examples=images),
        train=dataclasses.replace(config.train, batch_size=batch, max_epoch=3,
                                  progress_bar=False))
    training.train_and_evaluate(
        config.validate(),
        on_epoch_end=lambda _: stamps.append(time.perf_counter()))
  peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
  print(json.dumps({"mode": FLAGS.mode, "num_labeled": num_labeled(),  # pylint: disable=print-function
                    "images": images, "batch": batch,
                    "epoch_s": stamps[2] - stamps[1], "peak_mib": peak_mib}))


def main(argv):
  del argv
  if FLAGS.child:
    child(FLAGS.child)
    return
  base = FLAGS.base_batch or recipe_config("unused").train.batch_size
  sizes = [int(TRAIN_IMAGES * float(f)) for f in FLAGS.fractions]
  specs = [(images, base) for images in sizes]
  specs += [(max(sizes), int(b)) for b in FLAGS.batch_sizes if int(b) != base]
  rows = []
  for images, batch in specs:
    out = subprocess.run(
        [sys.executable, os.path.abspath(__file__), "--child",
         f"{images},{batch}", "--mode", FLAGS.mode,
         "--num_labeled", str(FLAGS.num_labeled)] + (
             ["--data_dir", FLAGS.data_dir] if FLAGS.data_dir else []),
        capture_output=True, text=True, check=True)
    row = json.loads(out.stdout.strip().splitlines()[-1])
    row.update(hardware=common.hardware(), command=common.command_line())
    rows.append(row)
    logging.info("%s", row)
  common.append_results("scaling", rows)


if __name__ == "__main__":
  app.run(main)
