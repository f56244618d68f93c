"""Recipes build the optimisers they name for each phase; schedules follow
the global step; the paper's reconstruction cost and networks."""

import dataclasses

import keras
import numpy as np
import pytest
import tensorflow as tf

from aae_tf import config as config_lib
from aae_tf import recipes
from aae_tf import trainer as trainer_lib
from aae_tf.modes import build_model
from aae_tf.phases import run_phases

SMALL = dict(encoder_units=(16,), decoder_units=(16,),
             discriminator_units=(8,))


def _small(config, **train):
  return dataclasses.replace(
      config, model=dataclasses.replace(config.model, **SMALL),
      train=dataclasses.replace(config.train, jit_compile=False,
                                progress_bar=False, **train)).validate()


def _trainer(config, steps_per_epoch=5):
  return trainer_lib.Trainer(build_model(config), config, steps_per_epoch)


# Paper: (optimiser class, learning rate, momentum) per phase.
PAPER_SEMISUPERVISED = {
    "reconstruction": (keras.optimizers.SGD, 0.01, 0.9),
    "z_discriminator": (keras.optimizers.SGD, 0.1, 0.1),
    "z_generator": (keras.optimizers.SGD, 0.1, 0.1),
    "y_discriminator": (keras.optimizers.SGD, 0.1, 0.1),
    "y_generator": (keras.optimizers.SGD, 0.1, 0.1),
    "classification": (keras.optimizers.SGD, 0.1, 0.9),
}
# budget and paper_plus: the paper's rates, their extra phases on the
# classification and y generator roles' optimisers.
BUDGET_SEMISUPERVISED = {
    **{k: v for k, v in PAPER_SEMISUPERVISED.items() if k != "classification"},
    "class_balance": (keras.optimizers.SGD, 0.1, 0.1),
    "classification": PAPER_SEMISUPERVISED["classification"],
    "virtual_adversarial": (keras.optimizers.SGD, 0.1, 0.9)}
SEED_SEMISUPERVISED = {name: (keras.optimizers.Adam, 1e-4, 0.5)
                       for name in PAPER_SEMISUPERVISED}
SEED_UNSUPERVISED = {name: (keras.optimizers.Adam, 2e-4, 0.5)
                     for name in ("reconstruction", "discriminator",
                                  "generator")}
PAPER_UNSUPERVISED = {"reconstruction": (keras.optimizers.SGD, 0.01, 0.9),
                      "discriminator": (keras.optimizers.SGD, 0.1, 0.1),
                      "generator": (keras.optimizers.SGD, 0.1, 0.1)}


@pytest.mark.parametrize("mode,recipe,expected", [
    ("semisupervised", "paper", PAPER_SEMISUPERVISED),
    ("semisupervised", "default", BUDGET_SEMISUPERVISED),
    ("semisupervised", "budget", BUDGET_SEMISUPERVISED),
    ("semisupervised", "seed", SEED_SEMISUPERVISED),
    ("unsupervised", "seed", SEED_UNSUPERVISED),
    ("unsupervised", "default", SEED_UNSUPERVISED),
    ("unsupervised", "paper", PAPER_UNSUPERVISED),
])
def test_recipe_builds_its_optimizers(tmp_path, mode, recipe, expected):
  config = _small(recipes.make_config(mode, str(tmp_path), recipe,
                                      num_labeled=None))
  trainer = _trainer(config)
  assert [p.name for p in trainer.phases] == list(expected)
  for phase in trainer.phases:
    cls, lr, momentum = expected[phase.name]
    opt = phase.optimizer
    assert type(opt) is cls, phase.name
    assert float(np.asarray(opt.learning_rate)) == pytest.approx(lr)
    got = opt.momentum if cls is keras.optimizers.SGD else opt.beta_1
    assert got == pytest.approx(momentum), phase.name
  # Every phase has an optimiser of its own.
  assert len({id(p.optimizer) for p in trainer.phases}) == len(expected)


def test_paper_recipe_model(tmp_path):
  config = recipes.make_config("semisupervised", str(tmp_path), "paper",
                               num_labeled=100)
  m, t = config.model, config.train
  assert (m.posterior, m.pixel_range, m.kernel_initializer) == (
      "deterministic", "unit", "glorot_uniform")
  assert m.leaky_relu_slope == 0.0 and m.keep_prob == 1.0
  assert m.input_noise_std == pytest.approx(0.3) and m.ncode == 10
  assert t.batch_size == 100 and t.labeled_batch_size == 100
  assert {t.encw, t.disw, t.genw, t.clsw, t.ydisw, t.ygenw} == {1.0}
  assert all(o.decay_epochs == (50, 1000) for o in t.optimizers.values())
  clustering = recipes.make_config("clustering", str(tmp_path), "paper",
                                   num_clusters=30).model
  assert clustering.encoder_units == (3000, 3000)
  assert clustering.discriminator_units == (3000, 3000)
  assert clustering.ncode == 5 and clustering.num_classes == 30
  assert clustering.input_keep_prob == pytest.approx(0.8)


