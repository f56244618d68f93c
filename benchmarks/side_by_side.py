"""Rendered figures side by side in one PNG (used by `seed_systems.py`)."""

import os
from typing import Sequence, Union

import numpy as np
from PIL import Image

from aae_tf import outputs

RGB_CHANNELS = 3
WHITE = 255


def save_side_by_side(path: Union[str, os.PathLike],
                      panels: Sequence[np.ndarray],
                      gap: int = 16) -> np.ndarray:
  """Writes rendered figures (uint8 RGB [H, W, 3], e.g. from
  ``figures.latent_scatter``) left to right on white, top-aligned, as one
  PNG.

  Returns the combined uint8 RGB array.

  Raises:
    ValueError: for no panels, a negative gap or a panel that is not RGB.
  """
  if not panels:
    raise ValueError("save_side_by_side needs at least one panel.")
  if gap < 0:
    raise ValueError(f"gap must be >= 0; got {gap}.")
  arrays = [np.asarray(p) for p in panels]
  for i, a in enumerate(arrays):
    if a.ndim != 3 or a.shape[-1] != RGB_CHANNELS or a.dtype != np.uint8:
      raise ValueError(f"panel {i} must be uint8 [H, W, 3]; got "
                       f"{a.dtype} {a.shape}.")
  height = max(a.shape[0] for a in arrays)
  width = sum(a.shape[1] for a in arrays) + gap * (len(arrays) - 1)
  canvas = np.full((height, width, RGB_CHANNELS), WHITE, np.uint8)
  x = 0
  for a in arrays:
    canvas[:a.shape[0], x:x + a.shape[1]] = a
    x += a.shape[1] + gap
  with outputs.atomic_file(path) as partial:
    Image.fromarray(canvas).save(partial, format="PNG")
  return canvas
