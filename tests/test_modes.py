"""Each mode: its phase list, the variables each phase trains, its inputs."""

import dataclasses
import os

import keras
import numpy as np
import pytest
import tensorflow as tf

from aae_tf import evaluation, export, figures, modes, recipes
from aae_tf import trainer as trainer_lib
from aae_tf.errors import ConfigError
from aae_tf.modes import build_model, one_hot_with_unlabeled
from aae_tf.phases import run_phases
from conftest import fit_tiny, make_tiny_splits, small_config

MODE_PHASES = {
    "unsupervised": {"reconstruction": {"encoder", "decoder"},
                     "discriminator": {"discriminator"},
                     "generator": {"encoder"}},
    "label": {"reconstruction": {"encoder", "decoder"},
              "discriminator": {"discriminator"},
              "generator": {"encoder"}},
    "supervised": {"reconstruction": {"encoder", "decoder"},
                   "discriminator": {"discriminator"},
                   "generator": {"encoder"}},
    "semisupervised": {"reconstruction": {"encoder", "decoder"},
                       "z_discriminator": {"discriminator"},
                       "z_generator": {"encoder"},
                       "y_discriminator": {"y_discriminator"},
                       "y_generator": {"encoder"},
                       "classification": {"encoder"}},
    "clustering": {"reconstruction": {"encoder", "decoder"},
                   "z_discriminator": {"discriminator"},
                   "z_generator": {"encoder"},
                   "y_discriminator": {"y_discriminator"},
                   "y_generator": {"encoder"}},
    "dimreduction": {"reconstruction": {"encoder", "decoder", "cluster_heads"},
                     "z_discriminator": {"discriminator"},
                     "z_generator": {"encoder"},
                     "y_discriminator": {"y_discriminator"},
                     "y_generator": {"encoder"},
                     "cluster_heads": {"cluster_heads"}},
}


def _config(tmp_path, mode, **model):
  config = small_config(tmp_path)
  prior = config.prior
  if mode == "label":
    prior = dataclasses.replace(prior, dist_type="gmm")
  return dataclasses.replace(
      config, mode=mode, prior=prior,
      model=dataclasses.replace(config.model, **model),
      train=dataclasses.replace(config.train, labeled_batch_size=4)).validate()


def _batch(model):
  batch = {"image": tf.random.uniform([10, 28, 28, 1], -1, 1),
           "label": tf.constant([0, 1, 2, 3, 4, 5, 6, -1, -1, 9])}
  batch["labeled_image"] = batch["image"][:4]
  batch["labeled_label"] = tf.constant([0, 1, 2, 3])
  return batch


def _changed(model, fn):
  before = {n: [v.numpy().copy() for v in net.trainable_variables]
            for n, net in model.networks.items()}
  fn()
  return {n for n, net in model.networks.items()
          if any(not np.array_equal(a, v.numpy())
                 for a, v in zip(before[n], net.trainable_variables))}


@pytest.mark.parametrize("mode", list(MODE_PHASES))
def test_each_phase_trains_exactly_its_networks(tmp_path, mode):
  config = _config(tmp_path, mode)
  model = build_model(config)
  trainer = trainer_lib.Trainer(model, config, steps_per_epoch=5)
  assert [p.name for p in trainer.phases] == list(MODE_PHASES[mode])
  batch = _batch(model)
  for phase in trainer.phases:
    changed = _changed(model, lambda phase=phase: run_phases([phase], batch))
    assert changed == MODE_PHASES[mode][phase.name], phase.name


@pytest.mark.parametrize("mode,num_labeled,groups", [
    ("unsupervised", None, ()),
    ("supervised", None, ()),
    ("semisupervised", 100, ("label_adversary", "classification",
                             "unlabeled")),
    ("clustering", None, ("label_adversary", "unlabeled")),
    ("dimreduction", None, ("label_adversary", "unlabeled",
                            "cluster_heads")),
    ("dimreduction", 100, ("label_adversary", "classification", "unlabeled",
                           "cluster_heads")),
])
def test_phase_groups_follow_the_configuration(tmp_path, mode, num_labeled,
                                               groups):
  config = recipes.make_config(mode, str(tmp_path), num_labeled=num_labeled)
  assert modes.phase_groups(config) == ("reconstruction",
                                        "code_adversary") + groups
  assert config.classifies == ("classification" in groups)
  assert config.learns_clusters == (
      "label_adversary" in groups and "classification" not in groups)