def test_paper_plus_is_the_paper_recipe_with_the_measured_phases(tmp_path):
  """Semi-supervised: VAT (0.1, epsilon 1) and class balance (10) over the
  paper recipe, run after their phases' places; clustering: class balance
  (3 with the default 16 clusters) and VAT (0.1, epsilon 2); other modes:
  the paper's."""
  def make(mode, recipe):
    return recipes.make_config(mode, str(tmp_path), recipe, num_labeled=100
                               if mode == "semisupervised" else None)
  paper, plus = make("semisupervised", "paper"), make("semisupervised",
                                                      "paper_plus")
  assert plus.model == paper.model
  assert plus.train == dataclasses.replace(
      paper.train, vat_weight=0.1, vat_epsilon=1.0, class_balance_weight=10.0,
      recipe="paper_plus")
  names = [p.name for p in _trainer(_small(plus)).phases]
  assert names == ["reconstruction", "z_discriminator", "z_generator",
                   "y_discriminator", "y_generator", "class_balance",
                   "classification", "virtual_adversarial"]
  paper, plus = make("clustering", "paper"), make("clustering", "paper_plus")
  assert plus == dataclasses.replace(paper, train=dataclasses.replace(
      paper.train, class_balance_weight=3.0, vat_weight=0.1,
      vat_epsilon=2.0, recipe="paper_plus"))
  names = [p.name for p in _trainer(_small(plus)).phases]
  assert names == ["reconstruction", "z_discriminator", "z_generator",
                   "y_discriminator", "y_generator", "class_balance",
                   "virtual_adversarial"]
  for mode in ("unsupervised", "label", "supervised", "dimreduction"):
    paper = make(mode, "paper")
    assert make(mode, "paper_plus") == dataclasses.replace(
        paper, train=dataclasses.replace(paper.train, recipe="paper_plus")), mode


@pytest.mark.parametrize("recipe, clusters, weight", [
    ("paper_plus", None, 3.0), ("paper_plus", 16, 3.0),
    ("paper_plus", 10, 3.0), ("paper_plus", 30, 10.0),
    ("paper_plus", 23, 3.0), ("paper_plus", 24, 10.0),
    ("paper_plus", 50, 10.0), ("budget", None, 5.0), ("budget", 10, 20.0),
    ("budget", 13, 20.0), ("budget", 14, 5.0), ("budget", 5, 20.0),
    ("budget", 23, 5.0), ("budget", 24, 10.0), ("budget", 30, 10.0)])
def test_cluster_balance_weight_follows_cluster_count(tmp_path, recipe,
                                                      clusters, weight):
  """Clustering's balance weight is the one chosen for the nearest measured
  cluster count (paper_plus 16: 3, budget 10: 20, 16: 5, both 30: 10; a tie
  goes to the smaller count)."""
  config = recipes.make_config("clustering", str(tmp_path), recipe,
                               num_clusters=clusters)
  assert config.train.class_balance_weight == weight
  assert config.model.num_classes == (clusters or 16)
  paper = recipes.make_config("clustering", str(tmp_path), "paper",
                              num_clusters=clusters)
  assert paper.train.class_balance_weight == 0.0


def test_unknown_recipe_and_mode(tmp_path):
  with pytest.raises(config_lib.ConfigError, match="Unknown recipe"):
    recipes.make_config("semisupervised", str(tmp_path), "fast")
  with pytest.raises(config_lib.ConfigError, match="Unknown mode"):
    recipes.make_config("reinforcement", str(tmp_path))


def test_schedule_decays_at_its_epoch_for_a_phase_updating_every_n_steps(
    tmp_path):
  """The classification phase updates every 3rd step; its rate still drops
  at the end of epoch 2 (step 10 of 5-step epochs), not after 10 updates."""
  base = recipes.make_config("semisupervised", str(tmp_path), "paper",
                             num_labeled=20)
  optimizers = {k: dataclasses.replace(v, decay_epochs=(2,))
                for k, v in base.train.optimizers.items()}
  config = _small(base, classify_every=3, batch_size=4, labeled_batch_size=4,
                  optimizers=optimizers)
  trainer = _trainer(config, steps_per_epoch=5)
  classify = next(p for p in trainer.phases if p.name == "classification")
  batch = {"image": tf.random.uniform([4, 28, 28, 1], -1, 1),
           "label": tf.zeros([4], tf.int32),
           "labeled_image": tf.random.uniform([4, 28, 28, 1], -1, 1),
           "labeled_label": tf.zeros([4], tf.int32)}
  dataset = tf.data.Dataset.from_tensors(batch).repeat()
  iterator = iter(dataset)
  rates = []
  for _ in range(12):
    rates.append(float(np.asarray(classify.optimizer.learning_rate)))
    trainer._loop_fn(iterator, tf.constant(1))
  assert int(classify.optimizer.iterations.numpy()) == 4  # Steps 0,3,6,9.
  np.testing.assert_allclose(rates[:10], 0.1)
  np.testing.assert_allclose(rates[10:], 0.01)


