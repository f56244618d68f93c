"""Figures for adversarial autoencoders: image grids, latent plots, GIFs.

Everything here is plain numpy + matplotlib (object API on the Agg canvas, never
``pyplot``), so it is thread safe, needs no display and does not import
TensorFlow. Functions that draw a figure write a PNG when given a path and
return the rendered figure as a ``uint8`` RGB array ``[H, W, 3]`` that can be
fed to an image summary. A file is written whole or not at all: a failed
write leaves the previous file and raises ``OutputError``.

Value conventions:
  * Model images (inputs of ``tile_images``, ``save_image_grid`` and
    ``manifold_figure``) are floats in ``[-1, 1]``; values outside are clipped.
  * Tiled grids (output of ``tile_images``) and animation frames
    (``save_animation``) are floats in ``[0, 1]``.
"""

from __future__ import annotations

import io
import math
import os
from collections.abc import Mapping, Sequence

import matplotlib
from matplotlib import figure as mpl_figure
from matplotlib import lines as mpl_lines
from matplotlib.backends import backend_agg
import numpy as np
from PIL import Image

from aae_tf import outputs

PathLike = str | os.PathLike

# Rendering.
_DPI = 100
_GREY_CMAP = "gray"
_GRID_UPSCALE = 2  # Screen pixels per image pixel when the grid fits.
_MIN_GRID_PIXELS = 280  # Smallest side of a drawn grid, in screen pixels.
_MAX_GRID_PIXELS = 1400  # Largest side of a drawn grid, in screen pixels.
_SCATTER_FIGSIZE = (7.2, 5.6)
_CURVES_FIGSIZE = (7.0, 4.2)

# Image value ranges.
_MODEL_LOW, _MODEL_HIGH = -1.0, 1.0
_UNIT_LOW, _UNIT_HIGH = 0.0, 1.0
_BLANK_VALUE = 1.0  # Padding and empty cells are white, like the page.
_MARK_SIZE = 60
_MARK_COLOR = "black"
_UINT8_MAX = 255
_GREY_CHANNELS = 1
_RGB_CHANNELS = 3
_ALLOWED_CHANNELS = (_GREY_CHANNELS, _RGB_CHANNELS)

# Latent scatter.
_NUM_DIGITS = 10
_DIGIT_CMAP = "tab10"
_UNLABELLED_COLOR = "tab:blue"
_PRIOR_COLOR = "lightgrey"
_MARKER_SIZE = 4.0  # Scatter marker area in points^2.
_MARKER_ALPHA = 0.6
_PRIOR_ALPHA = 0.5
_LEGEND_MARKER_SIZE = 7.0  # Legend marker diameter in points.
_LEGEND_TITLE = "digit"
_PRIOR_LABEL = "prior"
_CODES_LABEL = "codes"
_LATENT_DIMS = 2
_AUTO_LIMIT_MARGIN = 0.05  # Fraction of the data extent added on each side.
_DEFAULT_LIMIT = 1.0  # Half-width used when there is no finite data.
_SHUFFLE_SEED = 0  # Fixed draw order so that no digit hides another.

# Manifold.
_MANIFOLD_PAD = 0
_MAX_MANIFOLD_TICKS = 5
_ROUND_DECIMALS = 2
_MIN_DECIMALS = 1

# Loss curves.
_LINE_WIDTH = 1.5
_GRID_ALPHA = 0.3

# Component grid.
_ORTHONORMAL_ATOL = 1e-5
_MIN_GRID_POINTS = 2

# Clusters.
CLUSTER_HEADS_PER_ROW = 10  # Cluster heads per row of their grid.

# Animation.
_GIF_SUFFIX = ".gif"
_PNG_SUFFIX = ".png"
_LOOP_FOREVER = 0


def _new_figure(figsize: tuple[float, float]) -> mpl_figure.Figure:
  """Returns a constrained-layout Figure attached to an Agg canvas."""
  fig = mpl_figure.Figure(figsize=figsize, dpi=_DPI, layout="constrained")
  backend_agg.FigureCanvasAgg(fig)
  return fig


