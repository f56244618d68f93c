"""Held-out metrics: reconstruction error, classification and clustering
error, the Parzen estimate."""

from __future__ import annotations

from typing import Dict, Optional

import numpy as np
from scipy import optimize

from aae_tf import data as data_lib
from aae_tf import losses

NUM_DIGITS = 10
PARZEN_CHUNK = 1000  # Points per block of the Parzen distance matrix.


def encode_split(model, split: data_lib.Split, batch_size: int,
                 limit: int | None = None) -> np.ndarray:
  """Posterior-mean codes of the first `limit` images of a split, [N, ncode]."""
  if limit is not None:
    split = data_lib.Split(split.images[:limit], split.labels[:limit])
  codes = [model.encode_fn(batch["image"]).numpy()
           for batch in data_lib.eval_dataset(split, batch_size)]
  return np.concatenate(codes, axis=0)


def reconstruction_error(model, split: data_lib.Split,
                         batch_size: int) -> float:
  """`losses.reconstruction_error` over a split (per-pixel MSE, [0, 1]
  scale), code = posterior mean (labels reach the decoder in the modes that
  read them)."""
  total, count = 0.0, 0
  for batch in data_lib.eval_dataset(split, batch_size):
    images = batch["image"]
    recon = model.reconstruct_fn(images, batch["label"])
    n = int(images.shape[0])
    total += float(losses.reconstruction_error(images, recon)) * n
    count += n
  return total / count


def predict_split(fn, split: data_lib.Split, batch_size: int) -> np.ndarray:
  """`fn(images)` over a split in order, concatenated (numpy)."""
  return np.concatenate([fn(batch["image"]).numpy() for batch in
                         data_lib.eval_dataset(split, batch_size)], axis=0)


def classification_error(probabilities: np.ndarray, labels: np.ndarray) -> float:
  """Share of examples whose most probable class is not the label."""
  return float(np.mean(np.argmax(probabilities, axis=1) != labels))


def cluster_labels(train_probabilities: np.ndarray,
                   train_labels: np.ndarray) -> np.ndarray:
  """The paper's cluster naming: cluster k takes the label of the training
  image with the highest probability for k. Returns [num_clusters]."""
  return np.asarray(train_labels)[np.argmax(train_probabilities, axis=0)]


def majority_cluster_labels(train_probabilities: np.ndarray,
                            train_labels: np.ndarray,
                            num_classes: int = 10) -> np.ndarray:
  """A diagnostic naming beside the paper's: cluster k takes the most common
  label of the training images assigned to it (an empty cluster keeps the
  paper's name). Returns [num_clusters]."""
  assigned = np.argmax(train_probabilities, axis=1)
  names = cluster_labels(train_probabilities, train_labels)
  labels = np.asarray(train_labels)
  for k in range(train_probabilities.shape[1]):
    members = labels[assigned == k]
    if len(members):
      names[k] = np.bincount(members, minlength=num_classes).argmax()
  return names


def clustering_error(probabilities: np.ndarray, labels: np.ndarray,
                     names: np.ndarray) -> float:
  """Share of examples whose cluster's name is not their label."""
  return float(np.mean(names[np.argmax(probabilities, axis=1)] != labels))


def cluster_confusion(probabilities: np.ndarray, labels: np.ndarray,
                      num_classes: int = NUM_DIGITS) -> np.ndarray:
  """counts[k, d]: examples whose most probable cluster is k and whose label
  is d. Returns [num_clusters, num_classes] integers."""
  counts = np.zeros((probabilities.shape[1], num_classes), np.int64)
  np.add.at(counts, (np.argmax(probabilities, axis=1), np.asarray(labels)), 1)
  return counts


def _is_mixed(digits: np.ndarray, mixed_below: float) -> bool:
  """Whether a cluster's images by digit are mixed: no digit holds a
  `mixed_below` share of them (an empty cluster is not)."""
  return bool(digits.sum()) and digits.max() < mixed_below * digits.sum()