@pytest.mark.parametrize("mode,functions", [
    ("unsupervised", ["decode", "encode", "sample"]),
    ("supervised", ["decode", "encode", "sample"]),
    ("clustering", ["classify", "decode", "encode", "sample"]),
    ("dimreduction", ["classify", "decode", "encode", "represent",
                      "sample"]),
])
def test_export_signatures_follow_the_mode(tmp_path, mode, functions):
  listed = export.export_functions(build_model(_config(tmp_path, mode)))
  assert sorted(listed) == functions
  decode_inputs = [spec.name for spec in listed["decode"][1]]
  assert decode_inputs == {"supervised": ["codes", "labels"],
                           "unsupervised": ["codes"]}.get(mode,
                                                          ["codes", "y"])


def test_label_mode_discriminator_sees_eleven_classes(tmp_path):
  model = build_model(_config(tmp_path, "label"))
  inputs = model.critic_inputs(tf.zeros([3, 2]), tf.constant([4, -1, 9]))
  assert inputs.shape == (3, 2 + 11)
  np.testing.assert_array_equal(np.argmax(inputs[:, 2:], axis=1), [4, 10, 9])
  # Labeled images get samples of their digit's component.
  samples = model.prior_for(2000, tf.fill([2000], 3)).numpy()
  np.testing.assert_allclose(samples.mean(0), model.prior.means()[3],
                             atol=0.05)


def test_one_hot_with_unlabeled():
  np.testing.assert_array_equal(
      one_hot_with_unlabeled(tf.constant([0, -1]), 2).numpy(),
      [[1, 0, 0], [0, 0, 1]])


def test_label_mode_masks_all_but_num_labeled(tmp_path):
  config = _config(tmp_path, "label")
  config.train.num_labeled = 20
  model = build_model(config)
  labels = model.train_split(make_tiny_splits().train).labels
  assert np.sum(labels >= 0) == 20 and np.sum(labels < 0) == 30
  assert np.all(np.bincount(labels[labels >= 0]) == 2)


def test_labeled_seed_alone_picks_the_labeled_images(tmp_path):
  def labeled(seed, labeled_seed=None):
    config = _config(tmp_path, "label")
    config.train.num_labeled = 20
    config.train.seed, config.train.labeled_seed = seed, labeled_seed
    labels = build_model(config).train_split(make_tiny_splits().train).labels
    return np.flatnonzero(labels >= 0)

  np.testing.assert_array_equal(labeled(0, 5), labeled(7, 5))
  np.testing.assert_array_equal(labeled(0, 5), labeled(5))
  assert not np.array_equal(labeled(0, 5), labeled(0))


def test_supervised_decoder_reads_code_and_label(tmp_path):
  model = build_model(_config(tmp_path, "supervised"))
  assert model.decoder.hidden[0].kernel.shape == (2 + 10, 32)
  codes = tf.zeros([2, 2])
  a = model.decode(codes, tf.constant([1, 1])).numpy()
  b = model.decode(codes, tf.constant([1, 7])).numpy()
  np.testing.assert_array_equal(a[0], b[0])
  assert not np.allclose(a[1], b[1])


def test_semisupervised_batches_carry_a_labeled_minibatch(tmp_path):
  config = _config(tmp_path, "semisupervised")
  config.train.num_labeled = 20
  model = build_model(config)
  batch = next(iter(model.train_dataset(make_tiny_splits().train, seed=0)))
  assert batch["image"].shape == (10, 28, 28, 1)
  assert batch["labeled_image"].shape == (4, 28, 28, 1)
  assert set(batch) == {"image", "label", "labeled_image", "labeled_label"}


def test_clustering_has_no_labels_and_ncluster_outputs(tmp_path):
  model = build_model(_config(tmp_path, "clustering", num_classes=16))
  probs = model.classify(tf.zeros([3, 28, 28, 1])).numpy()
  assert probs.shape == (3, 16)
  np.testing.assert_allclose(probs.sum(1), 1.0, rtol=1e-5)
  batch = next(iter(model.train_dataset(make_tiny_splits().train, seed=0)))
  assert set(batch) == {"image", "label"}


