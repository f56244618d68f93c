"""Benchmark (not a test): the unsupervised AAE on full MNIST.

Trains the 2-D Gaussian and the 10-component mixture models, then records
epochs, wall time, training images/s, test reconstruction error and how close
held-out codes are to the prior, in results/unsupervised_mnist.json and a row
per model in results/unsupervised_mnist.md.

  python benchmarks/unsupervised_mnist.py --data_dir /path/to/mnist \
      --maxepoch 30 --lr_decay_epochs 20 --out_dir runs/bench_unsupervised
"""

import json
import os
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app  # pylint: disable=g-import-not-at-top
from absl import flags
from absl import logging

import common  # pylint: disable=g-import-not-at-top

flags.DEFINE_string("data_dir", None, "Folder with the MNIST IDX files.")
flags.DEFINE_string("out_dir", "runs/bench_unsupervised", "Where runs go.")
flags.DEFINE_list("priors", ["gaussian", "gmm"], "Priors to train.")
flags.DEFINE_integer("maxepoch", 30, "Epochs per model.")
flags.DEFINE_list("lr_decay_epochs", ["20"], "Learning-rate decay epochs.")
flags.DEFINE_integer("seed", 0, "Random seed.")
FLAGS = flags.FLAGS


def run_one(dist_type: str):
  from aae_tf import evaluation, training  # pylint: disable=g-import-not-at-top
  from aae_tf import config as config_lib  # pylint: disable=g-import-not-at-top
  import code_stats  # pylint: disable=g-import-not-at-top
  config = config_lib.ExperimentConfig(
      save_path=os.path.abspath(os.path.join(FLAGS.out_dir, dist_type)),
      data=config_lib.DataConfig(data_dir=FLAGS.data_dir),
      prior=config_lib.PriorConfig(dist_type=dist_type),
      train=config_lib.TrainConfig(
          max_epoch=FLAGS.maxepoch, seed=FLAGS.seed, progress_bar=False,
          optimizers=config_lib.adam_optimizers(decay_epochs=tuple(
              int(e) for e in FLAGS.lr_decay_epochs))),
  ).validate()
  if os.path.exists(config.save_path):
    raise SystemExit(f"{config.save_path} exists; choose a new --out_dir.")
  splits = training.load_data(config)
  steps = training.steps_per_epoch(config, len(splits.train.labels))
  stamps = [time.perf_counter()]
  model = training.train_and_evaluate(
      config, splits,
      on_epoch_end=lambda _: stamps.append(time.perf_counter())).model
  wall = stamps[-1] - stamps[0]
  # Images/s over epochs 2.. (epoch 1 includes tracing and XLA compilation),
  # with validation, summaries and checkpoints at their default cadence.
  steady = stamps[-1] - stamps[1] if len(stamps) > 2 else wall
  epochs_steady = max(len(stamps) - 2, 1)
  images_per_s = epochs_steady * steps * config.train.batch_size / steady
  test = splits.test
  codes = evaluation.encode_split(model, test, config.train.batch_size)
  result = {
      "prior": dist_type, "epochs": FLAGS.maxepoch,
      "wall_time_s": round(wall, 1),
      "train_images_per_s": round(images_per_s, 1),
      "test_reconstruction_mse": evaluation.reconstruction_error(
          model, test, config.train.batch_size),
      "train_images": len(splits.train.labels), "data": splits.source,
  }
  if dist_type == "gmm":
    result["digit_component_share"] = code_stats.digit_component_share(
        model.prior, codes, test.labels)
  else:
    result["test_code_stats"] = code_stats.gaussian_code_stats(codes)
  from aae_tf import figures  # pylint: disable=g-import-not-at-top
  figures.latent_scatter(os.path.join(common.RESULTS_DIR,
                                      f"unsupervised_{dist_type}_latent.png"),
                         codes, test.labels,
                         title=f"Test codes, {dist_type} prior, "
                         f"{FLAGS.maxepoch} epochs")
  return result


def main(argv):
  del argv
  rows = []
  for dist_type in FLAGS.priors:
    result = run_one(dist_type)
    result.update(command=common.command_line(), hardware=common.hardware())
    logging.info("%s", json.dumps(result))
    rows.append(result)
  common.append_results("unsupervised_mnist", rows)


if __name__ == "__main__":
  app.run(common.command_main(main))
