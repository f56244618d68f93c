"""Tests for aae_tf.figures and benchmarks/side_by_side.py (numpy +
matplotlib only, no TensorFlow)."""

import math

from matplotlib.backends import backend_agg
import numpy as np
from PIL import Image
import pytest

from aae_tf import figures
from side_by_side import save_side_by_side

_SIDE = 28
_IMAGE = (_SIDE, _SIDE, 1)
_NUM_DIGITS = 10
_ANGLE = math.pi / 4


def _rotation(angle: float) -> np.ndarray:
  """Rotation matrix whose columns are the rotated unit axes."""
  cos, sin = math.cos(angle), math.sin(angle)
  return np.array([[cos, -sin], [sin, cos]])


def _assert_rgb(array: np.ndarray) -> None:
  assert array.dtype == np.uint8
  assert array.ndim == 3 and array.shape[-1] == 3
  assert array.shape[0] > 0 and array.shape[1] > 0


def _figure_to_array(fig) -> np.ndarray:
  """Renders a matplotlib Figure to a uint8 RGB array [H, W, 3]."""
  canvas = fig.canvas
  if not isinstance(canvas, backend_agg.FigureCanvasAgg):
    canvas = backend_agg.FigureCanvasAgg(fig)
  canvas.draw()
  rgba = np.asarray(canvas.buffer_rgba())
  return np.ascontiguousarray(rgba[..., :3], dtype=np.uint8)


def _assert_png(path) -> None:
  with Image.open(path) as image:
    assert image.format == "PNG"
    assert image.size[0] > 0 and image.size[1] > 0


# tile_images ----------------------------------------------------------------


@pytest.mark.parametrize(
    "shape, rows, cols, pad, expected",
    [
        ((6,) + _IMAGE, 2, 3, 1, (2 * 29 - 1, 3 * 29 - 1, 1)),
        ((4, 5, 7), 2, 2, 0, (10, 14, 1)),
        ((4, 5, 7, 1), 1, 4, 2, (5, 4 * 9 - 2, 1)),
        ((3, 5, 7, 3), 3, 1, 1, (3 * 6 - 1, 7, 3)),
    ],
)
def test_tile_images_shapes(shape, rows, cols, pad, expected):
  grid = figures.tile_images(np.zeros(shape), rows, cols, pad=pad)
  assert grid.shape == expected
  assert grid.dtype == np.float32


def test_tile_images_maps_minus_one_one_to_unit_interval():
  images = np.stack([np.full((2, 2), v) for v in (-1.0, 0.0, 1.0, 3.0)])
  grid = figures.tile_images(images, 1, 4, pad=0)
  np.testing.assert_allclose(grid[0, ::2, 0], [0.0, 0.5, 1.0, 1.0])
  assert grid.min() >= 0.0 and grid.max() <= 1.0


def test_tile_images_places_row_major_and_blanks_missing_cells():
  images = np.full((3, 2, 2), -1.0)  # Black cells.
  grid = figures.tile_images(images, 2, 2, pad=1)
  assert grid.shape == (5, 5, 1)
  np.testing.assert_array_equal(grid[0:2, 0:2], 0.0)  # Image 0.
  np.testing.assert_array_equal(grid[0:2, 3:5], 0.0)  # Image 1.
  np.testing.assert_array_equal(grid[3:5, 0:2], 0.0)  # Image 2.
  np.testing.assert_array_equal(grid[3:5, 3:5], 1.0)  # Blank cell.
  np.testing.assert_array_equal(grid[2, :], 1.0)  # Padding.


def test_tile_images_uses_only_first_rows_times_cols():
  images = np.stack([np.full((2, 2), -1.0), np.full((2, 2), 1.0)])
  grid = figures.tile_images(images, 1, 1)
  np.testing.assert_array_equal(grid, 0.0)


@pytest.mark.parametrize(
    "shape",
    [(5,), (2, 3), (2, 784), (2, 4, 4, 2), (1, 2, 3, 4, 1), (2, 0, 4)],
)
def test_tile_images_rejects_bad_shapes(shape):
  with pytest.raises(ValueError):
    figures.tile_images(np.zeros(shape), 1, 1)


