"""Evaluation metrics on cases with known answers."""

import numpy as np
import pytest
import tensorflow as tf

from aae_tf import data as data_lib
from aae_tf import evaluation
from aae_tf.errors import DataError
from aae_tf.priors import GaussianMixturePrior
import code_stats


def test_parzen_single_sample_is_a_gaussian_density():
  s = np.array([[0.0, 1.0, 2.0]])
  x = np.array([[1.0, 1.0, 0.0], [0.0, 1.0, 2.0]])
  sigma = 0.5
  expected = (-np.sum((x - s)**2, axis=1) / (2 * sigma**2)
              - 1.5 * np.log(2 * np.pi * sigma**2))
  np.testing.assert_allclose(
      evaluation.parzen_log_likelihood(s, x, sigma), expected, rtol=1e-10)


def test_parzen_mixture_of_two_samples():
  s = np.array([[0.0], [2.0]])
  x = np.array([[1.0]])
  sigma = 1.0
  # Both kernels give exp(-1/2) / sqrt(2 pi): mean of two equal terms.
  expected = -0.5 - 0.5 * np.log(2 * np.pi)
  assert evaluation.parzen_log_likelihood(s, x, sigma)[0] == pytest.approx(
      expected)


def test_parzen_far_points_do_not_underflow():
  s = np.zeros([3, 784])
  x = np.full([2, 784], 50.0)
  ll = evaluation.parzen_log_likelihood(s, x, 0.1)
  assert np.all(np.isfinite(ll))


def test_parzen_sigma_selection_and_protocol():
  rng = np.random.default_rng(0)
  true_sigma = 0.3
  samples = rng.normal(0, 1, [2000, 1])
  # Data spread 1: the best window is neither tiny nor huge.
  validation = rng.normal(0, 1, [500, 1])
  test = rng.normal(0, 1, [500, 1])
  sigmas = np.array([0.01, true_sigma, 10.0])
  sigma, _ = evaluation.parzen_select_sigma(samples, validation, sigmas)
  assert sigma == true_sigma
  result = evaluation.parzen_evaluation(samples, validation, test, sigmas)
  # Close to the true N(0, 1) log-likelihood of about -1.42.
  assert result["test_log_likelihood"] == pytest.approx(-1.42, abs=0.1)
  assert 0 < result["test_standard_error"] < 0.1


def test_cluster_naming_and_error():
  # 3 clusters; cluster 2 is most sure of a training "7".
  train_probs = np.array([[0.9, 0.1, 0.0], [0.2, 0.7, 0.1], [0.1, 0.1, 0.8],
                          [0.5, 0.5, 0.0]])
  train_labels = np.array([4, 1, 7, 1])
  names = evaluation.cluster_labels(train_probs, train_labels)
  np.testing.assert_array_equal(names, [4, 1, 7])
  test_probs = np.array([[1, 0, 0], [0, 1, 0], [0, 0, 1], [0, 0, 1]])
  assert evaluation.clustering_error(test_probs, np.array([4, 1, 7, 3]),
                                     names) == pytest.approx(0.25)


def test_classification_error():
  probs = np.array([[0.9, 0.1], [0.4, 0.6], [0.2, 0.8]])
  assert evaluation.classification_error(probs, np.array([0, 0, 1])) == \
      pytest.approx(1 / 3)


def test_balanced_label_split():
  labels = np.repeat(np.arange(10), 50)
  idx = data_lib.balanced_indices(labels, 100, seed=3)
  assert len(idx) == 100 and len(np.unique(idx)) == 100
  np.testing.assert_array_equal(np.bincount(labels[idx]), np.full(10, 10))
  np.testing.assert_array_equal(idx, data_lib.balanced_indices(labels, 100, 3))
  assert not np.array_equal(idx, data_lib.balanced_indices(labels, 100, 4))
  assert len(data_lib.balanced_indices(labels, None, 3)) == 500
  with pytest.raises(DataError, match="multiple of 10"):
    data_lib.balanced_indices(labels, 15, 3)
  scarce = np.concatenate([labels[labels > 0], np.zeros(5, int)])
  with pytest.raises(DataError, match="digit 0"):
    data_lib.balanced_indices(scarce, 100, 3)


def test_mask_labels():
  split = data_lib.Split(np.zeros([4, 28, 28], np.uint8),
                         np.array([3, 1, 4, 1]))
  masked = data_lib.mask_labels(split, np.array([1, 2]))
  np.testing.assert_array_equal(masked.labels, [-1, 1, 4, -1])


