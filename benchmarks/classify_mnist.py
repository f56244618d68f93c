"""Benchmark (not a test): semi-supervised classification or clustering on
full MNIST, with the test error checked through the exported SavedModel.

  python benchmarks/classify_mnist.py --mode semisupervised --num_labeled 1000 \
      --maxepoch 40 --data_dir /path/to/mnist
  python benchmarks/classify_mnist.py --mode clustering --ncluster 16 ...
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app  # pylint: disable=g-import-not-at-top
from absl import flags
from absl import logging

import common  # pylint: disable=g-import-not-at-top

flags.DEFINE_enum("mode", "semisupervised",
                  ["semisupervised", "clustering", "dimreduction"],
                  "Which model to train (dimreduction: section 7 with "
                  "--num_labeled labels, one cluster head per digit, 2-D).")
flags.DEFINE_enum("recipe", "default", ["default", "paper", "seed"],
                  "Training recipe (aae_tf/recipes.py).")
flags.DEFINE_integer("num_labeled", 1000, "Labeled images (semisupervised); "
                     "0: all of them.")
flags.DEFINE_integer("ncluster", 16, "Clusters (clustering).")
flags.DEFINE_integer("maxepoch", 40, "Epochs.")
# Unset: the recipe's value.
flags.DEFINE_list("lr_decay_epochs", None, "Learning-rate decays (every "
                  "phase).")
flags.DEFINE_float("lr", None, "Initial learning rate (every phase).")
flags.DEFINE_float("gen_lr", None, "Generator phases' learning rate.")
flags.DEFINE_float("dis_lr", None, "Discriminator phases' learning rate.")
flags.DEFINE_integer("ncode", None, "Style code size.")
flags.DEFINE_float("noise_std", None, "Input noise (0: none).")
flags.DEFINE_float("keep_prob", None, "Dropout keep probability in the "
                   "encoder.")
flags.DEFINE_bool("y_batch_statistics", None, "The y discriminator also sees "
                  "the batch's mean of y (against collapsed clusters).")
flags.DEFINE_float("clsw", None, "Classification phase weight.")
flags.DEFINE_integer("classify_every", None, "Classification update every N "
                     "steps.")
flags.DEFINE_bool("labeled_with_replacement", None, "Draw labeled batches "
                  "with replacement.")
flags.DEFINE_integer("seed", 0, "Random seed.")
flags.DEFINE_bool("resume", False, "Continue the run in --out_dir if it exists "
                  "(same flags): long schedules over several sessions.")
flags.DEFINE_string("data_dir", None, "Folder with the MNIST IDX files.")
flags.DEFINE_string("out_dir", "runs/bench_classify", "Where runs go.")
FLAGS = flags.FLAGS
HEADER = """# Semi-supervised classification and clustering on MNIST (issue 3)

Test error from the trained model and, recomputed by a Python process that never imports `aae_tf`, from the
exported SavedModel's `classify`. Clusters are named after the training image each is most sure of. The
validation split (the last 10,000 training images) is the one for choices; the test set is only reported.

