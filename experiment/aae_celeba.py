"""Convolutional (multi-adversarial) AAE on 32x32 CelebA.

  python experiment/aae_celeba.py --train --data_dir /path/to/celeba \
      --maae --ndisc 3 --save_path runs/celeba_maae
  python experiment/aae_celeba.py --generate --load latest --save_path runs/celeba_maae
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app  # pylint: disable=g-import-not-at-top
from absl import flags

flags.DEFINE_bool("train", False, "Train.")
flags.DEFINE_bool("generate", False, "Sample images into generate_im.png.")
flags.DEFINE_bool("traverse", False, "Write latent-traversal GIFs.")
flags.DEFINE_string("load", None, "Checkpoint for --generate / --traverse: an "
                    "epoch or 'latest'.")
flags.DEFINE_enum("arch", "celeba_conv", ["celeba_conv", "conv"], "Networks: "
                  "the MAAE appendix's (Gaussian posterior) or seed 003's "
                  "32x32 variant (deterministic).")
flags.DEFINE_integer("ncode", None, "Code size (default 15 for celeba_conv, "
                     "50 for conv).")
flags.DEFINE_bool("maae", False, "Use --ndisc discriminators.")
flags.DEFINE_integer("ndisc", 3, "Discriminators of --maae.")
flags.DEFINE_enum("combine", "mean", ["mean", "max", "soft"], "How --maae "
                  "combines the discriminators for the encoder.")
flags.DEFINE_float("lr", 2e-4, "Learning rate.")
flags.DEFINE_integer("bsize", 128, "Batch size.")
flags.DEFINE_integer("maxepoch", 20, "Epochs.")
flags.DEFINE_integer("max_images", None, "Use the first N images only.")
flags.DEFINE_integer("seed", 0, "Random seed.")
flags.DEFINE_integer("checkpoint_every", 1, "Checkpoint every N epochs.")
flags.DEFINE_string("data_dir", None, "Folder of aligned CelebA images "
                    "(img_align_celeba, or a folder holding it).")
flags.DEFINE_string("save_path", os.path.join(
    os.path.expanduser("~"), "aae_tf_runs", "celeba"), "SAVE_PATH.")
FLAGS = flags.FLAGS

DEFAULT_NCODE = {"celeba_conv": 15, "conv": 50}
POSTERIOR = {"celeba_conv": "gaussian", "conv": "deterministic"}


def build_config():
  from aae_tf import config as config_lib  # pylint: disable=g-import-not-at-top
  return config_lib.ExperimentConfig(
      save_path=os.path.abspath(os.path.expanduser(FLAGS.save_path)),
      data=config_lib.DataConfig(dataset="celeba", data_dir=FLAGS.data_dir,
                                 max_images=FLAGS.max_images),
      model=config_lib.ModelConfig(
          ncode=FLAGS.ncode or DEFAULT_NCODE[FLAGS.arch],
          image_shape=(32, 32, 3), architecture=FLAGS.arch,
          posterior=POSTERIOR[FLAGS.arch],
          num_discriminators=FLAGS.ndisc if FLAGS.maae else 1,
          discriminator_units=(500, 500), combine=FLAGS.combine),
      train=config_lib.TrainConfig(
          batch_size=FLAGS.bsize, max_epoch=FLAGS.maxepoch,
          optimizers=config_lib.adam_optimizers(FLAGS.lr, decay_epochs=()),
          seed=FLAGS.seed,
          checkpoint_every_epochs=FLAGS.checkpoint_every),
  ).validate()


def run():
  """The action the flags ask for."""
  from aae_tf.errors import ConfigError  # pylint: disable=g-import-not-at-top
  actions = [a for a in ("train", "generate", "traverse") if FLAGS[a].value]
  if len(actions) != 1:
    raise ConfigError("Choose exactly one of --train, --generate, --traverse.")
  if actions[0] != "train" and not FLAGS.load:
    raise ConfigError(f"--{actions[0]} needs --load EPOCH (or latest).")
  config = build_config()
  from aae_tf import commands, run_dir, training  # pylint: disable=g-import-not-at-top
  if actions[0] == "train":
    training.train_and_evaluate(config)
    return
  config = run_dir.run_config(config)
  if actions[0] == "generate":
    commands.generate(config, FLAGS.load)
  else:
    commands.traverse(config, FLAGS.load)


def main(argv):
  del argv
  from aae_tf import startup  # pylint: disable=g-import-not-at-top
  from aae_tf.errors import run_command  # pylint: disable=g-import-not-at-top
  # TensorFlow's start-up notes only with --verbosity 1 or more.
  startup.start_tensorflow(verbose=FLAGS.verbosity > 0)
  run_command("aae_celeba.py", run)


if __name__ == "__main__":
  app.run(main)
