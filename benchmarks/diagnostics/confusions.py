"""Diagnostic (not a test): which digits a semi-supervised or clustering run's
exported classifier confuses on the validation split.

Reads the run's SavedModel with plain TensorFlow (`classify`, and for a
clustering run `encode`), so it works
for any run this package exported, or with --load a checkpoint of a run
still training (through aae_tf); prints the validation error and the
largest true -> predicted confusions with their share of the errors, and
how many images each class is given against how many it holds; for a
clustering run, each cluster's commonest digits, its mixed clusters marked,
and for each mixed cluster how well a line through its style codes tells
its two commonest digits apart (`evaluation.mixed_cluster_separability`:
high where the style code, not y, carries the difference), e.g.

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
flags.DEFINE_float("mixed_below", 0.9, "Clustering: a cluster whose "
                   "commonest digit holds less than this share is mixed.")
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
    predict = {"classify": lambda: evaluation.predict_split(
                   model.classify_fn, validation, FLAGS.batch),
               "encode": lambda: evaluation.encode_split(
                   model, validation, FLAGS.batch)}
  else:
    exported = tf.saved_model.load(os.path.join(FLAGS.run, "saved_model"))
    images = (validation.images[..., None] / 127.5 - 1).astype("float32")
    if exported.signatures["classify"].structured_input_signature[1][
        "images"].shape.rank == 2:
      images = images.reshape(len(images), -1)  # Exports before 2026-12-01.

    def exported_outputs(signature, output):
      return lambda: np.concatenate([
          exported.signatures[signature](
              images=tf.constant(images[i:i + FLAGS.batch]))[output].numpy()
          for i in range(0, len(images), FLAGS.batch)])

    predict = {"classify": exported_outputs("classify", "probabilities"),
               "encode": exported_outputs("encode", "codes")}
  probabilities = predict["classify"]()
  labels = validation.labels
  # counts[k, d]: validation images of digit d whose prediction is k.
  counts = evaluation.cluster_confusion(probabilities, labels)
  mode = run_dir.run_config(config).mode
  if mode == "clustering":
    for line in evaluation.describe_clusters(counts, FLAGS.mixed_below):
      logging.info("%s", line)
    for k, first, second, accuracy in evaluation.mixed_cluster_separability(
        predict["encode"](), probabilities, labels, FLAGS.mixed_below):
      logging.info("cluster %d: %d against %d by a line through the style "
                   "codes: %.1f%% right on held-out images", k, first,
                   second, 100 * accuracy)
    return
  errors = int(counts.sum() - np.trace(counts))
  pairs = sorted(((int(counts[p, t]), t, p) for t in range(NUM_CLASSES)
                  for p in range(counts.shape[0]) if t != p), reverse=True)
  logging.info("%s: validation error %.2f%% (%d of %d); largest confusions: %s",
               FLAGS.run, 100 * errors / len(labels), errors, len(labels),
               ", ".join(f"{t} -> {p}: {n} ({n / max(errors, 1):.0%})"
                         for n, t, p in pairs[:FLAGS.top]))
  # How many images each class is given, against how many it has: the
  # y adversary's prior asks for a tenth each.
  given, held = counts.sum(axis=1), counts.sum(axis=0)
  logging.info("images given / held per class: %s", ", ".join(
      f"{c}: {given[c]}/{held[c]}" for c in range(NUM_CLASSES)))


if __name__ == "__main__":
  app.run(main)
