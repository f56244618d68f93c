"""The input pipeline: splits of uint8 images, `tf.data` batches for training
and evaluation, pixel ranges, which training images keep their labels and the
labeled minibatch beside each training batch (`with_labeled_batches`).

Images are uint8 [N, H, W] or [N, H, W, C] in a `Split`; batches hold float32
images [B, H, W, C] in [-1, 1] (`to_model_images`), the form every network,
figure and SavedModel takes. The networks may read another range
(`signed_to_unit`); every conversion of pixel values is here.
"""

import dataclasses
import os
from typing import Any

import numpy as np
import tensorflow as tf

from aae_tf.errors import DataError

COLOUR_CHANNELS = (1, 3)  # A last axis of this size holds channels.
NUM_CLASSES = 10
UNLABELED = -1  # Label of a training image whose label is not used.

# Pixel scaling: uint8 [0, 255] -> float32 [-1, 1] is x / 127.5 - 1.
PIXEL_HALF_RANGE = 127.5
PIXEL_OFFSET = 1.0

# Where downloaded and converted data sets are cached.
CACHE_ENV = "AAE_TF_CACHE"
XDG_CACHE_ENV = "XDG_CACHE_HOME"
CACHE_APP_DIR = "aae_tf"


@dataclasses.dataclass(frozen=True)
class Split:
  """Images (uint8 [N, H, W] or [N, H, W, C]) and labels (int64 [N], 0..9) of one split."""
  images: np.ndarray
  labels: np.ndarray

  def __len__(self) -> int:
    return int(self.labels.shape[0])


@dataclasses.dataclass(frozen=True)
class MnistSplits:
  """The three MNIST splits and a human-readable description of the source."""
  train: Split
  validation: Split
  test: Split
  source: str


def default_cache_dir() -> str:
  """$AAE_TF_CACHE, else $XDG_CACHE_HOME/aae_tf, else ~/.cache/aae_tf."""
  if os.environ.get(CACHE_ENV):
    return os.path.expanduser(os.environ[CACHE_ENV])
  if os.environ.get(XDG_CACHE_ENV):
    return os.path.join(os.path.expanduser(os.environ[XDG_CACHE_ENV]),
                        CACHE_APP_DIR)
  return os.path.join(os.path.expanduser("~"), ".cache", CACHE_APP_DIR)


# ----------------------------------------------------------------------------
# Input pipelines.


def _with_channels(shape) -> bool:
  """Whether a shape [.., H, W, C] ends in a channel axis (C in 1 or 3),
  rather than being grey [.., H, W]."""
  return len(shape) >= 3 and shape[-1] in COLOUR_CHANNELS


def to_model_images(images: Any) -> Any:
  """Maps uint8 images [..., H, W] or [..., H, W, C] to float32
  [..., H, W, C] in [-1, 1] (MNIST: [N, 28, 28] -> [N, 28, 28, 1]).

  Returns a `tf.Tensor` for tensor input and a numpy array otherwise.
  """
  if isinstance(images, (tf.Tensor, tf.Variable)):
    x = tf.cast(images, tf.float32)
    if not _with_channels(x.shape):
      x = x[..., None]
    return x / PIXEL_HALF_RANGE - PIXEL_OFFSET
  x = np.asarray(images)
  if x.ndim < 2:
    raise ValueError(f"Expected images of shape [..., H, W(, C)], got "
                     f"{x.shape}.")
  x = x.astype(np.float32)
  if not _with_channels(x.shape):
    x = x[..., None]
  return x / np.float32(PIXEL_HALF_RANGE) - np.float32(PIXEL_OFFSET)


def signed_to_unit(images: tf.Tensor) -> tf.Tensor:
  """Pixels in [-1, 1] -> [0, 1] (the paper's range)."""
  return (images + PIXEL_OFFSET) / 2.0


def unit_to_signed(images: tf.Tensor) -> tf.Tensor:
  """Pixels in [0, 1] -> [-1, 1] (the range images have between modules)."""
  return 2.0 * images - PIXEL_OFFSET


