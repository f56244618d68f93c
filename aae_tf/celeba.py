"""CelebA as 32x32 colour images: a local folder of aligned JPEGs, or
tensorflow-datasets when it has the data set prepared.

Images are centre-cropped to a square (CROP_FRACTION of the shorter side, the
face of the aligned 178x218 images) and resized to `image_size`. The split
follows CelebA's `list_eval_partition.txt` when the folder has it, else the
official index ranges scaled to the number of images (file-name order).
Labels are all zero: CelebA is used without classes here.
"""

from __future__ import annotations

import glob
import hashlib
import os
from typing import Optional

from absl import logging
import numpy as np

from aae_tf import data as data_lib
from aae_tf.errors import DataError

IMAGE_PATTERNS = ("*.jpg", "*.jpeg", "*.png")
SUBFOLDER = "img_align_celeba"
PARTITION_FILE = "list_eval_partition.txt"
CROP_FRACTION = 0.8  # 142 of the 178 pixels of an aligned face image.
# Official split: 162,770 / 19,867 / 19,962 of 202,599 images.
SPLIT_FRACTIONS = (162770 / 202599, 19867 / 202599)
TFDS_NAME = "celeb_a"
CACHE_PREFIX = "celeba"


def _image_files(data_dir: str) -> list:
  for folder in (os.path.join(data_dir, SUBFOLDER), data_dir):
    files = sorted(f for p in IMAGE_PATTERNS
                   for f in glob.glob(os.path.join(folder, p)))
    if files:
      return files
  return []


def _decode(path: str, image_size: int) -> np.ndarray:
  from PIL import Image  # pylint: disable=g-import-not-at-top
  try:
    with Image.open(path) as image:
      image = image.convert("RGB")
      width, height = image.size
      side = int(min(width, height) * CROP_FRACTION)
      left, top = (width - side) // 2, (height - side) // 2
      image = image.crop((left, top, left + side, top + side)).resize(
          (image_size, image_size), Image.BILINEAR)
      return np.asarray(image, dtype=np.uint8)
  except OSError as e:
    raise DataError(f"Cannot read CelebA image {path} ({e}); remove or "
                    "replace the damaged file.") from e


def _partition(data_dir: str, files: list) -> np.ndarray:
  """0 train, 1 validation, 2 test per file."""
  for folder in (data_dir, os.path.dirname(files[0])):
    path = os.path.join(folder, PARTITION_FILE)
    if os.path.exists(path):
      with open(path) as f:
        table = dict(line.split()[:2] for line in f if line.strip())
      try:
        return np.array([int(table[os.path.basename(p)]) for p in files])
      except (KeyError, ValueError) as e:
        raise DataError(f"{path} does not list {e}; use the partition file "
                        "that came with these images or remove it.") from e
  n = len(files)
  first = int(round(n * SPLIT_FRACTIONS[0]))
  second = first + max(int(round(n * SPLIT_FRACTIONS[1])), 1)
  return np.array([0] * first + [1] * (second - first) + [2] * (n - second))


def _from_folder(data_dir: str, image_size: int, max_images: Optional[int],
                 cache_dir: str) -> data_lib.MnistSplits:
  files = _image_files(data_dir) if os.path.isdir(data_dir) else []
  if not files:
    what = ("does not exist" if not os.path.exists(data_dir) else
            "is not a folder" if not os.path.isdir(data_dir) else
            f"holds no .jpg/.png images (nor does "
            f"{os.path.join(data_dir, SUBFOLDER)})")
    raise DataError(f"CelebA folder {data_dir} {what}; fix data.data_dir, or "
                    "leave it out to use tensorflow-datasets.")
  parts = _partition(data_dir, files)
  if max_images is not None:
    # The first N of each split, as the tfds source reads them.
    keep = np.concatenate([np.flatnonzero(parts == p)[:max_images]
                           for p in range(3)])
    keep.sort()
    files, parts = [files[i] for i in keep], parts[keep]
  key = hashlib.sha256("\n".join(files + [str(image_size)]).encode())
  cache = os.path.join(cache_dir, f"{CACHE_PREFIX}_{key.hexdigest()[:16]}.npz")
  if os.path.exists(cache):
    images = np.load(cache)["images"]
  else:
    logging.info("Decoding %d CelebA images from %s", len(files), data_dir)
    images = np.stack([_decode(p, image_size) for p in files])
    os.makedirs(cache_dir, exist_ok=True)
    tmp = cache + ".tmp.npz"
    np.savez(tmp, images=images)
    os.replace(tmp, cache)
  splits = []
  for part in range(3):
    chosen = images[parts == part]
    if not len(chosen):
      raise DataError(f"The CelebA images in {data_dir} leave split {part} "
                      "empty; add images or a partition file.")
    splits.append(data_lib.Split(chosen, np.zeros(len(chosen), np.int64)))
  return data_lib.MnistSplits(*splits, source=f"folder:{data_dir}")


def _from_tfds(image_size: int, max_images: Optional[int],
               cache_dir: str) -> data_lib.MnistSplits:
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  import tensorflow_datasets as tfds  # pylint: disable=g-import-not-at-top
  data_dir = os.path.join(cache_dir, "tfds")
  builder = tfds.builder(TFDS_NAME, data_dir=data_dir)
  if not builder.is_prepared():
    raise FileNotFoundError(f"{TFDS_NAME} is not prepared under {data_dir} "
                            "(tensorflow-datasets needs it downloaded first)")
  splits = []
  for name in ("train", "validation", "test"):
    split = name if max_images is None else f"{name}[:{max_images}]"
    ds = builder.as_dataset(split=split)

    def convert(example):
      image = tf.image.central_crop(example["image"], CROP_FRACTION)
      return tf.cast(tf.image.resize(image, [image_size, image_size],
                                     antialias=True), tf.uint8)
    images = np.stack(list(ds.map(convert).as_numpy_iterator()))
    splits.append(data_lib.Split(images, np.zeros(len(images), np.int64)))
  return data_lib.MnistSplits(*splits, source="tfds")


def load_celeba(data_dir: Optional[str] = None, image_size: int = 32,
                max_images: Optional[int] = None,
                cache_dir: Optional[str] = None) -> data_lib.MnistSplits:
  """CelebA splits of uint8 [N, S, S, 3] images (S = image_size).

  `data_dir`, when given, is the only source; otherwise tensorflow-datasets.
  `max_images` keeps the first N images of each split.
  """
  cache_dir = os.path.expanduser(cache_dir or data_lib.default_cache_dir())
  if data_dir:  # A folder the user names is the only source.
    return _from_folder(os.path.expanduser(data_dir), image_size, max_images,
                        cache_dir)
  reasons = ["folder: no data.data_dir given"]
  try:
    return _from_tfds(image_size, max_images, cache_dir)
  except (ImportError, FileNotFoundError) as e:
    reasons.append(f"tensorflow-datasets: {e}")
  raise DataError("CelebA is not available (" + "; ".join(reasons) + "). "
                  "Download the aligned images (img_align_celeba) and pass "
                  "their folder as data.data_dir.")