def test_paper_reconstruction_cost_is_on_unit_pixels(tmp_path):
  """Half the squared error summed over [0, 1] pixels: an all-black image
  (-1 outside the networks, 0 inside) against a decoder output of 0.5
  everywhere costs 0.5 * 784 * 0.25 = 98."""
  config = _small(recipes.make_config("unsupervised", str(tmp_path), "paper"))
  model = build_model(config)
  assert model.decoder.out.activation.__name__ == "sigmoid"
  for layer in model.decoder.out, model.decoder.hidden_0:
    layer.kernel.assign(tf.zeros_like(layer.kernel))
    layer.bias.assign(tf.zeros_like(layer.bias))
  images = -tf.ones([3, 28, 28, 1])
  loss = model.reconstruction_loss(images, tf.zeros([3, 2]))
  assert float(loss) == pytest.approx(98.0)
  # Images leave the model in [-1, 1]: 0.5 there is 0.0 here.
  np.testing.assert_allclose(model.decode(tf.zeros([3, 2])).numpy(), 0.0)
  # The encoder reads [0, 1] pixels: the same as feeding it (x + 1) / 2.
  x = tf.random.uniform([3, 28, 28, 1], -1, 1)
  np.testing.assert_allclose(model.encode(x).numpy(),
                             model.encoder((x + 1) / 2)["mean"].numpy(),
                             rtol=1e-5, atol=1e-6)


def test_paper_semisupervised_step_is_finite(tmp_path):
  """Where the [-1, 1] networks with SGD diverged in the first steps
  (../shared/notes/sgd-trials.md), the paper recipe's step stays finite."""
  config = _small(recipes.make_config("semisupervised", str(tmp_path),
                                      "paper", num_labeled=20),
                  batch_size=8, labeled_batch_size=8)
  trainer = _trainer(config)
  rng = np.random.default_rng(0)
  batch = {"image": tf.constant(rng.uniform(-1, 1, (8, 28, 28, 1)), tf.float32),
           "label": tf.zeros([8], tf.int32),
           "labeled_image": tf.constant(rng.uniform(-1, 1, (8, 28, 28, 1)),
                                        tf.float32),
           "labeled_label": tf.range(8) % 10}
  for step in range(20):
    out = run_phases(trainer.phases, batch, tf.constant(step, tf.int64))
  assert all(np.isfinite(float(v)) for v in out.values())


def test_budget_clustering_narrows_the_networks_and_is_the_default(tmp_path):
  plus = recipes.make_config("clustering", str(tmp_path), "paper_plus")
  budget = recipes.make_config("clustering", str(tmp_path), "budget")
  assert plus.model.encoder_units == (3000, 3000)
  assert budget.model == dataclasses.replace(
      plus.model, encoder_units=(1200, 1200), decoder_units=(1200, 1200),
      discriminator_units=(1200, 1200))
  assert budget.train.max_epoch == 24
  assert budget.train.cluster_naming_split == "validation"
  assert budget.train.vat_weight == 1.0 and plus.train.vat_weight == 0.1
  assert budget.train.class_balance_weight == 5.0
  assert plus.train.class_balance_weight == 3.0
  assert budget.train.vat_epsilon == plus.train.vat_epsilon
  assert {opt.clip_norm for opt in budget.train.optimizers.values()} == {
      recipes.BUDGET_CLIP_NORM["clustering"]}
  assert recipes.make_config("clustering", str(tmp_path)) == budget


@pytest.mark.parametrize("clusters, warmup", [(10, 1.0), (13, 1.0),
                                              (None, 0.0), (14, 0.0),
                                              (30, 0.0)])
def test_budget_clustering_warms_up_by_cluster_count(tmp_path, clusters,
                                                     warmup):
  """Every rate of budget clustering warms up over one epoch with 10
  clusters (and counts nearer 10 than 16), over none with 16 or 30; the
  semi-supervised budget recipe and paper_plus never warm up."""
  budget = recipes.make_config("clustering", str(tmp_path), "budget",
                               num_clusters=clusters)
  assert {opt.warmup_epochs
          for opt in budget.train.optimizers.values()} == {warmup}
  for mode, recipe in (("clustering", "paper_plus"),
                       ("semisupervised", "budget")):
    other = recipes.make_config(mode, str(tmp_path), recipe,
                                num_clusters=clusters)
    assert {opt.warmup_epochs
            for opt in other.train.optimizers.values()} == {0.0}