def _to_model_inputs(batch: dict[str, tf.Tensor]) -> dict[str, tf.Tensor]:
  return {**batch, "image": to_model_images(batch["image"])}


def _check_batch_size(batch_size: int) -> None:
  if (isinstance(batch_size, bool) or
      not isinstance(batch_size, (int, np.integer)) or batch_size <= 0):
    raise ValueError(f"batch_size must be a positive integer, got "
                     f"{batch_size!r}.")


def train_dataset(split: Split,
                  batch_size: int,
                  seed: int | None,
                  shuffle: bool = True,
                  drop_remainder: bool = True,
                  repeat: bool = False,
                  extras: dict[str, np.ndarray] | None = None
                  ) -> tf.data.Dataset:
  """Batches of {"image": float32 [B, H, W, C] in [-1, 1], "label": int32 [B]}.

  Args:
    split: The examples.
    batch_size: Examples per batch.
    seed: Shuffle seed (None: nondeterministic).
    shuffle: Shuffle over the full split, differently each epoch.
    drop_remainder: Drop the last incomplete batch.
    repeat: Repeat forever (batches then span epoch boundaries).
    extras: Further per-example arrays ([N, ...]), batched under their keys
      beside the image and label of the same example.

  Returns:
    The dataset.

  Raises:
    DataError: drop_remainder would leave no batch at all.
  """
  _check_batch_size(batch_size)
  num_examples = len(split.labels)
  if drop_remainder and batch_size > num_examples:
    raise DataError(
        f"batch_size {batch_size} exceeds the {num_examples} training "
        "examples, so no full batch exists; use a smaller batch size.")
  # Shuffle indices and gather each batch from the in-memory arrays: half the
  # pipeline's work of shuffling whole images (results/throughput.md). No
  # cache: a dataset built anew each epoch would never read it again.
  ds = tf.data.Dataset.range(num_examples)
  if shuffle:
    ds = ds.shuffle(
        max(num_examples, 1), seed=seed, reshuffle_each_iteration=True)
  if repeat:
    ds = ds.repeat()
  ds = ds.batch(batch_size, drop_remainder=drop_remainder)
  return _gathered(ds, split, extras)


def _gathered(indices: tf.data.Dataset, split: Split,
              extras: dict[str, np.ndarray] | None = None) -> tf.data.Dataset:
  """Batches of `split` (and of `extras`) at each batch of `indices`, as
  model inputs."""
  arrays = {"image": tf.constant(np.asarray(split.images, dtype=np.uint8)),
            "label": tf.constant(np.asarray(split.labels).astype(np.int32))}
  for key, values in (extras or {}).items():
    if len(values) != len(split):
      raise ValueError(f"{key} has {len(values)} entries for {len(split)} "
                       "examples.")
    arrays[key] = tf.constant(values)
  ds = indices.map(
      lambda i: _to_model_inputs({k: tf.gather(a, i)
                                  for k, a in arrays.items()}),
      num_parallel_calls=tf.data.AUTOTUNE)
  return ds.prefetch(tf.data.AUTOTUNE)


def resampled_dataset(split: Split, batch_size: int,
                      seed: int) -> tf.data.Dataset:
  """Endless batches like `train_dataset`'s, each drawn uniformly with
  replacement from `split` (the same stream for the same seed)."""
  _check_batch_size(batch_size)
  n = len(split.labels)
  if n == 0:
    raise DataError("Cannot resample an empty split.")
  indices = tf.data.Dataset.random(seed=seed).map(
      lambda r: tf.math.floormod(r, n))
  return _gathered(indices.batch(batch_size), split)


