"""Benchmark (not a test): semi-supervised classification or clustering on
full MNIST, with the test error checked through the exported SavedModel.

  python benchmarks/classify_mnist.py --recipe paper --num_labeled 100 \
      --maxepoch 50 --data_dir /path/to/mnist
  python benchmarks/classify_mnist.py --mode clustering --ncluster 16 ...

Model, recipe and optimisation flags are the command line's (aae_tf.cli, as
in experiment/aae_mnist.py): the same flags give the same run.
"""

import dataclasses
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app  # pylint: disable=g-import-not-at-top
from absl import flags
from absl import logging

import common  # pylint: disable=g-import-not-at-top

from aae_tf import cli  # pylint: disable=g-import-not-at-top

cli.define_flags(cli.MNIST)
flags.adopt_module_key_flags(cli)
flags.DEFINE_enum("mode", "semisupervised",
                  ["semisupervised", "clustering", "dimreduction"],
                  "Which model to train (dimreduction: section 7 with "
                  "--num_labeled labels, one cluster head per digit, 2-D).")
flags.DEFINE_bool("resume", False, "Continue the run in --out_dir if it exists "
                  "(same flags): long schedules over several sessions.")
flags.DEFINE_string("out_dir", "runs/bench_classify", "Where runs go.")
FLAGS = flags.FLAGS
ACTIONS = {"semisupervised": "train_semisupervised",
           "clustering": "train_clustering",
           "dimreduction": "train_dimreduction"}
def build_config(tag: str):
  """The command line's configuration for --mode (the recipe with the flags
  given over it), in OUT_DIR/TAG, without a progress bar and, unless
  --test_every says otherwise, with test error after every epoch (the
  learning curve the paper reports)."""
  config = cli.config_from_flags(cli.MNIST, FLAGS, ACTIONS[FLAGS.mode])
  test_every = 1 if FLAGS.test_every is None else FLAGS.test_every
  return dataclasses.replace(
      config, save_path=os.path.abspath(os.path.join(FLAGS.out_dir, tag)),
      train=dataclasses.replace(config.train, progress_bar=False,
                                test_every_epochs=test_every)).validate()