def describe_clusters(counts: np.ndarray, mixed_below: float) -> list:
  """One line per cluster of `counts` (`cluster_confusion`: images by
  digit): its images and its commonest digits, marked "(mixed)" where no
  digit holds a `mixed_below` share of it."""
  lines = []
  for k, row in enumerate(np.asarray(counts)):
    total = int(row.sum())
    top = [d for d in np.argsort(-row, kind="stable")[:3] if row[d]]
    mixed = _is_mixed(row, mixed_below)
    lines.append(f"cluster {k}: {total} images; " +
                 ", ".join(f"{d}: {row[d]}" for d in top) +
                 (" (mixed)" if mixed else ""))
  return lines


def separability(features: np.ndarray, second: np.ndarray,
                 ridge: float = 1e-6) -> float:
  """How well a line separates two groups of `features` [N, D]: Fisher's
  discriminant (class means and pooled covariance, `ridge` added to its
  diagonal, threshold midway between the projected means) fitted on the
  even-numbered examples and scored on the odd-numbered ones. Returns the
  held-out accuracy (0.5: no better than chance on balanced groups).

  Args:
    features: The examples' features.
    second: Bool [N], which examples are of the second group.
    ridge: Added to the covariance's diagonal, so that a feature constant
      within both groups leaves it invertible.
  """
  features = np.asarray(features, np.float64)
  second = np.asarray(second, bool)
  fit, score = slice(0, None, 2), slice(1, None, 2)
  x, y = features[fit], second[fit]
  if y.all() or not y.any():
    raise ValueError("separability needs both groups among the even-numbered "
                     "examples.")
  means = [x[~y].mean(axis=0), x[y].mean(axis=0)]
  centred = np.concatenate([x[~y] - means[0], x[y] - means[1]])
  covariance = centred.T @ centred / len(centred) + ridge * np.eye(
      features.shape[1])
  direction = np.linalg.solve(covariance, means[1] - means[0])
  threshold = direction @ (means[0] + means[1]) / 2
  predicted = features[score] @ direction > threshold
  return float(np.mean(predicted == second[score]))


def mixed_cluster_separability(codes: np.ndarray, probabilities: np.ndarray,
                               labels: np.ndarray, mixed_below: float,
                               min_images: int = 20) -> list:
  """Whether the codes tell apart what a mixed cluster mixes: for each
  mixed cluster (as `describe_clusters` marks them), its two commonest
  digits and the `separability` of its images of those two by their codes.

  Args:
    codes: The images' codes [N, D] (in clustering, the style code).
    probabilities: The images' cluster probabilities [N, K].
    labels: The images' digits [N].
    mixed_below: A cluster is mixed where its commonest digit holds less
      than this share of its images.
    min_images: Clusters with fewer images of either digit are left out.

  Returns:
    [(cluster, digit, other digit, held-out accuracy)].
  """
  assigned = np.argmax(probabilities, axis=1)
  counts = cluster_confusion(probabilities, labels)
  out = []
  for k, row in enumerate(counts):
    first, second = np.argsort(-row, kind="stable")[:2]
    if not _is_mixed(row, mixed_below) or row[second] < min_images:
      continue
    chosen = (assigned == k) & np.isin(labels, (first, second))
    out.append((k, int(first), int(second), separability(
        codes[chosen], labels[chosen] == second)))
  return out


def matched_cluster_error(probabilities: np.ndarray, labels: np.ndarray,
                          num_classes: int = NUM_DIGITS) -> float:
  """IMSAT's clustering error: share of examples whose cluster is not
  their label under the one-to-one assignment of clusters to labels that
  is best on these very examples (Hungarian algorithm on
  `cluster_confusion`); clusters left without a label count as errors."""
  counts = cluster_confusion(probabilities, labels, num_classes)
  rows, cols = optimize.linear_sum_assignment(counts, maximize=True)
  return float(1.0 - counts[rows, cols].sum() / len(labels))