@pytest.mark.parametrize("rows, cols, pad", [(0, 1, 1), (1, 0, 1), (1, 1, -1)])
def test_tile_images_rejects_bad_grid(rows, cols, pad):
  with pytest.raises(ValueError):
    figures.tile_images(np.zeros((1, 4, 4)), rows, cols, pad=pad)


# save_image_grid ------------------------------------------------------------


def test_save_image_grid_writes_png(tmp_path):
  path = tmp_path / "grid.png"
  images = np.random.default_rng(0).uniform(-1, 1, (20,) + _IMAGE)
  figures.save_image_grid(
      str(path), images, 2, _NUM_DIGITS, title="samples",
      row_labels=["a", "b"], col_labels=[str(d) for d in range(_NUM_DIGITS)],
      xlabel="style", ylabel="digit")
  _assert_png(path)
  assert path.stat().st_size > 0


def test_save_image_grid_rgb_without_labels(tmp_path):
  path = tmp_path / "rgb.png"
  figures.save_image_grid(path, np.zeros((4, 8, 8, 3)), 2, 2)
  _assert_png(path)


def test_save_image_grid_rejects_wrong_label_count(tmp_path):
  with pytest.raises(ValueError):
    figures.save_image_grid(tmp_path / "x.png", np.zeros((4, 4, 4)), 2, 2,
                            row_labels=["only one"])


# Cluster figures ------------------------------------------------------------


@pytest.mark.parametrize("count, rows, cols", [(1, 1, 1), (10, 1, 10),
                                               (16, 2, 10), (30, 3, 10)])
def test_cluster_heads_grid_has_one_tile_per_cluster(count, rows, cols):
  assert figures.row_layout(count, figures.CLUSTER_HEADS_PER_ROW) == (rows,
                                                                      cols)
  heads = np.full((count,) + _IMAGE, -1.0)  # Black tiles.
  grid = figures.cluster_heads_grid(heads)
  assert grid.shape == (rows * 29 - 1, cols * 29 - 1, 1)
  tiles = [grid[r * 29:r * 29 + _SIDE, c * 29:c * 29 + _SIDE]
           for r in range(rows) for c in range(cols)]
  assert sum(bool(np.all(t == 0.0)) for t in tiles) == count
  assert all(np.all(t == 1.0) for t in tiles[count:])  # Blank cells.


def test_save_cluster_heads_labels_rows_and_columns(tmp_path):
  path = tmp_path / "heads.png"
  _assert_rgb(figures.save_cluster_heads(path, np.zeros((16,) + _IMAGE),
                                         "heads"))
  _assert_png(path)


def test_ragged_rows_pad_short_rows_with_blank_cells():
  rows = [np.full((3, 2, 2, 1), -1.0), np.zeros((0, 2, 2, 1)),
          np.full((5, 2, 2, 1), 0.0)]
  batch = figures.ragged_rows(rows, 4, (2, 2, 1))
  assert batch.shape == (12, 2, 2, 1)
  np.testing.assert_array_equal(batch[:3], -1.0)
  np.testing.assert_array_equal(batch[8:], 0.0)  # At most 4 a row.
  np.testing.assert_array_equal(batch[3:8], 1.0)  # White in the grid.
  grid = figures.tile_images(batch, 3, 4, pad=0)
  np.testing.assert_array_equal(grid[2:4], 1.0)  # The empty row is blank.


def test_row_layout_rejects_empty_grids():
  with pytest.raises(ValueError):
    figures.row_layout(0, 10)


# latent_scatter -------------------------------------------------------------


def _scatter_inputs(count: int = 500):
  rng = np.random.default_rng(1)
  labels = rng.integers(0, _NUM_DIGITS, count)
  angles = 2 * math.pi * labels / _NUM_DIGITS
  codes = np.stack([np.cos(angles), np.sin(angles)], axis=1) * 3
  codes += rng.normal(0, 0.3, codes.shape)
  return codes, labels, rng.normal(0, 2, (count, 2))


def test_latent_scatter_returns_rgb_and_writes_png(tmp_path):
  codes, labels, prior = _scatter_inputs()
  path = tmp_path / "scatter.png"
  array = figures.latent_scatter(str(path), codes, labels, prior_samples=prior,
                                 title="codes", limits=5.0)
  _assert_rgb(array)
  _assert_png(path)