def _image_figure(grid: np.ndarray):
  """Returns (Figure, Axes) showing a [H, W, C] grid in [0, 1] crisply.

  The axes fill the figure so that each image pixel covers a whole number of
  screen pixels (downscaled smoothly only if the grid is too large). Titles
  and labels fall outside the figure; ``bbox_inches="tight"`` keeps them.
  """
  longest = max(grid.shape[:2])
  if longest * _GRID_UPSCALE <= _MAX_GRID_PIXELS:
    scale = max(_GRID_UPSCALE, math.ceil(_MIN_GRID_PIXELS / longest))
  else:
    scale = min(1.0, _MAX_GRID_PIXELS / longest)
  height, width = grid.shape[0] * scale, grid.shape[1] * scale
  fig = mpl_figure.Figure(figsize=(width / _DPI, height / _DPI), dpi=_DPI)
  backend_agg.FigureCanvasAgg(fig)
  ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
  interpolation = "nearest" if scale >= 1 else "antialiased"
  if grid.shape[-1] == _GREY_CHANNELS:
    ax.imshow(grid[..., 0], cmap=_GREY_CMAP, vmin=_UNIT_LOW, vmax=_UNIT_HIGH,
              interpolation=interpolation)
  else:
    ax.imshow(grid, interpolation=interpolation)
  for spine in ax.spines.values():
    spine.set_visible(False)
  return fig, ax


def _png_bytes(fig: mpl_figure.Figure) -> bytes:
  """Renders a figure to PNG bytes with nothing clipped."""
  buffer = io.BytesIO()
  fig.savefig(buffer, dpi=_DPI, format="png", bbox_inches="tight")
  return buffer.getvalue()


def _save_png(fig: mpl_figure.Figure, path: PathLike) -> None:
  """Writes a figure as a PNG with nothing clipped."""
  _write_bytes(path, _png_bytes(fig))


def _write_bytes(path: PathLike, data: bytes) -> None:
  """Writes a file whole or not at all (OutputError if it fails)."""
  with outputs.atomic_file(path) as partial:
    with open(partial, "wb") as file:
      file.write(data)


def _finish(fig: mpl_figure.Figure, path: PathLike | None) -> np.ndarray:
  """Renders a figure once; writes the PNG if path is given; returns RGB.

  The array shows exactly what the PNG shows (tight bounding box).
  """
  data = _png_bytes(fig)
  if path is not None:
    _write_bytes(path, data)
  with Image.open(io.BytesIO(data)) as image:
    return np.asarray(image.convert("RGB"), dtype=np.uint8)


# ----------------------------------------------------------------------------
# Image grids.
# ----------------------------------------------------------------------------


def _as_image_batch(images: np.ndarray) -> np.ndarray:
  """Returns images as float32 [N, H, W, C] with C in (1, 3).

  Args:
    images: [N, H, W] or [N, H, W, C].

  Raises:
    ValueError: if the shape is neither.
  """
  array = np.asarray(images, dtype=np.float32)
  if array.ndim == 3:
    array = array[..., np.newaxis]
  elif array.ndim == 4:
    if array.shape[-1] not in _ALLOWED_CHANNELS:
      raise ValueError(
          f"Images must have {_GREY_CHANNELS} or {_RGB_CHANNELS} channels;"
          f" got shape {array.shape}.")
  else:
    raise ValueError(
        "Images must be [N, H, W] or [N, H, W, C]; got shape"
        f" {array.shape}.")
  if array.shape[1] == 0 or array.shape[2] == 0:
    raise ValueError(f"Images must not be empty; got shape {array.shape}.")
  return array


def _check_grid_size(rows: int, cols: int, pad: int = 0) -> None:
  """Raises ValueError unless rows, cols >= 1 and pad >= 0."""
  if rows < 1 or cols < 1:
    raise ValueError(f"rows and cols must be >= 1; got {rows}x{cols}.")
  if pad < 0:
    raise ValueError(f"pad must be >= 0; got {pad}.")


def tile_images(images: np.ndarray, rows: int, cols: int,
                pad: int = 1) -> np.ndarray:
  """Tiles images row-major into one grid image.

  Image k goes to row ``k // cols`` and column ``k % cols``. Only the first
  ``rows * cols`` images are used; missing ones leave blank (white) cells.

  Args:
    images: floats in [-1, 1] shaped [N, H, W] or [N, H, W, C] with C in
      (1, 3).
    rows: Number of grid rows.
    cols: Number of grid columns.
    pad: Pixels of white space between neighbouring cells (none at the border).

  Returns:
    float32 [rows*(H+pad)-pad, cols*(W+pad)-pad, C] in [0, 1].

  Raises:
    ValueError: for a bad image shape, rows/cols < 1 or pad < 0.
  """
  batch = _as_image_batch(images)
  _check_grid_size(rows, cols, pad)
  _, height, width, channels = batch.shape
  unit = (batch - _MODEL_LOW) / (_MODEL_HIGH - _MODEL_LOW)
  unit = np.clip(unit, _UNIT_LOW, _UNIT_HIGH)
  grid = np.full(
      (rows * (height + pad) - pad, cols * (width + pad) - pad, channels),
      _BLANK_VALUE, dtype=np.float32)
  for index in range(min(len(unit), rows * cols)):
    row, col = divmod(index, cols)
    top = row * (height + pad)
    left = col * (width + pad)
    grid[top:top + height, left:left + width] = unit[index]
  return grid


