"""CelebA from a folder of generated colour images, and its command line."""

import os
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image

from aae_tf import celeba
from aae_tf.errors import DataError
from conftest import REPO


def _write_faces(folder, n=12, seed=0):
  rng = np.random.default_rng(seed)
  os.makedirs(folder, exist_ok=True)
  for i in range(n):
    array = rng.integers(0, 256, (70, 60, 3), dtype=np.uint8)
    Image.fromarray(array).save(os.path.join(folder, f"{i + 1:06d}.jpg"))
  return str(folder)


@pytest.fixture
def faces(tmp_path, monkeypatch):
  monkeypatch.setenv("AAE_TF_CACHE", str(tmp_path / "cache"))
  return _write_faces(tmp_path / "celeba" / "img_align_celeba")


def test_folder_images_are_cropped_resized_and_split(faces):
  splits = celeba.load_celeba(os.path.dirname(faces))
  assert splits.train.images.shape == (10, 32, 32, 3)
  assert splits.train.images.dtype == np.uint8
  assert len(splits.validation.labels) == 1 and len(splits.test.labels) == 1
  assert splits.source.startswith("folder:")
  # The second load comes from the cache and is identical.
  again = celeba.load_celeba(os.path.dirname(faces))
  np.testing.assert_array_equal(again.train.images, splits.train.images)


def test_partition_file_is_followed(faces):
  with open(os.path.join(faces, "list_eval_partition.txt"), "w") as f:
    for i in range(12):
      f.write(f"{i + 1:06d}.jpg {0 if i < 6 else 1 if i < 9 else 2}\n")
  splits = celeba.load_celeba(faces, image_size=16)
  assert [len(s.labels) for s in (splits.train, splits.validation,
                                  splits.test)] == [6, 3, 3]
  assert splits.test.images.shape[1:] == (16, 16, 3)


def test_missing_celeba_names_both_sources(tmp_path, monkeypatch):
  monkeypatch.setenv("AAE_TF_CACHE", str(tmp_path / "cache"))
  with pytest.raises(DataError, match="folder: .*tensorflow-datasets"):
    celeba.load_celeba()


@pytest.mark.parametrize("make,what", [
    (lambda d: d / "nothing", "does not exist"),
    (lambda d: (d / "empty").mkdir() or d / "empty", "holds no .jpg/.png"),
])
def test_named_folder_is_the_only_source(tmp_path, monkeypatch, make, what):
  monkeypatch.setenv("AAE_TF_CACHE", str(tmp_path / "cache"))
  monkeypatch.setattr(celeba, "_from_tfds", None)  # Never called.
  folder = make(tmp_path)
  with pytest.raises(DataError, match=what) as e:
    celeba.load_celeba(str(folder))
  assert str(folder) in str(e.value) and "\n" not in str(e.value)


@pytest.mark.parametrize("max_images", [1, 2, 5])
def test_max_images_applies_per_split(faces, max_images):
  """As the tfds source reads split[:N], a folder keeps the first N images
  of each split, so no split is left empty."""
  splits = celeba.load_celeba(faces, max_images=max_images)
  full = celeba.load_celeba(faces)
  def parts(s):
    return s.train, s.validation, s.test
  for part, whole in zip(parts(splits), parts(full)):
    n = min(max_images, len(whole.labels))
    np.testing.assert_array_equal(part.images, whole.images[:n])


def test_damaged_image(faces):
  with open(os.path.join(faces, "000003.jpg"), "wb") as f:
    f.write(b"not a jpeg")
  with pytest.raises(DataError, match="000003.jpg"):
    celeba.load_celeba(faces)


@pytest.mark.slow
def test_celeba_command_line(tmp_path, faces):
  script = os.path.join(REPO, "experiment", "aae_celeba.py")
  env = dict(os.environ, TF_CPP_MIN_LOG_LEVEL="2")
  save = str(tmp_path / "run")
  common = ["--save_path", save, "--data_dir", faces]
  result = subprocess.run(
      [sys.executable, script, "--train", "--maxepoch", "1", "--bsize", "4",
       "--maae", "--ndisc", "2", *common], env=env, capture_output=True,
      text=True, timeout=600)
  assert result.returncode == 0, result.stderr[-3000:]
  assert os.path.exists(os.path.join(save, "saved_model", "saved_model.pb"))
  # The export takes 32x32x3 images, as its documentation says.
  import tensorflow as tf  # pylint: disable=g-import-not-at-top
  from aae_tf import export  # pylint: disable=g-import-not-at-top
  encode = tf.saved_model.load(os.path.join(save, "saved_model")).signatures[
      "encode"]
  assert encode.structured_input_signature[1]["images"].shape.as_list() == [
      None, 32, 32, 3]
  assert "[N, 32, 32, 3]" in export.__doc__
  result = subprocess.run(
      [sys.executable, script, "--generate", "--load", "latest", *common],
      env=env, capture_output=True, text=True, timeout=600)
  assert result.returncode == 0, result.stderr[-3000:]
  with Image.open(os.path.join(save, "generate_im.png")) as image:
    assert image.mode in ("RGB", "RGBA")
  result = subprocess.run(
      [sys.executable, script, "--train", "--save_path", str(tmp_path / "x"),
       "--data_dir", str(tmp_path / "none")], env=env, capture_output=True,
      text=True, timeout=600)
  assert result.returncode == 1 and "Traceback" not in result.stderr
  assert "none does not exist" in result.stderr
  assert not os.path.exists(tmp_path / "x")  # SAVE_PATH untouched.