def test_latent_scatter_without_path_or_labels():
  codes, _, _ = _scatter_inputs()
  _assert_rgb(figures.latent_scatter(None, codes, None))


def test_latent_scatter_figure_legend_and_labels():
  codes, labels, prior = _scatter_inputs()
  fig = figures._latent_scatter_figure(codes, labels, prior_samples=prior,
                                       title="my title")
  ax = fig.axes[0]
  legend = ax.get_legend()
  texts = [t.get_text() for t in legend.get_texts()]
  assert texts == [str(d) for d in range(_NUM_DIGITS)] + ["prior"]
  assert legend.get_title().get_text() == "digit"
  assert ax.get_xlabel() == "z[0]"
  assert ax.get_ylabel() == "z[1]"
  assert ax.get_title() == "my title"
  assert ax.get_aspect() == 1.0
  # The prior is drawn first (below the codes) and covers every code.
  assert len(ax.collections) == 2
  assert len(ax.collections[0].get_offsets()) == len(prior)
  low_x, high_x = ax.get_xlim()
  assert low_x <= min(codes[:, 0].min(), prior[:, 0].min())
  assert high_x >= max(codes[:, 0].max(), prior[:, 0].max())


def test_latent_scatter_legend_lists_all_digits_even_if_absent():
  fig = figures._latent_scatter_figure(np.zeros((3, 2)), np.array([1, 1, 2]))
  texts = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
  assert texts == [str(d) for d in range(_NUM_DIGITS)]


def test_latent_scatter_accepts_one_hot_labels():
  codes, labels, _ = _scatter_inputs(50)
  one_hot = np.eye(_NUM_DIGITS)[labels]
  _assert_rgb(figures.latent_scatter(None, codes, one_hot))


@pytest.mark.parametrize(
    "codes, labels",
    [
        (np.zeros((4, 3)), np.zeros(4)),  # Not 2-D codes.
        (np.zeros((4, 2)), np.zeros(3)),  # Label count.
        (np.zeros((4, 2)), np.full(4, _NUM_DIGITS)),  # Label range.
        (np.zeros((4, 2)), np.full(4, 0.5)),  # Non-integer labels.
    ],
)
def test_latent_scatter_rejects_bad_inputs(codes, labels):
  with pytest.raises(ValueError):
    figures.latent_scatter(None, codes, labels)


# manifold_figure ------------------------------------------------------------


def _images_encoding_y(y_top_first: np.ndarray, cols: int) -> np.ndarray:
  """Row-major images whose pixel value is the row's y rescaled to [-1, 1]."""
  span = np.abs(y_top_first).max()
  values = np.repeat(y_top_first / span, cols)
  return np.broadcast_to(values[:, None, None], (len(values), 4, 4)).copy()


def _cell_means(fig, rows: int) -> np.ndarray:
  data = np.asarray(fig.axes[0].images[0].get_array())
  return np.array([r.mean() for r in np.array_split(data, rows, axis=0)])


@pytest.mark.parametrize("descending_values", [True, False])
def test_manifold_figure_puts_largest_y_on_top(descending_values):
  rows, cols = 5, 3
  y_top_first = np.linspace(2.0, -2.0, rows)  # Row 0 = largest y.
  images = _images_encoding_y(y_top_first, cols)
  # Coordinates may be passed in either order; images are never reordered.
  y_values = y_top_first if descending_values else y_top_first[::-1]
  x_values = np.linspace(-1.0, 1.0, cols)
  if descending_values:
    x_values = x_values[::-1]
  fig = figures._manifold_figure(images, rows, cols, x_values, y_values, "m")
  means = _cell_means(fig, rows)
  assert np.all(np.diff(means) < 0)  # Brightest (largest y) on top.
  ax = fig.axes[0]
  ticks = ax.get_yticks()
  labels = [t.get_text() for t in ax.get_yticklabels()]
  assert labels[int(np.argmin(ticks))] == "2.0"  # Top row.
  assert labels[int(np.argmax(ticks))] == "-2.0"  # Bottom row.
  x_labels = [t.get_text() for t in ax.get_xticklabels()]
  assert x_labels[int(np.argmin(ax.get_xticks()))] == "-1.0"  # Left column.
  assert ax.get_xlabel() == "z[0]" and ax.get_ylabel() == "z[1]"