def test_y_batch_statistics_show_the_critic_cluster_usage(tmp_path):
  model = build_model(_config(tmp_path, "clustering", num_classes=4,
                              y_batch_statistics=True))
  y = tf.constant([[1., 0, 0, 0], [1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1]])
  inputs = model.y_critic_inputs(y)
  np.testing.assert_allclose(inputs[:, :4], y)
  np.testing.assert_allclose(inputs[:, 4:], [[0.5, 0.25, 0, 0.25]] * 4)
  # The same one-hot row reaches the critic differently in a batch that all
  # went to one cluster: a per-sample critic could not tell them apart.
  collapsed = model.y_critic_inputs(tf.one_hot([0, 0, 0, 0], 4))
  assert not np.allclose(collapsed[0], inputs[0])
  assert model.y_discriminator(inputs).shape == (4,)
  loss, _ = model._y_generator(_batch(model))
  assert np.isfinite(loss.numpy())
  plain = build_model(_config(tmp_path, "clustering", num_classes=4))
  np.testing.assert_allclose(plain.y_critic_inputs(y), y)


@pytest.mark.slow
def test_semisupervised_trains_and_exports_classify(tmp_path):
  config = _config(tmp_path / "run", "semisupervised")
  config.train.num_labeled = 20
  splits = make_tiny_splits()
  model, trainer = fit_tiny(config, splits)
  results = trainer.epoch_results(splits)
  assert 0.0 <= results["test/error"] <= 1.0
  loaded = tf.saved_model.load(export.export_saved_model(model,
                                                         config.save_path))
  assert set(loaded.signatures) == {"encode", "decode", "sample", "classify",
                                    "serving_default"}
  images = tf.random.uniform([5, 28, 28, 1], -1, 1)
  np.testing.assert_allclose(
      loaded.signatures["classify"](images=images)["probabilities"],
      model.classify(images), atol=1e-5)
  decoded = loaded.signatures["decode"](codes=tf.zeros([2, 2]),
                                        y=tf.one_hot([1, 2], 10))["images"]
  assert decoded.shape == (2, 28, 28, 1)


@pytest.mark.slow
def test_clustering_reports_cluster_error(tmp_path):
  config = _config(tmp_path / "run", "clustering", num_classes=16)
  splits = make_tiny_splits()
  _, trainer = fit_tiny(config, splits)
  results = trainer.epoch_results(splits)
  assert 0.0 <= results["test/cluster_error"] <= 1.0
  assert 1 <= results["clusters_used"] <= 16
  # Majority naming is the best naming of a given assignment on the training
  # images, so on them it can only match or beat the paper's one-image naming.
  probs = evaluation.predict_split(trainer.model.classify_fn, splits.train, 64)
  labels = splits.train.labels
  assert (evaluation.clustering_error(
      probs, labels, evaluation.majority_cluster_labels(probs, labels))
          <= evaluation.clustering_error(
              probs, labels, evaluation.cluster_labels(probs, labels)))
  for split in ("validation", "test"):
    assert 0.0 <= results[f"{split}/majority_cluster_error"] <= 1.0
    # One-to-one matching needs one cluster per digit.
    assert f"{split}/matched_cluster_error" not in results


def _tensorboard_image_size(logdir, tag):
  """(width, height) of the last image summary `tag` under logdir."""
  from tensorboard.backend.event_processing import event_accumulator  # pylint: disable=g-import-not-at-top
  acc = event_accumulator.EventAccumulator(
      logdir, size_guidance={event_accumulator.TENSORS: 0})
  acc.Reload()
  width, height = tf.make_ndarray(acc.Tensors(tag)[-1].tensor_proto)[:2]
  return int(width), int(height)


