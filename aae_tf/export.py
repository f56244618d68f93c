"""SavedModel export: signatures that load with plain `tf.saved_model.load`.

Every mode lists its functions (`export_functions`). Images are flattened
float32 pixels in [-1, 1], [N, D] with D = height x width x channels of the
run's `model.image_shape`: 784 for MNIST (28x28x1), 3072 for 32x32 CelebA
(32x32x3). All modes have
  encode(images: float32 [N, D]) -> {"codes": [N, ncode]}
  decode(codes: float32 [N, ncode] [, labels or y]) -> {"images": [N, D]}
  sample(count: int32 scalar) -> {"images": [count, D]}
  serving_default: the same as encode,
and the semi-supervised and clustering modes add
  classify(images) -> {"probabilities": [N, classes]}.
Inputs of the wrong shape fail with a message naming the expected shape
(`saved_model_cli show --all` lists D for a given export).
"""

from __future__ import annotations

import os
import shutil

import tensorflow as tf

EXPORT_DIR = "saved_model"


def _checked(spec: tf.TensorSpec, tensor: tf.Tensor) -> tf.Tensor:
  """Asserts the run-time shape of `tensor` against `spec`."""
  shape = spec.shape
  expected = "[" + ", ".join("N" if d is None else str(d) for d in shape) + "]"
  message = f"{spec.name} must be a {spec.dtype.name} tensor {expected}"
  checks = [tf.debugging.assert_rank(tensor, shape.rank, message=message)]
  with tf.control_dependencies(checks):
    checks += [tf.debugging.assert_equal(tf.shape(tensor)[axis], size,
                                         message=message)
               for axis, size in enumerate(shape) if size is not None]
  # The model runs only after every check has passed.
  with tf.control_dependencies(checks):
    return tf.identity(tensor)


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
        for name, (fn, specs) in model.export_functions().items()}

  def signatures(self):
    concrete = {name: fn.get_concrete_function()
                for name, fn in self.functions.items()}
    concrete["serving_default"] = concrete["encode"]
    return concrete


def export_saved_model(model, save_path: str) -> str:
  """Writes SAVE_PATH/saved_model atomically (temporary folder, then rename)."""
  target = os.path.join(save_path, EXPORT_DIR)
  tmp = f"{target}.tmp"
  shutil.rmtree(tmp, ignore_errors=True)
  module = ExportModule(model)
  tf.saved_model.save(module, tmp, signatures=module.signatures())
  old = f"{target}.old"
  shutil.rmtree(old, ignore_errors=True)
  if os.path.exists(target):
    os.replace(target, old)
  os.replace(tmp, target)
  shutil.rmtree(old, ignore_errors=True)
  return target