@pytest.mark.parametrize("clusters, epochs", [(10, 24), (None, 24), (23, 24),
                                              (24, 30), (30, 30), (50, 30)])
def test_budget_clustering_run_length_by_cluster_count(tmp_path, clusters,
                                                       epochs):
  """Budget clustering runs 30 epochs with 30 clusters (and counts nearer
  30 than 16), 24 with 10 or 16 (a tie goes to the smaller count)."""
  budget = recipes.make_config("clustering", str(tmp_path), "budget",
                               num_clusters=clusters)
  assert budget.train.max_epoch == epochs


@pytest.mark.parametrize("clusters, ncode", [(10, 10), (13, 10), (None, 5),
                                             (14, 5), (30, 5)])
def test_budget_clustering_style_code_by_cluster_count(tmp_path, clusters,
                                                       ncode):
  """Budget clustering's style code has 10 dimensions with 10 clusters (and
  counts nearer 10 than 16), the paper's 5 with 16 or 30; paper_plus keeps
  the paper's."""
  budget = recipes.make_config("clustering", str(tmp_path), "budget",
                               num_clusters=clusters)
  plus = recipes.make_config("clustering", str(tmp_path), "paper_plus",
                             num_clusters=clusters)
  assert budget.model.ncode == ncode
  assert plus.model.ncode == 5


def test_budget_is_paper_plus_with_a_schedule_that_ends_with_the_run(tmp_path):
  """The budget recipe: paper_plus's model and phases with a larger VAT
  weight, no decay epochs, every rate annealed over the end of the run, a
  weight average for evaluation."""
  plus = recipes.make_config("semisupervised", str(tmp_path), "paper_plus",
                             num_labeled=100)
  budget = recipes.make_config("semisupervised", str(tmp_path), "budget",
                               num_labeled=100)
  assert budget.model == plus.model
  assert budget.train.recipe == "budget"
  assert budget.train.max_epoch == 20
  assert budget.train.weight_average_decay == recipes.BUDGET[
      "weight_average_decay"]
  for key, opt in budget.train.optimizers.items():
    assert opt == dataclasses.replace(
        plus.train.optimizers[key], decay_epochs=(),
        anneal=recipes.BUDGET["anneal"],
        anneal_start=recipes.BUDGET["anneal_start"]), key
    assert opt.clip_norm is None, key  # No cap semi-supervised.
  assert (budget.train.vat_weight, plus.train.vat_weight) == (0.6, 0.1)
  assert budget.train.vat_epsilon == plus.train.vat_epsilon == 1.0
  assert (budget.train.vat_rampup_epochs, plus.train.vat_rampup_epochs) == (
      5.0, 0.0)
  assert dataclasses.replace(
      budget.train, optimizers=plus.train.optimizers,
      max_epoch=plus.train.max_epoch, weight_average_decay=0.0,
      vat_weight=plus.train.vat_weight, vat_rampup_epochs=0.0,
      recipe="paper_plus") == plus.train


@pytest.mark.parametrize("num_labeled, epochs, weight, radius, rampup", [
    (100, 20, 0.6, 1.0, 5.0), (20, 20, 0.6, 1.0, 5.0),
    (550, 20, 0.6, 1.0, 5.0), (560, 50, 0.1, 2.0, 0.0),
    (1000, 50, 0.1, 2.0, 0.0), (None, 50, 0.1, 2.0, 0.0)])
def test_budget_length_and_vat_follow_the_number_of_labels(
    tmp_path, num_labeled, epochs, weight, radius, rampup):
  """budget's semi-supervised run length and VAT are those chosen for the
  nearest measured number of labels (a tie to the smaller; all labels: the
  largest)."""
  train = recipes.make_config("semisupervised", str(tmp_path), "budget",
                              num_labeled=num_labeled).train
  assert (train.max_epoch, train.vat_weight, train.vat_epsilon,
          train.vat_rampup_epochs) == (epochs, weight, radius, rampup)


def test_dimreduction_defaults_to_budget_with_labels_only(tmp_path):
  """With --num_labeled the dimensionality-reduction AAE takes the budget
  recipe (its 10 epochs), without labels the seed recipe."""
  labeled = recipes.make_config("dimreduction", str(tmp_path), num_labeled=1000)
  assert labeled == recipes.make_config("dimreduction", str(tmp_path),
                                        "budget", num_labeled=1000)
  assert labeled.train.max_epoch == 10
  assert recipes.make_config("dimreduction", str(tmp_path)) == (
      recipes.make_config("dimreduction", str(tmp_path), "seed"))