def test_ten_clusters_report_matched_error_and_draw_their_heads(tmp_path):
  """With one cluster per digit: the matched error on each split's own
  labels; the naming images follow cluster_naming_split; --viz writes the
  cluster heads (one tile per cluster, as in TensorBoard) and each
  cluster's most sure test images."""
  from aae_tf import commands  # pylint: disable=g-import-not-at-top
  config = _config(tmp_path / "run", "clustering", num_classes=10)
  splits = make_tiny_splits()
  model, trainer = fit_tiny(config, splits)
  results = trainer.epoch_results(splits)
  probs = {name: evaluation.predict_split(model.classify_fn,
                                          getattr(splits, name), 64)
           for name in ("train", "validation", "test")}
  for split in ("validation", "test"):
    assert results[f"{split}/matched_cluster_error"] == pytest.approx(
        evaluation.matched_cluster_error(probs[split],
                                         getattr(splits, split).labels))
  names = {name: evaluation.cluster_labels(probs[name],
                                           getattr(splits, name).labels)
           for name in ("train", "validation")}
  model.config.train.cluster_naming_split = "validation"
  by_validation = model.epoch_metrics(splits)
  for naming, metrics in (("train", results), ("validation", by_validation)):
    assert metrics["test/cluster_error"] == pytest.approx(
        evaluation.clustering_error(probs["test"], splits.test.labels,
                                    names[naming]))
  model.config.train.cluster_naming_split = "train"

  heads = model.decode_cluster_heads().numpy()
  assert heads.shape == (10, 28, 28, 1)
  grid = figures.cluster_heads_grid(heads)
  assert grid.shape == (28, 10 * 29 - 1, 1)  # One row of ten tiles.
  assert _tensorboard_image_size(
      os.path.join(config.save_path, "tensorboard"),
      "images/cluster_heads") == (grid.shape[1], grid.shape[0])
  written = commands.visualize(config, "latest", splits)
  assert [os.path.basename(p) for p in written] == [
      "cluster_heads.png", "cluster_examples.png"]
  assert all(os.path.getsize(p) > 0 for p in written)


@pytest.mark.parametrize("mode,combine", [
    ("unsupervised", "mean"), ("unsupervised", "max"), ("unsupervised", "soft"),
    # Seed 000's style/content separation: the supervised MAAE.
    ("supervised", "mean")])
def test_multi_adversarial_phases(tmp_path, mode, combine):
  config = _config(tmp_path, mode, num_discriminators=3,
                   combine=combine)
  model = build_model(config)
  discs = ["discriminator_0", "discriminator_1", "discriminator_2"]
  assert [d.name for d in model.discriminators] == discs
  np.testing.assert_allclose([d.dropout_rate for d in model.discriminators],
                             [0.0, 0.25, 0.5])
  trainer = trainer_lib.Trainer(model, config, steps_per_epoch=5)
  batch = _batch(model)
  changed = _changed(model, lambda: run_phases([trainer.phases[1]], batch))
  assert changed == set(discs)
  expected = {"encoder"} | ({"ensemble"} if combine == "soft" else set())
  changed = _changed(model, lambda: run_phases([trainer.phases[2]], batch))
  assert changed == expected


def test_generator_combinations(tmp_path):
  images = tf.random.uniform([10, 28, 28, 1], -1, 1)
  batch = {"image": images, "label": tf.zeros([10], tf.int32)}
  values = {}
  for combine in ("mean", "max"):
    config = _config(tmp_path / combine, "unsupervised", num_discriminators=3,
                     posterior="deterministic", combine=combine,
                     discriminator_max_dropout=0.0)
    model = build_model(config)
    codes = model.encode(images)
    each = [float(losses_of(d, codes)) for d in model.discriminators]
    values[combine] = (float(model._generator(batch)[0]), each)
  np.testing.assert_allclose(values["mean"][0], np.mean(values["mean"][1]),
                             rtol=1e-5)
  np.testing.assert_allclose(values["max"][0], np.max(values["max"][1]),
                             rtol=1e-5)


def losses_of(disc, codes):
  from aae_tf import losses  # pylint: disable=g-import-not-at-top
  return losses.generator_loss(disc(codes, training=False))


def test_soft_ensemble_interpolates_mean_and_max():
  from aae_tf.networks import SoftEnsemble  # pylint: disable=g-import-not-at-top
  values = tf.constant([1.0, 2.0, 4.0])
  assert float(SoftEnsemble(1e-4)(values)) == pytest.approx(7 / 3, rel=1e-3)
  assert float(SoftEnsemble(50.0)(values)) == pytest.approx(4.0, rel=1e-3)
  w = np.exp([1.0, 2.0, 4.0])
  assert float(SoftEnsemble(1.0)(values)) == pytest.approx(
      float(np.sum(w / w.sum() * [1, 2, 4])), rel=1e-5)