def neighbor_distances(images: np.ndarray, k: int,
                       block: int = 1000) -> np.ndarray:
  """Each image's Euclidean distance to its k-th nearest other image of
  `images` (uint8 pixels, measured in [0, 1] units), float32 [N].

  An exact duplicate counts as a neighbour at distance 0. Computed in blocks
  of `block` images against all the others with one matrix product each.
  """
  flat = tf.constant(np.asarray(images, np.float32).reshape(
      len(images), -1) / 255.0)
  n = int(flat.shape[0])
  if not 1 <= k < n:
    raise ValueError(f"k must be in [1, {n - 1}] for {n} images, got {k}.")
  norms = tf.reduce_sum(tf.square(flat), axis=1)
  out = []
  for start in range(0, n, block):
    rows = flat[start:start + block]
    squared = (norms[start:start + block, None] + norms[None, :] -
               2.0 * tf.matmul(rows, flat, transpose_b=True))
    # The k + 1 smallest include the image itself, at distance 0.
    nearest = -tf.math.top_k(-squared, k=k + 1).values
    out.append(tf.sqrt(tf.maximum(nearest[:, k], 0.0)))
  return tf.concat(out, axis=0).numpy()


def eval_dataset(split: Split, batch_size: int) -> tf.data.Dataset:
  """Like `train_dataset` but in order, once, keeping the last small batch."""
  _check_batch_size(batch_size)
  indices = tf.data.Dataset.range(len(split.labels))
  return _gathered(indices.batch(batch_size, drop_remainder=False), split)


def balanced_indices(labels: np.ndarray, num_labeled: int | None,
                     seed: int) -> np.ndarray:
  """Indices of `num_labeled` examples, the same number of each digit.

  `None` (or the split's size) keeps every index. The draw depends only on
  `seed`, so every run with the same seed labels the same images.
  """
  labels = np.asarray(labels)
  if num_labeled is None or num_labeled >= len(labels):
    return np.arange(len(labels))
  if num_labeled <= 0 or num_labeled % NUM_CLASSES:
    raise DataError(f"The number of labeled images must be a positive "
                    f"multiple of {NUM_CLASSES} (balanced over digits), got "
                    f"{num_labeled}.")
  per_class = num_labeled // NUM_CLASSES
  rng = np.random.default_rng(seed)
  chosen = []
  for digit in range(NUM_CLASSES):
    pool = np.flatnonzero(labels == digit)
    if len(pool) < per_class:
      raise DataError(f"Only {len(pool)} training images of digit {digit}; "
                      f"cannot label {per_class} of each.")
    chosen.append(rng.choice(pool, per_class, replace=False))
  return np.sort(np.concatenate(chosen))


def subset(split: Split, indices: np.ndarray) -> Split:
  """The examples of `split` at `indices`."""
  return Split(split.images[indices], split.labels[indices])


def mask_labels(split: Split, keep: np.ndarray) -> Split:
  """A copy whose labels are -1 (unlabeled) except at the indices `keep`."""
  labels = np.full_like(split.labels, UNLABELED)
  labels[keep] = split.labels[keep]
  return Split(split.images, labels)


def with_labeled_batches(unlabeled: tf.data.Dataset, train: Split,
                         num_labeled: int | None, batch_size: int,
                         draw_seed: int, seed: int,
                         with_replacement: bool = False) -> tf.data.Dataset:
  """`unlabeled`'s batches, each with a labeled minibatch beside it
  ("labeled_image", "labeled_label") from the `num_labeled` images of
  `train` drawn by `balanced_indices` (None: all of them).

  Args:
    unlabeled: Batches of `train_dataset`.
    train: The training split the labeled images come from.
    num_labeled: Labeled images, balanced over digits (None: every image).
    batch_size: Images of each labeled minibatch.
    draw_seed: Seed of the draw of the labeled images.
    seed: Shuffle (or resampling) seed of the labeled minibatches.
    with_replacement: Draw each minibatch with replacement instead of
      cycling through shuffled passes over the labeled images.
  """
  labeled_split = subset(train, balanced_indices(train.labels, num_labeled,
                                                 draw_seed))
  if with_replacement:
    labeled = resampled_dataset(labeled_split, batch_size, seed=seed)
  else:
    labeled = train_dataset(labeled_split, batch_size, seed=seed,
                            repeat=True)
  return tf.data.Dataset.zip(unlabeled, labeled).map(
      lambda u, l: {**u, "labeled_image": l["image"],
                    "labeled_label": l["label"]})
