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
from aae_tf import recipes  # pylint: disable=g-import-not-at-top

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


# The run folder's name after the task: (flag, "set" if it counts when
# given, "on" when true or non-zero, its text, the flag it only follows).
NAME_PARTS = (
    ("ncode", "set", lambda v: f"_ncode{v}", None),  # Over the recipe's.
    ("labeled_with_replacement", "on", lambda v: "_resampled", None),
    ("consistency", "on", lambda v: f"_consistency{v:g}", None),
    ("consistency_rampup", "on", lambda v: f"_ramp{v:g}", "consistency"),
    ("vat", "on", lambda v: f"_vat{v:g}", None),
    ("vat_epsilon", "on", lambda v: f"_eps{v:g}", None),
    ("vat_rampup", "on", lambda v: f"_vatramp{v:g}", None),
    ("vat_radius_scale", "on", lambda v: f"_radius{v:g}", None),
    ("vat_radius_neighbor", "on", lambda v: f"-k{v}", "vat_radius_scale"),
    ("units", "on", lambda v: "_units" + "-".join(v), None),
    ("information", "on", lambda v: f"_info{v:g}", None),
    ("information_marginal", "set", lambda v: f"-m{v:g}", "information"),
    ("cluster_naming", "set", lambda v: f"_naming-{v}", None),
    ("class_balance", "on", lambda v: f"_balance{v:g}", None),
    ("weight_average", "set", lambda v: f"_average{v:g}", None),
    ("hidden_noise", "on", lambda v: f"_hnoise{v:g}", None),
    ("encoder_batch_norm", "set", lambda v: "_bn" if v else "_nobn", None),
    ("anneal", "set", lambda v: f"_anneal-{v}", None),
    ("anneal_start", "set", lambda v: f"{v:g}", None),
    ("warmup_epochs", "set", lambda v: f"_warmup{v:g}", None),
    ("clip_norm", "set", lambda v: f"_clip{v:g}", None),
    ("y_batch_statistics", "set",
     lambda v: "_ybatch" if v else "_noybatch", None),
    ("lr_decay_epochs", "set", lambda v: "_decay" + "-".join(v), None),
    ("lr_plateau_patience", "on", lambda v: f"_plateau{v}", None),
    ("lr_plateau_metric", "on", lambda v: "-" + v.split("/")[-1],
     "lr_plateau_patience"),
)


def run_name_suffix(fv) -> str:
  """What the flags given add to the run folder's name (its rows' tag):
  the recipe, the NAME_PARTS, --optimizers, a budget run's length and the
  seeds."""
  def counts(name, when):
    value = fv[name].value
    return value is not None if when == "set" else bool(value)

  recipe = fv.recipe
  if recipe == "default":  # The tag names the recipe that ran.
    recipe = recipes.default_recipe(fv.mode, fv.num_labeled)
  suffix = f"_{recipe}" if recipe != "seed" else ""
  for name, when, text, parent in NAME_PARTS:
    if counts(name, when) and (parent is None or counts(parent, "on")):
      suffix += text(fv[name].value)
  for override in fv.optimizers or ():  # KEY:KIND:LR:MOMENTUM
    key, kind, rate = override.split(":")[:3]
    suffix += f"_{key}-{kind}{rate}"
  if fv.maxepoch is not None and recipe == "budget":
    suffix += f"_{fv.maxepoch}ep"  # The schedule follows the run's length.
  if fv.seed:
    suffix += f"_seed{fv.seed}"
  if fv.labeled_seed is not None:
    suffix += f"_labels{fv.labeled_seed}"
  return suffix


def main(argv):
  del argv
  from aae_tf import commands, training, evaluation  # pylint: disable=g-import-not-at-top
  clustering = FLAGS.mode == "clustering"
  reduction = FLAGS.mode == "dimreduction"
  tag = (f"clustering{FLAGS.ncluster or 16}" if clustering
         else f"{FLAGS.mode}{FLAGS.num_labeled or 'All'}")
  tag += run_name_suffix(FLAGS)
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
  probs = {name: evaluation.predict_split(model.classify_fn,
                                         getattr(splits, name), batch)
           for name in ("validation", "test")}
  validation_probs = probs["validation"]
  if clustering:
    # The paper's naming and, beside it, the majority digit's, on the run's
    # config.train.cluster_naming_split.
    naming = config.train.cluster_naming_split
    names = evaluation.cluster_names(model.classify_fn,
                                     getattr(splits, naming), batch,
                                     probs.get(naming))
    metrics = evaluation.clustering_metrics(model.classify_fn, splits, naming,
                                            batch, names, probs)
    error = metrics["test/cluster_error"]
    validation = metrics["validation/cluster_error"]
    exported = common.saved_model_error(saved_model, images,
                                        splits.test.labels, names["paper"])
  else:
    error = evaluation.classification_error(probs["test"], splits.test.labels)
    exported = common.saved_model_error(saved_model, images,
                                        splits.test.labels)
    validation = evaluation.classification_error(validation_probs,
                                                 splits.validation.labels)
  row = {"model": tag, "epochs": config.train.max_epoch,
         "wall_time_s": round(wall),
         "validation_error": validation, "test_error": error,
         "saved_model_test_error": exported, "hardware": common.hardware(),
         "command": common.command_line(), "validation_curve": curve,
         # [class or cluster][digit]: which digits share a prediction.
         "validation_confusion": evaluation.cluster_confusion(
             validation_probs, splits.validation.labels).tolist()}
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
  app.run(common.command_main(main, cli.MNIST))