def main(argv):
  del argv
  from aae_tf import commands, training, evaluation  # pylint: disable=g-import-not-at-top
  clustering = FLAGS.mode == "clustering"
  reduction = FLAGS.mode == "dimreduction"
  tag = (f"clustering{FLAGS.ncluster or 16}" if clustering
         else f"{FLAGS.mode}{FLAGS.num_labeled or 'All'}")
  if FLAGS.recipe != "default":
    tag += f"_{FLAGS.recipe}"
  if FLAGS.ncode is not None:  # Over the recipe's style size.
    tag += f"_ncode{FLAGS.ncode}"
  if FLAGS.labeled_with_replacement:
    tag += "_resampled"
  if FLAGS.consistency:  # Beyond the paper: its own rows.
    tag += f"_consistency{FLAGS.consistency:g}"
    if FLAGS.consistency_rampup:
      tag += f"_ramp{FLAGS.consistency_rampup:g}"
  if FLAGS.vat:
    tag += f"_vat{FLAGS.vat:g}"
  if FLAGS.vat_epsilon:  # Also over a recipe's own VAT phase.
    tag += f"_eps{FLAGS.vat_epsilon:g}"
  if FLAGS.vat_radius_scale:
    tag += f"_radius{FLAGS.vat_radius_scale:g}"
    if FLAGS.vat_radius_neighbor:
      tag += f"-k{FLAGS.vat_radius_neighbor}"
  if FLAGS.units:
    tag += "_units" + "-".join(FLAGS.units)
  if FLAGS.information:
    tag += f"_info{FLAGS.information:g}"
    if FLAGS.information_marginal is not None:
      tag += f"-m{FLAGS.information_marginal:g}"
  if FLAGS.cluster_naming is not None:
    tag += f"_naming-{FLAGS.cluster_naming}"
  if FLAGS.class_balance:
    tag += f"_balance{FLAGS.class_balance:g}"
  if FLAGS.weight_average is not None:
    tag += f"_average{FLAGS.weight_average:g}"
  if FLAGS.hidden_noise:
    tag += f"_hnoise{FLAGS.hidden_noise:g}"
  if FLAGS.anneal is not None:
    tag += f"_anneal-{FLAGS.anneal}"
  if FLAGS.anneal_start is not None:
    tag += f"{FLAGS.anneal_start:g}"
  if FLAGS.y_batch_statistics is not None:  # Over the recipe's choice.
    tag += "_ybatch" if FLAGS.y_batch_statistics else "_noybatch"
  if FLAGS.lr_decay_epochs is not None:  # Over the recipe's schedule.
    tag += "_decay" + "-".join(FLAGS.lr_decay_epochs)
  if FLAGS.lr_plateau_patience:  # Drops on a validation plateau.
    tag += f"_plateau{FLAGS.lr_plateau_patience}"
    if FLAGS.lr_plateau_metric:
      tag += "-" + FLAGS.lr_plateau_metric.split("/")[-1]
  for override in FLAGS.optimizers or ():  # KEY:KIND:LR:MOMENTUM
    key, kind, rate = override.split(":")[:3]
    tag += f"_{key}-{kind}{rate}"
  if FLAGS.maxepoch is not None and FLAGS.recipe == "budget":
    tag += f"_{FLAGS.maxepoch}ep"  # The schedule follows the run's length.
  if FLAGS.seed:
    tag += f"_seed{FLAGS.seed}"
  if FLAGS.labeled_seed is not None:
    tag += f"_labels{FLAGS.labeled_seed}"
  config = build_config(tag)
  if os.path.exists(config.save_path) and not FLAGS.resume:
    raise SystemExit(f"{config.save_path} exists; choose a new --out_dir "
                     "or pass --resume.")
  saved_model = training.train_and_evaluate(config).saved_model
  curve = common.epoch_curve(
      config.save_path,
      "validation/cluster_error" if clustering else "validation/error")
  wall = curve[-1]["train_seconds"] if curve else float("nan")
  model = training.restore_model(config, "latest")
  splits = training.load_data(config)
  batch = config.train.batch_size
  # The SavedModel's input, made with numpy alone: [N, 28, 28, 1] in [-1, 1].
  images = (splits.test.images[..., None] / 127.5 - 1).astype("float32")
  if clustering:
    # The paper's naming and, beside it, the majority digit's, on the run's
    # config.train.cluster_naming_split.
    metrics = evaluation.clustering_metrics(
        model.classify_fn, splits, config.train.cluster_naming_split, batch)
    names = evaluation.cluster_names(
        model.classify_fn,
        getattr(splits, config.train.cluster_naming_split), batch)["paper"]
    error = metrics["test/cluster_error"]
    validation = metrics["validation/cluster_error"]
    exported = common.saved_model_error(saved_model, images,
                                        splits.test.labels, names)
  else:
    probs = evaluation.predict_split(model.classify_fn, splits.test, batch)
    error = evaluation.classification_error(probs, splits.test.labels)
    exported = common.saved_model_error(saved_model, images,
                                        splits.test.labels)
    validation = evaluation.classification_error(
        evaluation.predict_split(model.classify_fn, splits.validation, batch),
        splits.validation.labels)
  row = {"model": tag, "epochs": config.train.max_epoch,
         "wall_time_s": round(wall),
         "validation_error": validation, "test_error": error,
         "saved_model_test_error": exported, "hardware": common.hardware(),
         "command": common.command_line()}
  if clustering:
    row["majority_naming_test_error"] = metrics[
        "test/majority_cluster_error"]
    row["naming_split"] = config.train.cluster_naming_split
    if "test/matched_cluster_error" in metrics:
      row["matched_test_error"] = metrics["test/matched_cluster_error"]
    row["curve"] = common.epoch_curve(config.save_path,
                                      "test/cluster_error", curve)
  else:
    row["curve"] = common.epoch_curve(config.save_path, "test/error",
                                      curve)
    row["minutes_to_validation_error"] = common.time_to_reach(
        curve, (0.05, 0.03, 0.02))
  logging.info("%s", row)
  if reduction:
    import shutil  # pylint: disable=g-import-not-at-top
    figure = commands.visualize(config, "latest", splits)[0]
    row["figure"] = f"{tag}_latent.png"
    shutil.copyfile(figure, os.path.join(common.RESULTS_DIR, row["figure"]))
  common.append_results("classify_mnist", [row])


if __name__ == "__main__":
  app.run(main)