def _cell_centres(count: int, size: int, pad: int) -> np.ndarray:
  """Pixel coordinates of cell centres along one axis of a tiled grid."""
  return np.arange(count) * (size + pad) + (size - 1) / 2.0


def _set_axis_labels(ax, ticks: np.ndarray | None,
                     labels: Sequence[str] | None, axis: str,
                     tick_length: float | None = None) -> None:
  """Puts labels at ticks on the 'x' or 'y' axis, or hides its ticks."""
  set_ticks = ax.set_xticks if axis == "x" else ax.set_yticks
  if labels is None or ticks is None:
    set_ticks([])
    return
  set_ticks(ticks, labels=list(labels))
  if tick_length is not None:
    ax.tick_params(axis=axis, length=tick_length)


def _check_labels(labels: Sequence[str] | None, count: int, name: str) -> None:
  if labels is not None and len(labels) != count:
    raise ValueError(f"{name} needs {count} entries; got {len(labels)}.")


def _image_grid_figure(images: np.ndarray, rows: int, cols: int,
                       title: str | None = None,
                       row_labels: Sequence[str] | None = None,
                       col_labels: Sequence[str] | None = None,
                       xlabel: str | None = None,
                       ylabel: str | None = None,
                       pad: int = 1) -> mpl_figure.Figure:
  """Builds the Figure drawn by save_image_grid."""
  _check_labels(row_labels, rows, "row_labels")
  _check_labels(col_labels, cols, "col_labels")
  grid = tile_images(images, rows, cols, pad=pad)
  _, height, width, _ = _as_image_batch(images).shape
  fig, ax = _image_figure(grid)
  _set_axis_labels(ax, _cell_centres(rows, height, pad), row_labels, "y",
                   tick_length=0)
  _set_axis_labels(ax, _cell_centres(cols, width, pad), col_labels, "x",
                   tick_length=0)
  if col_labels is not None:
    ax.xaxis.tick_top()
  if title:
    ax.set_title(title)
  if xlabel:
    ax.set_xlabel(xlabel)
  if ylabel:
    ax.set_ylabel(ylabel)
  return fig


def save_image_grid(path: PathLike, images: np.ndarray, rows: int, cols: int,
                    title: str | None = None,
                    row_labels: Sequence[str] | None = None,
                    col_labels: Sequence[str] | None = None,
                    xlabel: str | None = None,
                    ylabel: str | None = None) -> None:
  """Saves images in [-1, 1] as a PNG figure of a row-major grid.

  Args:
    path: Output PNG path.
    images: As for ``tile_images``.
    rows: Number of grid rows.
    cols: Number of grid columns.
    title: Optional title above the grid.
    row_labels: Optional ``rows`` labels down the left side (e.g. digits).
    col_labels: Optional ``cols`` labels along the top.
    xlabel: Optional label under the grid.
    ylabel: Optional label left of the grid.

  Raises:
    ValueError: for bad shapes or label counts.
  """
  fig = _image_grid_figure(images, rows, cols, title=title,
                           row_labels=row_labels, col_labels=col_labels,
                           xlabel=xlabel, ylabel=ylabel)
  _save_png(fig, path)


# ----------------------------------------------------------------------------
# Clusters.
# ----------------------------------------------------------------------------


