"""SavedModel export: signatures that load with plain `tf.saved_model.load`.

`export_functions` lists a mode's functions. Images are float32
pixels in [-1, 1], [N, H, W, C] with (H, W, C) the run's `model.image_shape`:
[N, 28, 28, 1] for MNIST, [N, 32, 32, 3] for 32x32 CelebA. All modes have
  encode(images: float32 [N, H, W, C]) -> {"codes": [N, ncode]}
  decode(codes: float32 [N, ncode] [, labels or y]) -> {"images": [N, H, W, C]}
  sample(count: int32 scalar) -> {"images": [count, H, W, C]}
  serving_default: the same as encode,
where decode also reads the supervised AAE's labels (int32 [N]) and the
categorical modes' y (float32 [N, classes]); the semi-supervised,
clustering and dimensionality-reduction modes add
  classify(images) -> {"probabilities": [N, classes]}
and dimensionality reduction
  represent(images) -> {"representation": [N, ncode]}.
Inputs of the wrong shape fail with a message naming the expected shape
(`saved_model_cli show --all` lists the shape of a given export).
"""

from __future__ import annotations

import os
import shutil

from typing import Dict

import tensorflow as tf

from aae_tf import outputs
from aae_tf.config import CATEGORICAL_MODES

EXPORT_DIR = "saved_model"


def export_functions(model) -> Dict[str, tuple]:
  """name -> (function, input TensorSpecs) of the SavedModel of `model` (a
  mode of `aae_tf.modes`), by its configuration's mode."""
  mode = model.config.mode
  images = tf.TensorSpec((None,) + tuple(model.image_shape), tf.float32,
                         name="images")
  codes = tf.TensorSpec([None, model.ncode], tf.float32, name="codes")
  count = tf.TensorSpec([], tf.int32, name="count")
  functions = {
      "encode": (lambda images: {"codes": model.encode(images)}, [images]),
      "decode": (lambda codes: {"images": model.decode(codes)}, [codes]),
      "sample": (lambda count: {"images": model.generate(count)}, [count]),
  }
  if mode == "supervised":
    labels = tf.TensorSpec([None], tf.int32, name="labels")
    functions["decode"] = (
        lambda codes, labels: {"images": model.decode(codes, labels)},
        [codes, labels])
  if mode in CATEGORICAL_MODES:
    y = tf.TensorSpec([None, model.num_classes], tf.float32, name="y")
    functions["classify"] = (
        lambda images: {"probabilities": model.classify(images)}, [images])
    functions["decode"] = (
        lambda codes, y: {"images": model.decode(codes, y)}, [codes, y])
  if mode == "dimreduction":
    functions["represent"] = (
        lambda images: {"representation": model.represent(images)},
        [images])
  return functions


def _checked(spec: tf.TensorSpec, tensor: tf.Tensor) -> tf.Tensor:
  """Checks the run-time shape of `tensor` against `spec`; the error names
  the tensor and the expected shape ("[?,28,28,1]").

  EnsureShape runs whatever the graph knows statically; `assert_rank` would
  be folded away in a signature whose input rank is fixed.
  """
  return tf.ensure_shape(tensor, spec.shape, name=spec.name)


def _with_checks(fn, specs):
  def checked(*args):
    return fn(*[_checked(s, a) for s, a in zip(specs, args)])
  return checked


class ExportModule(tf.Module):
  """The trained mode's networks, random state and traced functions."""

  def __init__(self, model):
    super().__init__(name="aae")
    self.networks = dict(model.networks)
    self.rng = model.rng
    self.functions = {
        name: tf.function(_with_checks(fn, specs), input_signature=specs)
        for name, (fn, specs) in export_functions(model).items()}

  def signatures(self):
    concrete = {name: fn.get_concrete_function()
                for name, fn in self.functions.items()}
    concrete["serving_default"] = concrete["encode"]
    return concrete


def export_saved_model(model, save_path: str) -> str:
  """Writes SAVE_PATH/saved_model atomically (temporary folder, then rename).

  A failed write removes the temporary folder, keeps the previous export
  and raises OutputError.
  """
  target = os.path.join(save_path, EXPORT_DIR)
  tmp = f"{target}.tmp"
  shutil.rmtree(tmp, ignore_errors=True)
  module = ExportModule(model)
  kept = ("The previous one is kept." if os.path.exists(target) else "")
  try:
    with outputs.write_errors("the SavedModel", target, then=kept):
      tf.saved_model.save(module, tmp, signatures=module.signatures())
  except BaseException:
    shutil.rmtree(tmp, ignore_errors=True)
    raise
  old = f"{target}.old"
  shutil.rmtree(old, ignore_errors=True)
  with outputs.write_errors("the SavedModel", target):
    if os.path.exists(target):
      os.replace(target, old)
    os.replace(tmp, target)
  shutil.rmtree(old, ignore_errors=True)
  return target