def test_digit_component_share():
  prior = GaussianMixturePrior(2)
  labels = np.repeat(np.arange(10), 20)
  codes = prior.means()[labels]  # Every digit exactly at its own component.
  share = code_stats.digit_component_share(prior, codes, labels)
  assert share["mean"] == 1.0 and share["distinct_components"] == 10


@pytest.mark.parametrize("mode", ["unsupervised", "supervised"])
def test_reconstruction_error_decodes_with_the_labels(tmp_path, mode):
  import dataclasses  # pylint: disable=g-import-not-at-top
  from aae_tf.modes import build_model  # pylint: disable=g-import-not-at-top
  from conftest import make_tiny_splits, small_config  # pylint: disable=g-import-not-at-top
  model = build_model(dataclasses.replace(small_config(tmp_path), mode=mode))
  test = make_tiny_splits().test
  images = data_lib.to_model_images(test.images)
  recon = model.reconstruct_fn(images, test.labels).numpy()
  # Per-pixel squared error on the [0, 1] scale: (recon - images) / 2.
  assert evaluation.reconstruction_error(model, test, 7) == pytest.approx(
      float(np.mean(((recon - images) / 2)**2)), rel=1e-5)


def test_parzen_refined_width_finds_the_known_optimum():
  # One sample at the origin: the mean validation log-likelihood
  # -|x|^2 / (2 s^2) - d/2 log(2 pi s^2) peaks at s^2 = mean |x|^2 / d.
  rng = np.random.default_rng(1)
  validation = rng.normal(0, 0.7, [400, 3])
  optimum = np.sqrt(np.mean(np.sum(validation**2, axis=1)) / 3)
  samples = np.zeros([1, 3])
  grid = np.array([0.1, 0.5, 2.0, 8.0])
  coarse, coarse_ll = evaluation.parzen_select_sigma(samples, validation, grid)
  assert coarse == 0.5
  sigma, ll = evaluation.parzen_select_sigma(samples, validation, grid,
                                             refine_steps=20)
  assert sigma == pytest.approx(optimum, rel=1e-3)
  assert ll > coarse_ll
  # A best width at the end of the grid is not refined (no bracket).
  edge, _ = evaluation.parzen_select_sigma(samples, validation,
                                           np.array([2.0, 8.0]), 20)
  assert edge == 2.0


def test_majority_naming_beside_the_papers():
  """Cluster 0 holds three 7s and one 1 whose probability for it is the
  highest: the paper names it 1, majority naming 7. An empty cluster keeps
  the paper's name."""
  probs = np.array([[0.6, 0.3, 0.1], [0.7, 0.2, 0.1], [0.8, 0.1, 0.1],
                    [0.9, 0.05, 0.05], [0.1, 0.8, 0.1], [0.2, 0.7, 0.1]])
  labels = np.array([7, 7, 7, 1, 3, 3])
  assert list(evaluation.cluster_labels(probs, labels)) == [1, 3, 7]
  assert list(evaluation.majority_cluster_labels(probs, labels)) == [7, 3, 7]


def test_describe_clusters_marks_the_mixed_ones():
  """Cluster 0 holds 4s and 9s half and half (mixed below 0.9), cluster 1
  nine 1s and one 7 (0.9: not mixed), cluster 2 nothing."""
  counts = np.zeros((3, 10), np.int64)
  counts[0, [4, 9]] = 5
  counts[1, [1, 7]] = [9, 1]
  assert evaluation.describe_clusters(counts, 0.9) == [
      "cluster 0: 10 images; 4: 5, 9: 5 (mixed)",
      "cluster 1: 10 images; 1: 9, 7: 1",
      "cluster 2: 0 images; "]


def test_separability_is_held_out_accuracy_of_a_line():
  """Fitted on the even-numbered examples: means 0.1 and 0.9, so the line
  is at 0.5; of the odd-numbered ones only 0.52 (first group) is on the
  wrong side. Groups whose fitted means agree give no direction: every
  held-out example is called the first group, right on half."""
  features = np.array([[0.0], [0.4], [1.0], [0.6], [0.2], [0.52], [0.8],
                       [0.55]])
  second = np.array([False, False, True, True, False, False, True, True])
  assert evaluation.separability(features, second) == 0.75
  same = np.array([[0.0], [0.3], [1.0], [0.7], [1.0], [0.2], [0.0], [0.9]])
  halves = np.array([False, False, True, True, False, True, True, False])
  assert evaluation.separability(same, halves) == 0.5
  with pytest.raises(ValueError, match="both groups"):
    evaluation.separability(features, np.zeros(8, bool))


