"""Shared fixtures: tiny generated MNIST-like data and small configurations."""

import gzip
import importlib.util
import os
import sys

import numpy as np
import pytest

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from aae_tf import config as config_lib  # pylint: disable=g-import-not-at-top
from aae_tf import data as data_lib

from aae_tf import mnist
TINY_TRAIN = 60  # Generated training images (50 train + 10 validation).
TINY_TEST = 20
TINY_VALIDATION = 10
REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def load_script(relative_path: str, module_name: str):
  """A script of this repository (not a package module), imported by path,
  once per process: its absl flags can be defined only once."""
  if module_name in sys.modules:
    return sys.modules[module_name]
  path = os.path.join(REPO, relative_path)
  spec = importlib.util.spec_from_file_location(module_name, path)
  module = importlib.util.module_from_spec(spec)
  spec.loader.exec_module(module)
  sys.modules[module_name] = module
  return module


def mnist_flag_values():
  """The MNIST command line's flags, defined on a FlagValues of their own."""
  from absl import flags  # pylint: disable=g-import-not-at-top
  from aae_tf import cli  # pylint: disable=g-import-not-at-top
  flag_values = flags.FlagValues()
  cli.define_flags(cli.MNIST, flag_values)
  return flag_values


def command_config(flag_values, args):
  """(action, configuration or None) that the MNIST command line makes of
  `args`, in-process; a refusal raises as the user sees it (flag names)."""
  from aae_tf import cli  # pylint: disable=g-import-not-at-top
  from aae_tf.errors import AAEError  # pylint: disable=g-import-not-at-top
  flag_values.unparse_flags()
  try:
    flag_values(["aae_mnist.py", *args])
    action = cli.check_action(cli.MNIST, flag_values)
    return action, cli.config_from_flags(cli.MNIST, flag_values, action)
  except AAEError as e:
    raise type(e)(cli.translate(cli.MNIST, str(e))) from e
  finally:
    flag_values.unparse_flags()


def idx_bytes(array: np.ndarray) -> bytes:
  """An IDX file of unsigned bytes holding `array`."""
  header = bytes([0, 0, 0x08, array.ndim])
  header += b"".join(int(d).to_bytes(4, "big") for d in array.shape)
  return header + array.astype(np.uint8).tobytes()


def tiny_mnist(num_train=TINY_TRAIN, num_test=TINY_TEST, seed=0):
  """Blobby 28x28 'digits': a bright square whose place depends on the label."""
  rng = np.random.default_rng(seed)

  def make(n):
    labels = np.arange(n) % 10
    images = rng.integers(0, 40, (n, 28, 28)).astype(np.uint8)
    for i, label in enumerate(labels):
      r, c = 2 + 2 * label, 4 + label
      images[i, r:r + 8, c:c + 8] = 255
    return images, labels.astype(np.uint8)

  train_x, train_y = make(num_train)
  test_x, test_y = make(num_test)
  return train_x, train_y, test_x, test_y


def write_idx_dir(directory, arrays=None) -> str:
  """Writes the four gzip IDX files into `directory`; returns it."""
  arrays = arrays if arrays is not None else tiny_mnist()
  os.makedirs(directory, exist_ok=True)
  for name, array in zip(mnist.IDX_FILES, arrays):
    with open(os.path.join(directory, name + ".gz"), "wb") as f:
      f.write(gzip.compress(idx_bytes(array)))
  return str(directory)


@pytest.fixture
def tiny_idx_dir(tmp_path):
  return write_idx_dir(tmp_path / "mnist")


@pytest.fixture
def tiny_splits():
  return make_tiny_splits()


def make_tiny_splits() -> data_lib.MnistSplits:
  """`tiny_mnist` as splits, without going through files."""
  train_x, train_y, test_x, test_y = tiny_mnist()
  n = TINY_TRAIN - TINY_VALIDATION
  return data_lib.MnistSplits(
      train=data_lib.Split(train_x[:n], train_y[:n].astype(np.int64)),
      validation=data_lib.Split(train_x[n:], train_y[n:].astype(np.int64)),
      test=data_lib.Split(test_x, test_y.astype(np.int64)),
      source="generated")


def small_config(save_path, **train_overrides) -> config_lib.ExperimentConfig:
  """A fast configuration: small networks, batch 10, one epoch, no XLA
  (compiling costs more than it saves here; tests that need the XLA step
  pass jit_compile=True, and the command-line tests use it by default)."""
  train = dict(batch_size=10, max_epoch=1, steps_per_loop=2, jit_compile=False,
               num_image_summaries=8, num_eval_codes=10, progress_bar=False,
               stability_window=4,
               checkpoint_every_epochs=1)
  train.update(train_overrides)
  return config_lib.ExperimentConfig(
      save_path=str(save_path),
      data=config_lib.DataConfig(verify_checksums=False,
                                 validation_size=TINY_VALIDATION),
      model=config_lib.ModelConfig(encoder_units=(32, 32),
                                   decoder_units=(32, 32),
                                   discriminator_units=(16, 16)),
      train=config_lib.TrainConfig(**train)).validate()


def fit_tiny(config, splits):
  """The library's one training entry point on in-memory splits, without
  the export: (model, trainer)."""
  from aae_tf import training  # pylint: disable=g-import-not-at-top
  run = training.train_and_evaluate(config, splits, export_model=False)
  return run.model, run.trainer


def pytest_collection_modifyitems(items):
  """The files with the most end-to-end (slow) tests first: pytest-xdist's
  `--dist loadfile` hands whole files to workers in this order, so the long
  files start early and the short ones fill in at the end (the order of the
  tests within a file is kept)."""
  slow = {}
  for item in items:
    slow.setdefault(item.path, 0)
    slow[item.path] += item.get_closest_marker("slow") is not None
  rank = {path: i for i, path in enumerate(
      sorted(slow, key=lambda path: -slow[path]))}
  items.sort(key=lambda item: rank[item.path])