def test_dimreduction_decoder_reads_head_plus_style(tmp_path):
  model = build_model(_config(tmp_path, "dimreduction", num_classes=4))
  heads = model.cluster_heads.heads.numpy()
  z = tf.constant([[0.5, -1.0], [2.0, 0.0]])
  y = tf.constant([[0.0, 0.0, 1.0, 0.0], [0.5, 0.5, 0.0, 0.0]])
  expected = z.numpy() + np.stack([heads[2], 0.5 * (heads[0] + heads[1])])
  np.testing.assert_allclose(model.decoder_inputs(z, y), expected, atol=1e-6)
  images = tf.random.uniform([3, 28, 28, 1], -1, 1)
  out = model.encoder(images)
  np.testing.assert_allclose(
      model.represent(images),
      out["mean"] + tf.nn.softmax(out["logits"]) @ heads, atol=1e-5)


def test_dimreduction_with_labels_adds_the_classification_phase(tmp_path):
  config = _config(tmp_path, "dimreduction")
  config.train.num_labeled = 20
  trainer = trainer_lib.Trainer(build_model(config), config, steps_per_epoch=5)
  assert [p.name for p in trainer.phases][-2:] == ["classification",
                                                   "cluster_heads"]
  batch = next(iter(trainer.model.train_dataset(make_tiny_splits().train, 0)))
  assert "labeled_image" in batch


@pytest.mark.slow
def test_dimreduction_trains_and_exports_represent(tmp_path):
  from aae_tf import commands  # pylint: disable=g-import-not-at-top
  config = _config(tmp_path / "run", "dimreduction", num_classes=6)
  splits = make_tiny_splits()
  model, trainer = fit_tiny(config, splits)
  assert 1 <= trainer.epoch_results(splits)["clusters_used"] <= 6
  loaded = tf.saved_model.load(export.export_saved_model(model,
                                                         config.save_path))
  images = tf.random.uniform([5, 28, 28, 1], -1, 1)
  np.testing.assert_allclose(
      loaded.signatures["represent"](images=images)["representation"],
      model.represent(images), atol=1e-5)
  (path,) = commands.visualize(config, "latest", splits)
  assert path.endswith("latent.png") and (tmp_path / "run" / "latent.png").exists()


@pytest.mark.slow
def test_classification_phase_every_n_steps(tmp_path):
  """With classify_every 3 the classification phase updates at steps 0 and 3
  of six, reports its loss at all six, and the other phases update always."""
  config = _config(tmp_path, "semisupervised", ncode=2)
  config = dataclasses.replace(
      config, train=dataclasses.replace(config.train, classify_every=3,
                                        jit_compile=True)).validate()
  trainer = trainer_lib.Trainer(build_model(config), config, steps_per_epoch=5)
  phases = {p.name: p for p in trainer.phases}
  assert phases["classification"].every == 3
  batch = _batch(trainer.model)
  # Through the compiled loop, which hands each step its global step.
  trainer._loop_fn(iter(tf.data.Dataset.from_tensors(batch).repeat()),
                   tf.constant(6))
  assert int(trainer.step.numpy()) == 6
  assert np.isfinite(float(trainer.metrics["classification/loss"].result()))
  assert int(phases["classification"].optimizer.iterations.numpy()) == 2
  assert int(phases["reconstruction"].optimizer.iterations.numpy()) == 6
  with pytest.raises(ValueError, match="needs the global step"):
    run_phases([phases["classification"]], batch)