def test_mixed_cluster_separability_probes_the_two_commonest_digits():
  """Cluster 0 holds forty 4s and forty 9s told apart by the code's second
  feature, and one 7; cluster 1 two hundred 1s and twenty 7s (1s are over
  0.9 of it: not mixed): one line, cluster 0's 4 against 9, separated on
  every held-out image."""
  rng = np.random.default_rng(0)
  labels = np.array([4] * 40 + [9] * 40 + [7] + [1] * 200 + [7] * 20)
  assigned = np.array([0] * 81 + [1] * 220)
  codes = rng.normal(size=(len(labels), 3))
  codes[:, 1] += np.where(labels == 9, 10.0, 0.0)
  probs = np.eye(2)[assigned]
  assert evaluation.mixed_cluster_separability(codes, probs, labels,
                                               0.9) == [(0, 4, 9, 1.0)]
  assert evaluation.mixed_cluster_separability(
      codes, probs, labels, 0.9, min_images=41) == []
  # Mixed below 0.95, cluster 1 (1s a 0.91 share) is probed too.
  assert [line[:3] for line in evaluation.mixed_cluster_separability(
      codes, probs, labels, 0.95)] == [(0, 4, 9), (1, 1, 7)]


def test_clustering_metrics_use_the_predictions_they_are_given(tiny_splits):
  """A clustering that puts each tiny digit in its own cluster (its square's
  place, read off the images) has no error; given predictions of the
  validation and test splits are used in place of the classifier's (all in
  one cluster: every image but the 0s is an error)."""
  def classify_fn(images):
    rows = tf.reduce_mean(tf.cast(images, tf.float32)[..., 0], axis=2)
    middle = (tf.reduce_max(rows, 1, True) + tf.reduce_min(rows, 1, True)) / 2
    top = tf.argmax(tf.cast(rows > middle, tf.int32), axis=1)  # 2 + 2 label
    return tf.one_hot((top - 2) // 2, 10)

  metrics = evaluation.clustering_metrics(classify_fn, tiny_splits,
                                          "validation", 10)
  assert metrics["test/cluster_error"] == 0.0
  lumped = {name: np.eye(10)[np.zeros(len(getattr(tiny_splits, name).labels),
                                      int)]
            for name in ("validation", "test")}
  given = evaluation.clustering_metrics(classify_fn, tiny_splits,
                                        "validation", 10,
                                        probabilities=lumped)
  assert given["test/cluster_error"] == 0.9
  assert given["validation/cluster_error"] == 0.9


def test_matched_cluster_error_takes_the_best_one_to_one_assignment():
  """Clusters 0 and 1 both hold mostly 1s. Majority naming calls both 1
  (one error in eight); one-to-one, cluster 1 must take another digit: 0
  (its one 0 right) beats 2 (none), so two errors in eight."""
  assigned = np.array([0, 0, 0, 1, 1, 1, 2, 2])
  labels = np.array([1, 1, 1, 1, 1, 0, 2, 2])
  probs = np.eye(3)[assigned]
  np.testing.assert_array_equal(
      evaluation.cluster_confusion(probs, labels, num_classes=3),
      [[0, 3, 0], [1, 2, 0], [0, 0, 2]])
  assert evaluation.clustering_error(
      probs, labels, evaluation.majority_cluster_labels(
          probs, labels, num_classes=3)) == pytest.approx(1 / 8)
  assert evaluation.matched_cluster_error(
      probs, labels, num_classes=3) == pytest.approx(2 / 8)
  # A perfect clustering under relabelled clusters has no error; with more
  # clusters than labels the unmatched cluster's examples are errors.
  assert evaluation.matched_cluster_error(
      np.eye(3)[[2, 2, 0, 1]], np.array([0, 0, 1, 2]), 3) == 0.0
  assert evaluation.matched_cluster_error(
      np.eye(4)[[2, 2, 0, 1, 3]], np.array([0, 0, 1, 2, 2]), 3) == \
      pytest.approx(1 / 5)


def test_most_sure_examples_per_cluster():
  probs = np.array([[0.6, 0.4, 0.0], [0.9, 0.1, 0.0], [0.2, 0.8, 0.0],
                    [0.7, 0.3, 0.0], [0.45, 0.55, 0.0]])
  rows = evaluation.most_sure_examples(probs, 2)
  assert [list(r) for r in rows] == [[1, 3], [2, 4], []]