def cluster_names(classify_fn, naming: data_lib.Split, batch_size: int,
                  probabilities: Optional[np.ndarray] = None
                  ) -> Dict[str, np.ndarray]:
  """The digit of each cluster under the two namings, from the images of
  `naming`: "paper" (`cluster_labels`) and "majority"
  (`majority_cluster_labels`), each [num_clusters]; "assigned", the most
  probable cluster of each naming image, [N]. `probabilities`: the naming
  images' predictions, if the caller has them."""
  if probabilities is None:
    probabilities = predict_split(classify_fn, naming, batch_size)
  return {"paper": cluster_labels(probabilities, naming.labels),
          "majority": majority_cluster_labels(probabilities, naming.labels),
          "assigned": np.argmax(probabilities, axis=1)}


def clustering_metrics(classify_fn, splits: data_lib.MnistSplits,
                       naming_split: str, batch_size: int,
                       names: Optional[Dict[str, np.ndarray]] = None,
                       probabilities: Optional[Dict[str, np.ndarray]] = None
                       ) -> Dict[str, float]:
  """A clustering's per-epoch metrics on validation and test.

  `cluster_error`: clusters named after the image of `naming_split` most
  sure of each (the paper's); `majority_cluster_error`: a diagnostic naming
  each after the majority digit of the naming images it holds; with one
  cluster per digit, `matched_cluster_error` (the best one-to-one matching
  on the split's own labels, IMSAT's). `clusters_used`: clusters some
  naming image is assigned to.

  Args:
    classify_fn: Images -> cluster probabilities [N, K].
    splits: The data.
    naming_split: The split whose labels name the clusters ("train" or
      "validation").
    batch_size: Images per prediction batch.
    names: `cluster_names` of the naming split, if the caller has them.
    probabilities: Predictions by split name ("train", "validation",
      "test"), if the caller has them; each split missing is predicted here.
  """
  probabilities = probabilities or {}
  if names is None:
    names = cluster_names(classify_fn, getattr(splits, naming_split),
                          batch_size, probabilities.get(naming_split))
  out = {}
  for name, split in (("validation", splits.validation),
                      ("test", splits.test)):
    probs = probabilities.get(name)
    if probs is None:
      probs = predict_split(classify_fn, split, batch_size)
    out[f"{name}/cluster_error"] = clustering_error(probs, split.labels,
                                                    names["paper"])
    out[f"{name}/majority_cluster_error"] = clustering_error(
        probs, split.labels, names["majority"])
    if probs.shape[1] == NUM_DIGITS:
      out[f"{name}/matched_cluster_error"] = matched_cluster_error(
          probs, split.labels)
  out["clusters_used"] = float(len(np.unique(names["assigned"])))
  return out


def most_sure_examples(probabilities: np.ndarray, count: int) -> list:
  """Per cluster k, the indices of at most `count` examples whose most
  probable cluster is k, by decreasing probability of k (fewer when the
  cluster has fewer). Returns num_clusters integer arrays."""
  assigned = np.argmax(probabilities, axis=1)
  out = []
  for k in range(probabilities.shape[1]):
    members = np.flatnonzero(assigned == k)
    order = np.argsort(-probabilities[members, k], kind="stable")
    out.append(members[order[:count]])
  return out


def _squared_distances(samples: np.ndarray, points: np.ndarray,
                       chunk: int) -> list:
  """|x - s|^2 for every point and sample, as [chunk, n] float64 blocks."""
  samples = np.asarray(samples, np.float64)
  points = np.asarray(points, np.float64)
  sample_sq = np.sum(samples**2, axis=1)
  blocks = []
  for start in range(0, len(points), chunk):
    x = points[start:start + chunk]
    sq = np.sum(x**2, axis=1)[:, None] + sample_sq[None] - 2 * x @ samples.T
    blocks.append(np.maximum(sq, 0.0))
  return blocks


