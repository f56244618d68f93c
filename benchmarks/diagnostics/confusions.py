"""Diagnostic (not a test): which digits a semi-supervised or clustering run's
exported classifier confuses on the validation split.

Reads the run's SavedModel with plain TensorFlow (`classify`), so it works
for any run this package exported, or with --load a checkpoint of a run
still training (through aae_tf); prints the validation error and the
largest true -> predicted confusions with their share of the errors, and
how many images each class is given against how many it holds, e.g.

  python benchmarks/diagnostics/confusions.py --run runs/bench_classify/semisupervised100_paper \
      --data_dir /path/to/mnist
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app  # pylint: disable=g-import-not-at-top
from absl import flags
from absl import logging

flags.DEFINE_string("run", None, "SAVE_PATH of a trained run.", required=True)
flags.DEFINE_string("data_dir", None, "Folder with the MNIST IDX files.")
flags.DEFINE_string("load", None, "A checkpoint (an epoch or 'latest') "
                    "instead of the SavedModel, for a run still training.")
flags.DEFINE_integer("top", 5, "Confusions to list.")
flags.DEFINE_integer("batch", 1000, "Images per call of the SavedModel.")
FLAGS = flags.FLAGS
NUM_CLASSES = 10


def main(argv):
  del argv
  import numpy as np  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from aae_tf import config as config_lib, evaluation, run_dir, training  # pylint: disable=g-import-not-at-top
  config = config_lib.ExperimentConfig(
      save_path=FLAGS.run, data=config_lib.DataConfig(data_dir=FLAGS.data_dir))
  validation = training.load_data(config).validation
  if FLAGS.load:
    model = training.restore_model(run_dir.run_config(config), FLAGS.load)
    probabilities = evaluation.predict_split(model.classify_fn, validation,
                                             FLAGS.batch)
  else:
    classify = tf.saved_model.load(
        os.path.join(FLAGS.run, "saved_model")).signatures["classify"]
    images = (validation.images[..., None] / 127.5 - 1).astype("float32")
    if classify.structured_input_signature[1]["images"].shape.rank == 2:
      images = images.reshape(len(images), -1)  # Exports before 2026-12-01.
    probabilities = np.concatenate([
        classify(images=tf.constant(images[i:i + FLAGS.batch]))[
            "probabilities"].numpy()
        for i in range(0, len(images), FLAGS.batch)])
  predicted, labels = probabilities.argmax(axis=1), validation.labels
  counts = np.zeros((NUM_CLASSES, probabilities.shape[1]), int)
  np.add.at(counts, (labels, predicted), 1)
  errors = int((predicted != labels).sum())
  pairs = sorted(((int(counts[t, p]), t, p) for t in range(NUM_CLASSES)
                  for p in range(counts.shape[1]) if t != p), reverse=True)
  logging.info("%s: validation error %.2f%% (%d of %d); largest confusions: %s",
               FLAGS.run, 100 * errors / len(labels), errors, len(labels),
               ", ".join(f"{t} -> {p}: {n} ({n / max(errors, 1):.0%})"
                         for n, t, p in pairs[:FLAGS.top]))
  # How many images each class is given, against how many it has: the
  # y adversary's prior asks for a tenth each.
  given, held = counts.sum(axis=0), np.bincount(labels, minlength=NUM_CLASSES)
  logging.info("images given / held per class: %s", ", ".join(
      f"{c}: {given[c]}/{held[c]}" for c in range(NUM_CLASSES)))


if __name__ == "__main__":
  app.run(main)
