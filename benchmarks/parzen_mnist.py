"""Benchmark (not a test): the paper's Parzen-window log-likelihood on MNIST.

The protocol of the paper's Table 1 (after Goodfellow et al., 2014): draw
10,000 images from a trained model's SavedModel, fit a Gaussian Parzen window to them on
the [0, 1] pixel scale, choose the window width on the validation split and
report the mean log-likelihood of the 10,000 test images with its standard
error. The model is any trained run (a SAVE_PATH written by
`experiment/aae_mnist.py --train` or a benchmark).

  python benchmarks/parzen_mnist.py --run runs/bench_unsupervised/gaussian \
      --data_dir /path/to/mnist
"""

import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app  # pylint: disable=g-import-not-at-top
from absl import flags
from absl import logging

import common  # pylint: disable=g-import-not-at-top

flags.DEFINE_string("run", None, "SAVE_PATH of a trained run.", required=True)
flags.DEFINE_integer("num_samples", 10000, "Images drawn from the model.")
flags.DEFINE_integer("validation_points", 10000,
                     "Validation images used to choose the window width.")
flags.DEFINE_float("sigma_low", 0.05, "Smallest window width tried.")
flags.DEFINE_float("sigma_high", 1.0, "Largest window width tried.")
flags.DEFINE_integer("num_sigmas", 20, "Widths tried (log-spaced).")
flags.DEFINE_integer("refine_steps", 12,
                     "Golden-section steps between the best grid width's "
                     "neighbours, on validation (0: the grid's best).")
flags.DEFINE_string("data_dir", None, "Folder with the MNIST IDX files.")
FLAGS = flags.FLAGS


def main(argv):
  del argv
  import numpy as np  # pylint: disable=g-import-not-at-top
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from aae_tf import run_dir, training, evaluation, export  # pylint: disable=g-import-not-at-top
  from aae_tf import config as config_lib  # pylint: disable=g-import-not-at-top
  start = time.perf_counter()
  config = run_dir.run_config(config_lib.ExperimentConfig(
      save_path=os.path.abspath(FLAGS.run),
      data=config_lib.DataConfig(data_dir=FLAGS.data_dir)))
  # Samples come from the run's SavedModel (its `sample` signature).
  sample = tf.saved_model.load(os.path.join(
      config.save_path, export.EXPORT_DIR)).signatures["sample"]
  splits = training.load_data(config)
  # Model images are in [-1, 1]; the protocol uses [0, 1].
  images = sample(count=tf.constant(FLAGS.num_samples))["images"].numpy()
  samples = (images + 1.0) / 2.0
  n = len(splits.validation.labels)
  validation = splits.validation.images[:min(FLAGS.validation_points, n)]
  validation = validation.reshape(len(validation), -1) / 255.0
  test = splits.test.images.reshape(len(splits.test.labels), -1) / 255.0
  sigmas = np.geomspace(FLAGS.sigma_low, FLAGS.sigma_high, FLAGS.num_sigmas)
  result = evaluation.parzen_evaluation(samples.reshape(len(samples), -1),
                                        validation, test, sigmas,
                                        FLAGS.refine_steps)
  wall = time.perf_counter() - start
  if result["sigma"] in (sigmas[0], sigmas[-1]):  # Not refined: no bracket.
    logging.warning("The best window width %.3f is at the end of the range "
                    "tried; widen --sigma_low/--sigma_high.", result["sigma"])
  model_text = (f"{config.mode}, {config.prior.dist_type} prior, ncode "
                f"{config.model.ncode}, {config.model.architecture}, "
                f"{config.model.posterior} posterior, "
                f"{config.model.reconstruction} reconstruction")
  row = {"run": FLAGS.run, "model": model_text,
         "epochs": config.train.max_epoch, **result, "wall_time_s": wall,
         "num_samples": FLAGS.num_samples, "hardware": common.hardware(),
         "command": common.command_line()}
  logging.info("%s", row)
  common.append_results("parzen_mnist", [row])


if __name__ == "__main__":
  app.run(main)