| model | paper | test error | SavedModel test error | validation error | epochs | wall time (s) | hardware | command |
| --- | --- | --- | --- | --- | --- | --- | --- | --- |
"""
# Fields a flag sets when given: flag -> (section, field).
OVERRIDES = {"ncode": ("model", "ncode"),
             "noise_std": ("model", "input_noise_std"),
             "keep_prob": ("model", "keep_prob"),
             "y_batch_statistics": ("model", "y_batch_statistics"),
             "clsw": ("train", "clsw"),
             "classify_every": ("train", "classify_every"),
             "labeled_with_replacement": ("train", "labeled_with_replacement")}


def build_config(tag: str, num_labeled):
  """The recipe's configuration with the given flags over it."""
  import dataclasses  # pylint: disable=g-import-not-at-top
  from aae_tf import recipes  # pylint: disable=g-import-not-at-top
  config = recipes.make_config(
      FLAGS.mode, os.path.abspath(os.path.join(FLAGS.out_dir, tag)),
      FLAGS.recipe, num_labeled=num_labeled,
      num_clusters=FLAGS.ncluster if FLAGS.mode == "clustering" else None)
  sections = {"model": config.model, "train": dataclasses.replace(
      config.train, max_epoch=FLAGS.maxepoch, seed=FLAGS.seed,
      progress_bar=False)}
  for name, (section, field) in OVERRIDES.items():
    if FLAGS[name].value is not None:
      sections[section] = dataclasses.replace(
          sections[section], **{field: FLAGS[name].value})
  optimizers = dict(sections["train"].optimizers)
  for key, opt in optimizers.items():
    rate = {"generator": FLAGS.gen_lr,
            "discriminator": FLAGS.dis_lr}.get(key) or FLAGS.lr
    decay = (tuple(int(e) for e in FLAGS.lr_decay_epochs)
             if FLAGS.lr_decay_epochs is not None else opt.decay_epochs)
    optimizers[key] = dataclasses.replace(
        opt, learning_rate=rate or opt.learning_rate, decay_epochs=decay)
  return dataclasses.replace(
      config, data=dataclasses.replace(config.data, data_dir=FLAGS.data_dir),
      model=sections["model"],
      train=dataclasses.replace(sections["train"],
                                optimizers=optimizers)).validate()


def main(argv):
  del argv
  from aae_tf import commands, training, evaluation  # pylint: disable=g-import-not-at-top
  clustering = FLAGS.mode == "clustering"
  reduction = FLAGS.mode == "dimreduction"
  num_labeled = None if clustering or not FLAGS.num_labeled else (
      FLAGS.num_labeled)
  tag = (f"clustering{FLAGS.ncluster}" if clustering
         else f"{FLAGS.mode}{num_labeled or 'All'}")
  if FLAGS.recipe != "default":
    tag += f"_{FLAGS.recipe}"
  if FLAGS.labeled_with_replacement:
    tag += "_resampled"
  if FLAGS.seed:
    tag += f"_seed{FLAGS.seed}"
  config = build_config(tag, num_labeled)
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
  probs = evaluation.predict_split(model.classify_fn, splits.test, batch)
  images = splits.test.images.reshape(len(splits.test.labels), -1)
  images = (images / 127.5 - 1).astype("float32")
  if clustering:
    train_probs = evaluation.predict_split(model.classify_fn, splits.train,
                                           batch)
    names = evaluation.cluster_labels(train_probs, splits.train.labels)
    # Diagnostic beside the paper's naming: each cluster's majority digit.
    majority = evaluation.clustering_error(
        probs, splits.test.labels,
        evaluation.majority_cluster_labels(train_probs, splits.train.labels))
    error = evaluation.clustering_error(probs, splits.test.labels, names)
    exported = common.saved_model_error(saved_model, images,
                                        splits.test.labels, names)
    validation = evaluation.clustering_error(
        evaluation.predict_split(model.classify_fn, splits.validation, batch),
        splits.validation.labels, names)
  else:
    error = evaluation.classification_error(probs, splits.test.labels)
    exported = common.saved_model_error(saved_model, images,
                                        splits.test.labels)
    validation = evaluation.classification_error(
        evaluation.predict_split(model.classify_fn, splits.validation, batch),
        splits.validation.labels)
  row = {"model": tag, "epochs": FLAGS.maxepoch, "wall_time_s": round(wall),
         "validation_error": validation, "test_error": error,
         "saved_model_test_error": exported, "hardware": common.hardware(),
         "command": common.command_line()}
  if clustering:
    row["majority_naming_test_error"] = majority
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
  paper = {"semisupervised100": "1.90%", "semisupervised1000": "1.60%",
           "semisupervisedAll": "0.85%", "clustering16": "9.55%",
           "clustering30": "4.10%"}.get(tag.split("_")[0], "-")
  common.append_results("classify_mnist", [row], [
      f"| {tag} | {paper} | {100 * error:.2f}% | {100 * exported:.2f}% | "
      f"{100 * validation:.2f}% | {FLAGS.maxepoch} | {wall:.0f} | "
      f"{row['hardware']} | `{row['command']}` |"], HEADER)


if __name__ == "__main__":
  app.run(main)