def test_manifold_figure_columns_keep_image_order():
  rows, cols = 2, 4
  values = np.linspace(-1.0, 1.0, cols)
  images = np.broadcast_to(np.tile(values, rows)[:, None, None],
                           (rows * cols, 3, 3))
  fig = figures._manifold_figure(images, rows, cols, values[::-1], [1.0, 0.0],
                                 "m")
  data = np.asarray(fig.axes[0].images[0].get_array())
  column_means = [c.mean() for c in np.array_split(data, cols, axis=1)]
  assert np.all(np.diff(column_means) > 0)  # Smallest x on the left.


@pytest.mark.parametrize("extent", [1.234, 3.0, 2.0])
def test_manifold_figure_ticks_fall_on_round_values(extent):
  """Ticks sit at round coordinates (not at the odd values of cell centres
  such as -1.42 or -0.16), at the place those values have on the grid."""
  rows = cols = 20
  values = np.linspace(-extent, extent, rows)
  fig = figures._manifold_figure(np.zeros((rows * cols, 4, 4)), rows, cols,
                                 values, values[::-1], "m")
  ax = fig.axes[0]
  for ticks, decreasing in ((ax.get_xticks(), False),
                            (ax.get_yticks(), True)):
    labels = [t.get_text() for t in (ax.get_yticklabels() if decreasing
                                     else ax.get_xticklabels())]
    assert 3 <= len(labels) <= 5
    numbers = np.array([float(label) for label in labels])
    assert np.all(np.abs(numbers) <= extent + 1e-9)
    assert 0.0 in numbers
    for label in labels:
      assert 1 <= len(label.split(".")[1]) <= 2
    # Multiples of 0.5 or 0.25 for these extents.
    assert np.allclose(numbers * 4, np.round(numbers * 4))
    # Zero is in the middle of the grid, larger values further along.
    middle = ticks[list(numbers).index(0.0)]
    size = ax.images[0].get_array().shape[0]
    assert abs(middle - (size - 1) / 2) < size / 40
    order = np.argsort(ticks)
    assert np.all(np.diff(numbers[order]) < 0 if decreasing
                  else np.diff(numbers[order]) > 0)


def test_manifold_figure_returns_rgb_and_writes_png(tmp_path):
  path = tmp_path / "manifold.png"
  array = figures.manifold_figure(
      str(path), np.zeros((12,) + _IMAGE), 3, 4, np.linspace(0, 1, 4),
      np.linspace(1, 0, 3), "manifold")
  _assert_rgb(array)
  _assert_png(path)


@pytest.mark.parametrize(
    "count, x_values, y_values",
    [
        (5, np.arange(2.0), np.arange(3.0)),  # Wrong image count.
        (6, np.arange(3.0), np.arange(3.0)),  # Wrong x length.
        (6, np.array([0.0, 2.0, 1.0]), np.arange(2.0)),  # Not monotonic.
    ],
)
def test_manifold_figure_rejects_bad_inputs(count, x_values, y_values):
  with pytest.raises(ValueError):
    figures.manifold_figure(None, np.zeros((count, 4, 4)), 2, 3, x_values,
                            y_values, "m")


# grid_coordinates / component_grid -----------------------------------------


def test_grid_coordinates_is_linspace():
  np.testing.assert_allclose(figures.grid_coordinates(-2, 2, 5),
                             [-2, -1, 0, 1, 2])
  np.testing.assert_allclose(figures.grid_coordinates(1, 0, 3), [1, 0.5, 0])
  with pytest.raises(ValueError):
    figures.grid_coordinates(0, 1, 1)