@pytest.mark.parametrize("mode,name,settings,noise,role,follows", [
    ("semisupervised", "consistency", {"consistency_weight": 2.0}, 0.3,
     "classification", "classification"),
    ("semisupervised", "virtual_adversarial",
     {"vat_weight": 2.0, "vat_epsilon": 2.0}, 0.0, "classification",
     "classification"),
    ("semisupervised", "class_balance", {"class_balance_weight": 2.0}, 0.0,
     "generator", "y_generator"),
    ("clustering", "class_balance", {"class_balance_weight": 2.0}, 0.0,
     "generator", "y_generator"),
    ("clustering", "virtual_adversarial",
     {"vat_weight": 2.0, "vat_epsilon": 2.0}, 0.0, "classification",
     "y_generator"),
    ("clustering", "consistency", {"consistency_weight": 2.0}, 0.3,
     "classification", "y_generator"),
    # At marginal weight 0.5 the information term of unsure predictions is
    # positive.
    ("semisupervised", "information",
     {"information_weight": 2.0, "information_marginal_weight": 0.5}, 0.0,
     "generator", "y_generator"),
    ("clustering", "information",
     {"information_weight": 2.0, "information_marginal_weight": 0.5,
      "class_balance_weight": 1.0}, 0.0, "generator", "class_balance"),
])
def test_beyond_the_paper_phase_is_off_by_default_and_trains_only_q_y(
    tmp_path, mode, name, settings, noise, role, follows):
  """Beyond the paper: --consistency W or --vat W adds one phase right after
  the classification (in clustering, which has none, after the y adversary)
  with the classification's optimiser settings, --class_balance W one
  right after the y generator with the generator's, --information W one
  after those; weight W; each moves only the encoder's trunk and y head."""
  config = _config(tmp_path, mode, input_noise_std=noise)
  if mode == "semisupervised":
    config.train.num_labeled = 20
  assert name not in [p.name for p in build_model(config).phases()]
  config = dataclasses.replace(config, train=dataclasses.replace(
      config.train, **settings)).validate()
  model = build_model(config)
  trainer = trainer_lib.Trainer(model, config, steps_per_epoch=5)
  names = [p.name for p in trainer.phases]
  assert names.index(name) == names.index(follows) + 1
  phase = trainer.phases[names.index(name)]
  assert (phase.role, phase.weight) == (role, 2.0)
  code_head = [v.numpy().copy() for v in model.encoder.code.trainable_variables]
  trunk = model.encoder.hidden_0.kernel.numpy().copy()
  head = model.encoder.logits.kernel.numpy().copy()
  others = {n: [v.numpy().copy() for v in net.trainable_variables]
            for n, net in model.networks.items() if n != "encoder"}
  out = run_phases([phase], _batch(model))
  # The noisy passes differ; the adversarial perturbation moves q(y|x); ten
  # random images of a fresh model do not use the classes equally.
  assert float(out[f"{name}/loss"]) > 0
  assert not np.array_equal(trunk, model.encoder.hidden_0.kernel.numpy())
  assert not np.array_equal(head, model.encoder.logits.kernel.numpy())
  for a, v in zip(code_head, model.encoder.code.trainable_variables):
    np.testing.assert_array_equal(a, v.numpy())
  for net_name, values in others.items():
    for a, v in zip(values, model.networks[net_name].trainable_variables):
      np.testing.assert_array_equal(a, v.numpy(), err_msg=net_name)


@pytest.mark.parametrize("weight,message", [
    (-1.0, "train.class_balance_weight must be >= 0"),
    (1.0, "train.class_balance_weight acts on the categorical code"),
])
def test_class_balance_settings_are_checked(tmp_path, weight, message):
  """A negative weight, or a mode without a categorical code y."""
  config = small_config(tmp_path)
  if weight < 0:
    config = _config(tmp_path, "semisupervised")
  with pytest.raises(ConfigError, match=message):
    dataclasses.replace(config, train=dataclasses.replace(
        config.train, class_balance_weight=weight)).validate()


@pytest.mark.parametrize("mode,field,value,message", [
    ("clustering", "information_weight", -1.0,
     "train.information_weight must be >= 0"),
    ("clustering", "information_marginal_weight", -1.0,
     "train.information_marginal_weight must be >= 0"),
    ("unsupervised", "information_weight", 1.0,
     "train.information_weight acts on the categorical code"),
    ("clustering", "cluster_naming_split", "test", "cluster naming split"),
])
def test_information_and_naming_settings_are_checked(tmp_path, mode, field,
                                                     value, message):
  config = _config(tmp_path, mode)
  with pytest.raises(ConfigError, match=message):
    dataclasses.replace(config, train=dataclasses.replace(
        config.train, **{field: value})).validate()


def test_consistency_needs_a_categorical_code(tmp_path):
  config = small_config(tmp_path)
  with pytest.raises(ConfigError, match="train.consistency_weight"):
    dataclasses.replace(config, train=dataclasses.replace(
        config.train, consistency_weight=1.0)).validate()


