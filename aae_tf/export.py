"""SavedModel export: signatures that load with plain `tf.saved_model.load`.

Signatures (inputs and outputs are named):
  encode(images: float32 [N, 784] in [-1, 1]) -> {"codes": [N, ncode]}
  decode(codes: float32 [N, ncode]) -> {"images": [N, 784] in [-1, 1]}
  sample(count: int32 scalar) -> {"codes": [count, ncode], "images": [...]}
  serving_default: the same as encode.
"""

from __future__ import annotations

import os
import shutil

import tensorflow as tf

EXPORT_DIR = "saved_model"
SAMPLE_SEED = 0


class ExportModule(tf.Module):
  """Wraps a trained mode's networks and prior into traced functions."""

  def __init__(self, model, seed: int = SAMPLE_SEED):
    super().__init__(name="aae")
    self._model = model
    self.networks = dict(model.networks)
    self.rng = tf.random.Generator.from_seed(seed)
    image_spec = tf.TensorSpec([None, model.image_size], tf.float32,
                               name="images")
    code_spec = tf.TensorSpec([None, model.ncode], tf.float32, name="codes")
    count_spec = tf.TensorSpec([], tf.int32, name="count")
    self.encode = tf.function(self._encode, input_signature=[image_spec])
    self.decode = tf.function(self._decode, input_signature=[code_spec])
    self.sample = tf.function(self._sample, input_signature=[count_spec])

  def _encode(self, images):
    images = _checked(images, self._model.image_size, "images")
    return {"codes": self._model.encode(images)}

  def _decode(self, codes):
    codes = _checked(codes, self._model.ncode, "codes")
    return {"images": self._model.decode(codes)}

  def _sample(self, count):
    tf.debugging.assert_non_negative(count, message="count must be >= 0")
    codes = self._model.prior.sample(self.rng, count)
    return {"codes": codes, "images": self._model.decode(codes)}

  def signatures(self):
    encode = self.encode.get_concrete_function()
    return {"encode": encode, "serving_default": encode,
            "decode": self.decode.get_concrete_function(),
            "sample": self.sample.get_concrete_function()}


def _checked(tensor, width: int, name: str):
  """Fails with a readable message unless `tensor` is [N, width]."""
  tf.debugging.assert_rank(
      tensor, 2, message=f"{name} must be a float32 matrix [N, {width}]")
  tf.debugging.assert_equal(
      tf.shape(tensor)[1], width,
      message=f"{name} must be a float32 matrix [N, {width}]")
  return tensor


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