def test_component_grid_rotated_45_degrees():
  n, extent = 5, 2.0
  mean = np.array([1.0, -2.0])
  axes = _rotation(_ANGLE)
  stds = np.array([2.0, 0.5])
  codes = figures.component_grid(mean, axes, stds, n, extent=extent)
  assert codes.shape == (n * n, 2)
  np.testing.assert_allclose(codes[(n // 2) * n + n // 2], mean, atol=1e-12)
  np.testing.assert_allclose(codes.mean(axis=0), mean, atol=1e-12)
  # Coordinates in standard deviations along the component's own axes.
  standard = ((codes - mean) @ axes / stds).reshape(n, n, 2)
  steps = np.linspace(-extent, extent, n)
  for i in range(n):
    np.testing.assert_allclose(standard[i, :, 0], steps, atol=1e-12)
    np.testing.assert_allclose(standard[i, :, 1], steps[::-1][i], atol=1e-12)
  # Row 0 has the largest value along the second axis; corners are at
  # +-extent * std along each rotated axis.
  np.testing.assert_allclose(
      codes[0], mean - extent * stds[0] * axes[:, 0]
      + extent * stds[1] * axes[:, 1], atol=1e-12)
  np.testing.assert_allclose(
      codes[-1], mean + extent * stds[0] * axes[:, 0]
      - extent * stds[1] * axes[:, 1], atol=1e-12)
  first_span = np.linalg.norm(codes[n - 1] - codes[0])
  second_span = np.linalg.norm(codes[(n - 1) * n] - codes[0])
  np.testing.assert_allclose(first_span, 2 * extent * stds[0])
  np.testing.assert_allclose(second_span, 2 * extent * stds[1])


def test_component_grid_pairs_with_manifold_figure():
  n = 4
  codes = figures.component_grid(np.zeros(2), np.eye(2), np.ones(2), n)
  steps = figures.grid_coordinates(-2.0, 2.0, n)
  images = np.broadcast_to(codes[:, 1, None, None] / 2, (n * n, 4, 4))
  fig = figures._manifold_figure(images, n, n, steps, steps, "m")
  assert np.all(np.diff(_cell_means(fig, n)) < 0)  # Largest y on top.
  labels = [t.get_text() for t in fig.axes[0].get_yticklabels()]
  assert labels[0] == "2.0"


@pytest.mark.parametrize(
    "mean, axes, stds, n, extent",
    [
        (np.zeros(3), np.eye(2), np.ones(2), 3, 2.0),
        (np.zeros(2), np.eye(3), np.ones(2), 3, 2.0),
        (np.zeros(2), 2 * np.eye(2), np.ones(2), 3, 2.0),
        (np.zeros(2), np.eye(2), np.array([1.0, 0.0]), 3, 2.0),
        (np.zeros(2), np.eye(2), np.ones(2), 1, 2.0),
        (np.zeros(2), np.eye(2), np.ones(2), 3, 0.0),
    ],
)
def test_component_grid_rejects_bad_inputs(mean, axes, stds, n, extent):
  with pytest.raises(ValueError):
    figures.component_grid(mean, axes, stds, n, extent=extent)


# loss_curves / figure_to_array ----------------------------------------------


def test_loss_curves_returns_rgb_and_writes_png(tmp_path):
  steps = np.arange(50)
  series = {
      "reconstruction": (steps, np.exp(-steps / 10.0)),
      "discriminator": (steps, np.full(50, 0.69)),
      "single": (np.array([3]), np.array([0.5])),
  }
  path = tmp_path / "loss.png"
  array = figures.loss_curves(str(path), series, "losses")
  _assert_rgb(array)
  _assert_png(path)
  fig = figures._loss_curves_figure(series, "losses")
  texts = [t.get_text() for t in fig.axes[0].get_legend().get_texts()]
  assert texts == list(series)
  assert fig.axes[0].get_xlabel() == "step"
  assert fig.axes[0].get_ylabel() == "loss"


def test_loss_curves_give_each_kind_of_loss_its_panel():
  """Adversarial losses (~1) do not share an axis with reconstruction (~80)."""
  from aae_tf import summaries  # pylint: disable=g-import-not-at-top
  steps = np.arange(10)
  series = {tag: (steps, np.full(10, value)) for tag, value in (
      ("train/reconstruction/loss", 80.0), ("validation/reconstruction_loss",
                                            82.0),
      ("train/z_discriminator/loss", 1.3), ("train/z_generator/loss", 0.7),
      ("train/classification/loss", 0.1))}
  fig = figures._loss_curves_figure(series, "losses",
                                    panel_of=summaries.loss_kind)
  assert len(fig.axes) == 3
  legends = [[t.get_text() for t in ax.get_legend().get_texts()]
             for ax in fig.axes]
  assert legends == [["train/reconstruction/loss",
                      "validation/reconstruction_loss"],
                     ["train/z_discriminator/loss", "train/z_generator/loss"],
                     ["train/classification/loss"]]
  adversarial = fig.axes[1]
  assert adversarial.get_ylim()[1] < 10  # Its own scale.


@pytest.mark.parametrize(
    "series",
    [{}, {"bad": (np.arange(3), np.arange(4))}],
)
def test_loss_curves_rejects_bad_series(series):
  with pytest.raises(ValueError):
    figures.loss_curves(None, series, "t")


def test_figure_to_array_size_matches_figure():
  # pylint: disable-next=g-import-not-at-top
  from matplotlib import figure as mpl_figure
  fig = mpl_figure.Figure(figsize=(2, 1), dpi=50)
  array = _figure_to_array(fig)
  _assert_rgb(array)
  assert array.shape == (50, 100, 3)
  np.testing.assert_array_equal(array, 255)  # Blank white figure.


# save_animation -------------------------------------------------------------


@pytest.mark.parametrize(
    "name, shape",
    [
        ("anim.gif", (6, 10, 12)),
        ("anim.gif", (6, 10, 12, 1)),
        ("anim.gif", (6, 10, 12, 3)),
        ("anim.png", (6, 10, 12)),
    ],
)
def test_save_animation_writes_all_frames(tmp_path, name, shape):
  frames = np.stack([np.full(shape[1:], t / (shape[0] - 1))
                     for t in range(shape[0])])
  path = tmp_path / name
  figures.save_animation(str(path), frames, duration_ms=50)
  with Image.open(path) as image:
    assert image.format == ("GIF" if name.endswith(".gif") else "PNG")
    assert image.n_frames == shape[0]
    assert image.size == (shape[2], shape[1])
    assert image.is_animated


def test_save_animation_of_tiled_grids(tmp_path):
  rng = np.random.default_rng(2)
  frames = np.stack([figures.tile_images(rng.uniform(-1, 1, (4,) + _IMAGE), 2, 2)
                     for _ in range(3)])
  path = tmp_path / "traversal.gif"
  figures.save_animation(path, frames)
  with Image.open(path) as image:
    assert image.n_frames == 3
    assert image.info.get("loop") == 0


@pytest.mark.parametrize(
    "name, shape, duration",
    [
        ("a.jpg", (2, 4, 4), 100),
        ("a.gif", (2, 4), 100),
        ("a.gif", (2, 4, 4, 2), 100),
        ("a.gif", (0, 4, 4), 100),
        ("a.gif", (2, 4, 4), 0),
    ],
)
def test_save_animation_rejects_bad_inputs(tmp_path, name, shape, duration):
  with pytest.raises(ValueError):
    figures.save_animation(tmp_path / name, np.zeros(shape),
                           duration_ms=duration)


def test_returned_array_matches_written_png(tmp_path):
  codes, labels, _ = _scatter_inputs(100)
  path = tmp_path / "same.png"
  array = figures.latent_scatter(path, codes, labels)
  with Image.open(path) as image:
    np.testing.assert_array_equal(np.asarray(image.convert("RGB")), array)


def test_side_by_side_places_panels_left_to_right(tmp_path):
  left = np.zeros((4, 3, 3), np.uint8)
  right = np.full((2, 5, 3), 7, np.uint8)
  path = tmp_path / "pair.png"
  canvas = save_side_by_side(path, [left, right], gap=2)
  assert canvas.shape == (4, 3 + 2 + 5, 3)
  assert (canvas[:, :3] == 0).all() and (canvas[:, 3:5] == 255).all()
  assert (canvas[:2, 5:] == 7).all() and (canvas[2:, 5:] == 255).all()
  with Image.open(path) as image:
    np.testing.assert_array_equal(np.asarray(image.convert("RGB")), canvas)


@pytest.mark.parametrize("panels", [[], [np.zeros((4, 4), np.uint8)],
                                    [np.zeros((4, 4, 3), np.float32)]])
def test_side_by_side_rejects_bad_panels(tmp_path, panels):
  with pytest.raises(ValueError):
    save_side_by_side(tmp_path / "x.png", panels)
