"""The command line's mode-dependent defaults, read in-process (no training)."""

import os

from absl import flags
import pytest

from conftest import load_script


@pytest.fixture(scope="module")
def cli():
  """experiment/aae_mnist.py as a module; its flags are defined once."""
  yield load_script(os.path.join("experiment", "aae_mnist.py"),
                    "aae_mnist_cli")
  flags.FLAGS.unparse_flags()


def _config(cli, tmp_path, *args):
  flags.FLAGS.unparse_flags()
  flags.FLAGS(["aae_mnist.py", "--save_path", str(tmp_path), *args])
  return cli.build_config(cli.check_actions())


@pytest.mark.parametrize("args,keep_prob,batch_statistics,gen_lr", [
    (["--train"], 1.0, False, None),
    (["--train_semisupervised", "--num_labeled", "1000"], 0.5, False, None),
    (["--train_semisupervised"], 1.0, False, None),  # All labels.
    (["--train_semisupervised", "--num_labeled", "100", "--dropout", "0.8"],
     0.8, False, None),
    (["--train_clustering"], 1.0, True, None),
    (["--train_clustering", "--noy_batch_statistics"], 1.0, False, None),
    (["--train_dimreduction"], 1.0, False, 1e-5),
])
def test_mode_defaults(cli, tmp_path, args, keep_prob, batch_statistics,
                       gen_lr):
  config = _config(cli, tmp_path, *args)
  assert config.model.keep_prob == keep_prob
  assert config.model.y_batch_statistics == batch_statistics
  assert config.train.gen_lr == gen_lr