def row_layout(count: int, max_cols: int) -> tuple[int, int]:
  """(rows, cols) of a row-major grid of `count` cells, at most `max_cols`
  a row."""
  if count < 1 or max_cols < 1:
    raise ValueError(f"count and max_cols must be >= 1; got {count} and "
                     f"{max_cols}.")
  cols = min(count, max_cols)
  return -(-count // cols), cols


def cluster_heads_grid(heads: np.ndarray) -> np.ndarray:
  """The grid of cluster heads that cluster_heads.png shows (and its
  TensorBoard image): cluster k at row k // CLUSTER_HEADS_PER_ROW, column
  k % CLUSTER_HEADS_PER_ROW. `heads` as for ``tile_images``; returns its
  output."""
  return tile_images(heads, *row_layout(len(heads), CLUSTER_HEADS_PER_ROW))


def save_cluster_heads(path: PathLike | None, heads: np.ndarray,
                       title: str) -> np.ndarray:
  """Draws ``cluster_heads_grid``; column c is labelled "c" and (with more
  than one row) row r "r*C+", so the cell holds cluster r*C + c
  (C = CLUSTER_HEADS_PER_ROW).

  Returns:
    The rendered figure as uint8 RGB [H, W, 3].
  """
  rows, cols = row_layout(len(heads), CLUSTER_HEADS_PER_ROW)
  row_labels = [f"{r * cols}+" for r in range(rows)] if rows > 1 else None
  fig = _image_grid_figure(heads, rows, cols, title=title,
                           row_labels=row_labels,
                           col_labels=[str(c) for c in range(cols)])
  return _finish(fig, path)


def ragged_rows(rows: Sequence[np.ndarray], cols: int,
                image_shape: Sequence[int]) -> np.ndarray:
  """Rows of up to `cols` images each (in [-1, 1], shaped `image_shape`) as
  one row-major batch [len(rows) * cols, *image_shape] for
  ``save_image_grid``: a shorter row ends in blank (white) cells."""
  _check_grid_size(len(rows), cols)
  blank = _MODEL_LOW + _BLANK_VALUE * (_MODEL_HIGH - _MODEL_LOW)
  batch = np.full((len(rows) * cols,) + tuple(image_shape), blank, np.float32)
  for r, images in enumerate(rows):
    images = np.asarray(images, np.float32)[:cols]
    batch[r * cols:r * cols + len(images)] = images
  return batch


# ----------------------------------------------------------------------------
# Latent space.
# ----------------------------------------------------------------------------


def _as_codes(codes: np.ndarray, name: str) -> np.ndarray:
  """Returns codes as float64 [N, 2] or raises ValueError."""
  array = np.asarray(codes, dtype=np.float64)
  if array.ndim != 2 or array.shape[1] != _LATENT_DIMS:
    raise ValueError(
        f"{name} must be [N, {_LATENT_DIMS}] (a 2-D latent space); got shape"
        f" {array.shape}.")
  return array


def _as_digit_labels(labels: np.ndarray, count: int) -> np.ndarray:
  """Returns integer labels [N] in [0, 10) from class ids or one-hot rows."""
  array = np.asarray(labels)
  if array.ndim == 2:
    array = np.argmax(array, axis=1)
  if array.ndim != 1 or len(array) != count:
    raise ValueError(
        f"labels must be [N] class ids or [N, K] one-hot with N = {count};"
        f" got shape {np.shape(labels)}.")
  if array.size and not np.array_equal(array, np.round(array)):
    raise ValueError("labels must be integers.")
  array = array.astype(np.int64)
  if array.size and (array.min() < 0 or array.max() >= _NUM_DIGITS):
    raise ValueError(
        f"labels must lie in [0, {_NUM_DIGITS}); got range"
        f" [{array.min()}, {array.max()}].")
  return array


def _square_limits(points: Sequence[np.ndarray]) -> tuple[float, float,
                                                           float, float]:
  """Square (x_low, x_high, y_low, y_high) covering all finite points."""
  stacked = np.concatenate([np.reshape(p, (-1, _LATENT_DIMS)) for p in points])
  finite = stacked[np.all(np.isfinite(stacked), axis=1)]
  if not finite.size:
    return -_DEFAULT_LIMIT, _DEFAULT_LIMIT, -_DEFAULT_LIMIT, _DEFAULT_LIMIT
  low, high = finite.min(axis=0), finite.max(axis=0)
  centre = (low + high) / 2.0
  half = max(float(np.max(high - low)) / 2.0,
             _DEFAULT_LIMIT * _AUTO_LIMIT_MARGIN)
  half *= 1.0 + 2.0 * _AUTO_LIMIT_MARGIN
  return (centre[0] - half, centre[0] + half, centre[1] - half,
          centre[1] + half)


def _legend_handle(color, label: str) -> mpl_lines.Line2D:
  """A marker-only legend entry (bigger and opaque for readability)."""
  return mpl_lines.Line2D([], [], linestyle="none", marker="o",
                          markersize=_LEGEND_MARKER_SIZE, color=color,
                          label=label)


def _latent_scatter_figure(codes: np.ndarray, labels: np.ndarray | None,
                           prior_samples: np.ndarray | None = None,
                           title: str = "Latent codes",
                           limits: float | None = None,
                           marks: np.ndarray | None = None,
                           marks_label: str = "marks") -> mpl_figure.Figure:
  """Builds the Figure drawn by latent_scatter."""
  codes = _as_codes(codes, "codes")
  marks = None if marks is None else _as_codes(marks, "marks")
  prior = None if prior_samples is None else _as_codes(prior_samples,
                                                       "prior_samples")
  if limits is not None and not (np.isfinite(limits) and limits > 0):
    raise ValueError(f"limits must be a positive number; got {limits}.")

  fig = _new_figure(_SCATTER_FIGSIZE)
  ax = fig.add_subplot()
  handles = []
  if prior is not None:
    ax.scatter(prior[:, 0], prior[:, 1], s=_MARKER_SIZE, c=_PRIOR_COLOR,
               alpha=_PRIOR_ALPHA, linewidths=0)
  if labels is None:
    colors = _UNLABELLED_COLOR
    handles.append(_legend_handle(_UNLABELLED_COLOR, _CODES_LABEL))
    order = np.arange(len(codes))
  else:
    digits = _as_digit_labels(labels, len(codes))
    palette = matplotlib.colormaps[_DIGIT_CMAP].colors
    colors = np.asarray(palette)[digits] if digits.size else None
    handles.extend(_legend_handle(palette[d], str(d))
                   for d in range(_NUM_DIGITS))
    # Draw in a fixed random order so that later digits do not hide earlier.
    order = np.random.default_rng(_SHUFFLE_SEED).permutation(len(codes))
    if colors is not None:
      colors = colors[order]
  ax.scatter(codes[order, 0], codes[order, 1], s=_MARKER_SIZE, c=colors,
             alpha=_MARKER_ALPHA, linewidths=0)
  if prior is not None:
    handles.append(_legend_handle(_PRIOR_COLOR, _PRIOR_LABEL))
  if marks is not None:
    ax.scatter(marks[:, 0], marks[:, 1], s=_MARK_SIZE, c=_MARK_COLOR,
               marker="x")
    handles.append(mpl_lines.Line2D([], [], color=_MARK_COLOR, marker="x",
                                    linestyle="none", label=marks_label))

  if limits is not None:
    x_low, x_high, y_low, y_high = -limits, limits, -limits, limits
  else:
    x_low, x_high, y_low, y_high = _square_limits(
        [codes] + [p for p in (prior, marks) if p is not None])
  ax.set_xlim(x_low, x_high)
  ax.set_ylim(y_low, y_high)
  ax.set_aspect("equal", adjustable="box")
  ax.set_xlabel("z[0]")
  ax.set_ylabel("z[1]")
  ax.set_title(title)
  ax.grid(alpha=_GRID_ALPHA)
  ax.legend(handles=handles, title=None if labels is None else _LEGEND_TITLE,
            loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0,
            frameon=False)
  return fig


def latent_scatter(path: PathLike | None, codes: np.ndarray,
                   labels: np.ndarray | None,
                   prior_samples: np.ndarray | None = None,
                   title: str = "Latent codes",
                   limits: float | None = None,
                   marks: np.ndarray | None = None,
                   marks_label: str = "marks") -> np.ndarray:
  """Scatter plot of 2-D latent codes coloured by digit.

  Prior samples, if any, are drawn first in light grey. The legend (titled
  "digit", entries 0..9 and "prior") sits right of the axes.

  Args:
    path: PNG path to write, or None to only render.
    codes: [N, 2] latent codes.
    labels: [N] digit ids in [0, 10), [N, 10] one-hot, or None (one colour).
    prior_samples: Optional [M, 2] samples of the prior.
    title: Figure title.
    limits: If given, both axes span [-limits, limits]; otherwise a square
      covering all finite points.
    marks: Optional [K, 2] points drawn as large black crosses (e.g. the
      cluster heads of a dimensionality-reduction run), named `marks_label`.
    marks_label: Legend entry of `marks`.

  Returns:
    The rendered figure as uint8 RGB [H, W, 3].

  Raises:
    ValueError: for bad shapes, labels or limits.
  """
  fig = _latent_scatter_figure(codes, labels, prior_samples=prior_samples,
                               title=title, limits=limits, marks=marks,
                               marks_label=marks_label)
  return _finish(fig, path)


def grid_coordinates(low: float, high: float, n: int) -> np.ndarray:
  """Returns ``np.linspace(low, high, n)`` (n >= 2); high < low runs down."""
  if n < _MIN_GRID_POINTS:
    raise ValueError(f"n must be >= {_MIN_GRID_POINTS}; got {n}.")
  if not (np.isfinite(low) and np.isfinite(high)):
    raise ValueError(f"low and high must be finite; got {low}, {high}.")
  return np.linspace(low, high, n)


def component_grid(mean: np.ndarray, axes: np.ndarray, stds: np.ndarray,
                   n: int, extent: float = 2.0) -> np.ndarray:
  """Codes on a regular n x n grid along a 2-D Gaussian component's axes.

  The component is ``mean + axes @ diag(stds) @ u`` with ``u ~ N(0, I)``;
  ``axes[:, k]`` is the unit direction of axis k (the columns, as returned
  by ``np.linalg.eigh``). Grid point (i, j) is

    mean + axes[:, 0] * stds[0] * t[j] + axes[:, 1] * stds[1] * t[n - 1 - i]

  with ``t = grid_coordinates(-extent, extent, n)``: column j increases along
  the first axis, row 0 has the LARGEST value along the second axis. Points
  are returned row-major (index ``i * n + j``): decoded, they are the images
  of ``manifold_figure(..., rows=n, cols=n, x_values=stds[0] * t,
  y_values=stds[1] * t)`` (offsets along the component's axes).

  Args:
    mean: [2] centre of the component.
    axes: [2, 2] orthonormal matrix whose columns are the component's axes.
    stds: [2] positive standard deviations along those axes.
    n: Points per axis (>= 2).
    extent: Grid half-width in standard deviations.

  Returns:
    float64 [n * n, 2] codes.

  Raises:
    ValueError: for bad shapes, non-orthonormal axes, stds <= 0, extent <= 0
      or n < 2.
  """
  mean = np.asarray(mean, dtype=np.float64)
  axes = np.asarray(axes, dtype=np.float64)
  stds = np.asarray(stds, dtype=np.float64)
  if mean.shape != (_LATENT_DIMS,) or stds.shape != (_LATENT_DIMS,):
    raise ValueError(
        f"mean and stds must be [{_LATENT_DIMS}]; got {mean.shape} and"
        f" {stds.shape}.")
  if axes.shape != (_LATENT_DIMS, _LATENT_DIMS):
    raise ValueError(
        f"axes must be [{_LATENT_DIMS}, {_LATENT_DIMS}]; got {axes.shape}.")
  if not np.allclose(axes.T @ axes, np.eye(_LATENT_DIMS),
                     atol=_ORTHONORMAL_ATOL):
    raise ValueError("axes must be orthonormal (columns are unit axes).")
  if not np.all(stds > 0):
    raise ValueError(f"stds must be positive; got {stds}.")
  if not extent > 0:
    raise ValueError(f"extent must be positive; got {extent}.")
  steps = grid_coordinates(-extent, extent, n)
  along_first, along_second = np.meshgrid(steps, steps[::-1])  # [n, n] each.
  standard = np.stack([along_first.ravel(), along_second.ravel()], axis=1)
  return mean + (standard * stds) @ axes.T


def _format_coordinate(value: float) -> str:
  """Formats a coordinate with 1-2 decimals (e.g. 1.5, -0.25, 2.0)."""
  text = f"{value:.{_ROUND_DECIMALS}f}"
  whole, _, decimals = text.partition(".")
  decimals = decimals.rstrip("0").ljust(_MIN_DECIMALS, "0")
  text = f"{whole}.{decimals}"
  return "0.0" if text in ("-0.0", "-0.00") else text


def _round_ticks(values: np.ndarray, centres: np.ndarray) -> tuple:
  """(positions, labels) of a few round coordinates (multiples of 1, 2, 2.5
  or 5 times a power of ten) inside the range of `values`, placed between
  the cell centres by linear interpolation. `values` label `centres` in
  either order."""
  order = np.argsort(values)
  values, centres = values[order], centres[order]
  locator = matplotlib.ticker.MaxNLocator(nbins=_MAX_MANIFOLD_TICKS - 1,
                                          steps=[1, 2, 2.5, 5, 10])
  ticks = locator.tick_values(values[0], values[-1])
  span = values[-1] - values[0]
  inside = ((ticks >= values[0] - 1e-9 * span) &
            (ticks <= values[-1] + 1e-9 * span))
  ticks = ticks[inside]
  positions = np.interp(ticks, values, centres)
  by_place = np.argsort(positions)  # Labels listed along the axis.
  return (positions[by_place],
          [_format_coordinate(float(t)) for t in ticks[by_place]])


def _as_monotonic(values: np.ndarray, count: int, name: str) -> np.ndarray:
  """Returns values as float64 [count], strictly monotonic, or raises."""
  array = np.asarray(values, dtype=np.float64)
  if array.shape != (count,):
    raise ValueError(f"{name} must have shape [{count}]; got {array.shape}.")
  steps = np.diff(array)
  if count > 1 and not (np.all(steps > 0) or np.all(steps < 0)):
    raise ValueError(f"{name} must be strictly increasing or decreasing.")
  return array


def _manifold_figure(images: np.ndarray, rows: int, cols: int,
                     x_values: np.ndarray, y_values: np.ndarray, title: str,
                     xlabel: str = "z[0]",
                     ylabel: str = "z[1]") -> mpl_figure.Figure:
  """Builds the Figure drawn by manifold_figure."""
  _check_grid_size(rows, cols)
  batch = _as_image_batch(images)
  if len(batch) != rows * cols:
    raise ValueError(
        f"manifold needs rows * cols = {rows * cols} images; got {len(batch)}.")
  # Tick labels: x grows to the right, y grows upwards (row 0 = largest).
  x_values = np.sort(_as_monotonic(x_values, cols, "x_values"))
  y_values = np.sort(_as_monotonic(y_values, rows, "y_values"))[::-1]
  _, height, width, _ = batch.shape

  grid = tile_images(batch, rows, cols, pad=_MANIFOLD_PAD)
  fig, ax = _image_figure(grid)
  positions, labels = _round_ticks(
      x_values, _cell_centres(cols, width, _MANIFOLD_PAD))
  ax.set_xticks(positions, labels=labels)
  positions, labels = _round_ticks(
      y_values, _cell_centres(rows, height, _MANIFOLD_PAD))
  ax.set_yticks(positions, labels=labels)
  ax.set_xlabel(xlabel)
  ax.set_ylabel(ylabel)
  ax.set_title(title)
  return fig


def manifold_figure(path: PathLike | None, images: np.ndarray, rows: int,
                    cols: int, x_values: np.ndarray, y_values: np.ndarray,
                    title: str, xlabel: str = "z[0]",
                    ylabel: str = "z[1]") -> np.ndarray:
  """Draws decoded images on a grid of latent coordinates (the manifold).

  Laid out like a plot: ``images`` is row-major (image ``i * cols + j`` is
  row i, column j), column 0 holds the SMALLEST x and row 0 (the top) the
  LARGEST y, exactly the order ``component_grid`` produces. ``x_values`` and
  ``y_values`` are the coordinates of the columns and rows; they may be given
  in increasing or decreasing order (they are sorted to label the axes, so
  column j shows ``sorted(x_values)[j]`` and row i shows the i-th largest y).
  Images are never reordered. A few ticks show the coordinates (1-2
  decimals).

  Args:
    path: PNG path to write, or None to only render.
    images: [rows * cols, ...] images in [-1, 1], shaped as for tile_images.
    rows: Number of grid rows (= len(y_values)).
    cols: Number of grid columns (= len(x_values)).
    x_values: [cols] strictly monotonic column coordinates (either order).
    y_values: [rows] strictly monotonic row coordinates (either order).
    title: Figure title.
    xlabel: Label of the horizontal axis.
    ylabel: Label of the vertical axis.

  Returns:
    The rendered figure as uint8 RGB [H, W, 3].

  Raises:
    ValueError: for bad shapes or non-monotonic coordinates.
  """
  fig = _manifold_figure(images, rows, cols, x_values, y_values, title,
                         xlabel=xlabel, ylabel=ylabel)
  return _finish(fig, path)


# ----------------------------------------------------------------------------
# Curves.
# ----------------------------------------------------------------------------


def _loss_curves_figure(series: Mapping[str, tuple[np.ndarray, np.ndarray]],
                        title: str, xlabel: str = "step",
                        ylabel: str = "loss",
                        panel_of=None) -> mpl_figure.Figure:
  """Builds the Figure drawn by loss_curves."""
  if not series:
    raise ValueError("series must name at least one curve.")
  panels: dict = {}
  for name in series:
    panels.setdefault(panel_of(name) if panel_of else title, []).append(name)
  width, height = _CURVES_FIGSIZE
  fig = _new_figure((width, height * len(panels) ** 0.5))
  if len(panels) > 1:
    fig.suptitle(title)
  for index, (panel, names) in enumerate(panels.items()):
    ax = fig.add_subplot(len(panels), 1, index + 1)
    _plot_curves(ax, {n: series[n] for n in names}, xlabel, ylabel)
    ax.set_title(panel)
  return fig


def _plot_curves(ax, series, xlabel: str, ylabel: str) -> None:
  for name, (steps, values) in series.items():
    steps = np.asarray(steps, dtype=np.float64)
    values = np.asarray(values, dtype=np.float64)
    if steps.ndim != 1 or steps.shape != values.shape:
      raise ValueError(
          f"Series {name!r} needs 1-D steps and values of equal length; got"
          f" {steps.shape} and {values.shape}.")
    marker = "o" if len(steps) == 1 else None  # A lone point needs a marker.
    ax.plot(steps, values, label=name, linewidth=_LINE_WIDTH, marker=marker)
  ax.set_xlabel(xlabel)
  ax.set_ylabel(ylabel)
  ax.grid(alpha=_GRID_ALPHA)
  ax.legend(loc="best")


def loss_curves(path: PathLike | None,
                series: Mapping[str, tuple[np.ndarray, np.ndarray]],
                title: str, xlabel: str = "step",
                ylabel: str = "loss", panel_of=None) -> np.ndarray:
  """Plots one line per named series of (steps, values).

  With `panel_of` (series name -> panel title) series of different kinds get
  panels of their own, so losses of very different size stay readable.

  Args:
    path: PNG path to write, or None to only render.
    series: Maps a legend name to 1-D ``(steps, values)`` of equal length.
    title: Figure title.
    xlabel: Label of the horizontal axis.
    ylabel: Label of the vertical axis.
    panel_of: Optional; maps a series name to the title of its panel.

  Returns:
    The rendered figure as uint8 RGB [H, W, 3].

  Raises:
    ValueError: if series is empty or a series is malformed.
  """
  fig = _loss_curves_figure(series, title, xlabel=xlabel, ylabel=ylabel,
                            panel_of=panel_of)
  return _finish(fig, path)


# ----------------------------------------------------------------------------
# Animation.
# ----------------------------------------------------------------------------


def save_animation(path: PathLike, frames: np.ndarray,
                   duration_ms: int = 100) -> None:
  """Saves frames as a looping animated GIF, or animated PNG for ".png".

  Frames use the ``tile_images`` OUTPUT convention: floats in [0, 1] (values
  outside are clipped). To animate model images in [-1, 1], tile each frame
  first, e.g. ``np.stack([tile_images(f, r, c) for f in batches])``.
  Identical consecutive frames may be merged by Pillow (durations add up).

  Args:
    path: Output path ending in ".gif" or ".png".
    frames: [T, H, W] (grey) or [T, H, W, C] with C in (1, 3), in [0, 1].
    duration_ms: Display time of each frame in milliseconds.

  Raises:
    ValueError: for a bad suffix, frame shape or duration.
  """
  suffix = os.path.splitext(os.fspath(path))[1].lower()
  if suffix not in (_GIF_SUFFIX, _PNG_SUFFIX):
    raise ValueError(
        f"Animation path must end in {_GIF_SUFFIX} or {_PNG_SUFFIX}; got"
        f" {os.fspath(path)!r}.")
  if duration_ms <= 0:
    raise ValueError(f"duration_ms must be positive; got {duration_ms}.")
  array = np.asarray(frames, dtype=np.float32)
  if array.ndim == 4 and array.shape[-1] == _GREY_CHANNELS:
    array = array[..., 0]
  valid = (array.ndim == 3 or
           (array.ndim == 4 and array.shape[-1] == _RGB_CHANNELS))
  if not valid or not array.shape[0] or not all(array.shape[1:3]):
    raise ValueError(
        "frames must be non-empty [T, H, W] or [T, H, W, C] with C in"
        f" {_ALLOWED_CHANNELS}; got shape {np.shape(frames)}.")
  pixels = np.round(np.clip(array, _UNIT_LOW, _UNIT_HIGH) * _UINT8_MAX)
  images = [Image.fromarray(frame) for frame in pixels.astype(np.uint8)]
  with outputs.atomic_file(path) as partial:
    images[0].save(partial, format=suffix.lstrip(".").upper(), save_all=True,
                   append_images=images[1:], duration=duration_ms,
                   loop=_LOOP_FOREVER)