def _window_log_density(blocks: list, sigma: float, d: int) -> np.ndarray:
  """The Parzen log-density of each point from its squared distances."""
  out = []
  for sq in blocks:
    a = -sq / (2 * sigma**2)
    top = a.max(axis=1, keepdims=True)
    out.append(top[:, 0] + np.log(np.sum(np.exp(a - top), axis=1)))
  n = blocks[0].shape[1]
  return (np.concatenate(out) - np.log(n)
          - 0.5 * d * np.log(2 * np.pi * sigma**2))


def parzen_log_likelihood(samples: np.ndarray, points: np.ndarray,
                          sigma: float,
                          chunk: int = PARZEN_CHUNK) -> np.ndarray:
  """Log-density of each point under a Gaussian Parzen window on `samples`.

  log p(x) = logsumexp_i(-|x - s_i|^2 / (2 sigma^2)) - log n
             - d/2 log(2 pi sigma^2).
  Arrays are [n, d] and [m, d] (float); returns [m].
  """
  return _window_log_density(_squared_distances(samples, points, chunk),
                             sigma, np.shape(samples)[1])


GOLDEN = (np.sqrt(5.0) - 1) / 2  # Golden-section search step.


def parzen_select_sigma(samples: np.ndarray, validation: np.ndarray,
                        sigmas: np.ndarray,
                        refine_steps: int = 0) -> tuple[float, float]:
  """The window width with the highest mean validation log-likelihood.

  Args:
    samples: Model samples, [n, d].
    validation: Validation points, [m, d].
    sigmas: Increasing widths to try.
    refine_steps: Golden-section steps (in log width) between the grid
      neighbours of the best grid width; 0 keeps the grid's best.

  Returns:
    The chosen width and its mean validation log-likelihood.
  """
  # The distances do not depend on the width: computed once, kept in memory
  # (8 * len(validation) * len(samples) bytes).
  blocks = _squared_distances(samples, validation, PARZEN_CHUNK)
  d = np.shape(samples)[1]
  tried = []  # (mean validation log-likelihood, width) of every width.

  def score(sigma):
    value = float(np.mean(_window_log_density(blocks, sigma, d)))
    tried.append((value, float(sigma)))
    return value

  scores = [score(s) for s in sigmas]
  best = int(np.argmax(scores))
  if refine_steps > 0 and 0 < best < len(sigmas) - 1:
    lo, hi = np.log(sigmas[best - 1]), np.log(sigmas[best + 1])
    a, b = hi - GOLDEN * (hi - lo), lo + GOLDEN * (hi - lo)
    fa, fb = score(np.exp(a)), score(np.exp(b))
    for _ in range(refine_steps):
      if fa >= fb:  # The maximum lies in [lo, b].
        hi, b, fb = b, a, fa
        a = hi - GOLDEN * (hi - lo)
        fa = score(np.exp(a))
      else:  # The maximum lies in [a, hi].
        lo, a, fa = a, b, fb
        b = lo + GOLDEN * (hi - lo)
        fb = score(np.exp(b))
  value, sigma = max(tried)
  return sigma, value


def parzen_evaluation(samples: np.ndarray, validation: np.ndarray,
                      test: np.ndarray, sigmas: np.ndarray,
                      refine_steps: int = 0) -> Dict[str, float]:
  """The paper's protocol: sigma chosen on validation (see
  `parzen_select_sigma`), mean and standard error of the test
  log-likelihood."""
  sigma, validation_ll = parzen_select_sigma(samples, validation, sigmas,
                                             refine_steps)
  ll = parzen_log_likelihood(samples, test, sigma)
  return {"sigma": sigma, "validation_log_likelihood": validation_ll,
          "test_log_likelihood": float(np.mean(ll)),
          "test_standard_error": float(np.std(ll) / np.sqrt(len(ll)))}