@pytest.mark.parametrize("name,fields", [
    ("consistency", dict(consistency_weight=2.0, consistency_rampup_epochs=2)),
    ("virtual_adversarial", dict(vat_weight=2.0, vat_rampup_epochs=2)),
])
def test_unlabeled_weight_ramps_up_with_the_global_step(tmp_path, name,
                                                        fields):
  """--consistency_rampup R / --vat_rampup R: the phase's weight at step s
  is W * exp(-5 (1 - min(s / (R * steps_per_epoch), 1))^2), reported as
  NAME/weight; a zero weight leaves q(y|x) where it was."""
  config = _config(tmp_path, "semisupervised", input_noise_std=0.3)
  config.train.num_labeled = 20
  config = dataclasses.replace(config, train=dataclasses.replace(
      config.train, **fields)).validate()
  model = build_model(config)
  trainer = trainer_lib.Trainer(model, config, steps_per_epoch=5)
  (phase,) = [p for p in trainer.phases if p.name == name]
  assert f"{name}/weight" in phase.output_names
  batch = _batch(model)
  for step, expected in ((0, 2 * np.exp(-5)), (5, 2 * np.exp(-1.25)),
                         (10, 2.0), (30, 2.0)):
    out = run_phases([phase], batch, tf.constant(step, tf.int64))
    assert float(out[f"{name}/weight"]) == pytest.approx(expected, rel=1e-5)
  with pytest.raises(ValueError, match="global step"):
    run_phases([phase], batch)
  phase.weight = 0.0
  head = model.encoder.logits.kernel.numpy().copy()
  phase.optimizer = keras.optimizers.SGD(0.1)  # No momentum left over.
  run_phases([phase], batch, tf.constant(0, tf.int64))
  np.testing.assert_array_equal(head, model.encoder.logits.kernel.numpy())


@pytest.mark.parametrize("field,value,message", [
    ("vat_weight", -1.0, "train.vat_weight must be >= 0"),
    ("vat_epsilon", -2.0, "train.vat_epsilon must be positive"),
    ("vat_epsilon", 0.0, "train.vat_epsilon must be positive"),
    ("vat_xi", -1e-6, "vat_xi must be positive"),
    ("vat_power_iterations", 0, "vat_power_iterations must be at least 1"),
])
def test_virtual_adversarial_settings_are_checked(tmp_path, field, value,
                                                   message):
  config = _config(tmp_path, "semisupervised")
  settings = {"vat_weight": 1.0, field: value}
  with pytest.raises(ConfigError, match=message):
    dataclasses.replace(config, train=dataclasses.replace(
        config.train, **settings)).validate()


def test_virtual_adversarial_needs_a_categorical_code(tmp_path):
  with pytest.raises(ConfigError, match="train.vat_weight"):
    dataclasses.replace(small_config(tmp_path), train=dataclasses.replace(
        small_config(tmp_path).train, vat_weight=1.0)).validate()


@pytest.mark.parametrize("fields", [
    dict(consistency_weight=1.0, consistency_rampup_epochs=-1),
    dict(vat_weight=1.0, vat_rampup_epochs=-1)])
def test_rampup_must_not_be_negative(tmp_path, fields):
  config = _config(tmp_path, "semisupervised")
  ramp = [f for f in fields if f.endswith("rampup_epochs")][0]
  with pytest.raises(ConfigError, match=f"train.{ramp} must be >= 0"):
    dataclasses.replace(config, train=dataclasses.replace(
        config.train, **fields)).validate()


@pytest.mark.parametrize("mode", ["semisupervised", "clustering"])
def test_phases_train_the_same_networks_with_encoder_batch_norm(tmp_path,
                                                                mode):
  config = _config(tmp_path, mode, encoder_batch_norm=True)
  model = build_model(config)
  trainer = trainer_lib.Trainer(model, config, steps_per_epoch=5)
  batch = _batch(model)
  for phase in trainer.phases:
    changed = _changed(model, lambda phase=phase: run_phases([phase], batch))
    assert changed == MODE_PHASES[mode][phase.name], phase.name
  scale = model.encoder.norm_0.gamma
  assert any(scale is v for v in model.encoder.class_variables())


def test_encoder_batch_norm_is_for_the_mlp_encoder(tmp_path):
  config = _config(tmp_path, "unsupervised")
  config = dataclasses.replace(config, model=dataclasses.replace(
      config.model, architecture="conv", posterior="deterministic",
      encoder_batch_norm=True))
  with pytest.raises(ConfigError, match="encoder_batch_norm"):
    config.validate()
