"""Configuration validation and JSON round trip."""

import dataclasses

import pytest

from aae_tf import config as config_lib
from aae_tf.errors import ConfigError


def _config(**sections):
  base = config_lib.ExperimentConfig(save_path="/tmp/x")
  return dataclasses.replace(base, **sections)


def test_round_trip(tmp_path):
  config = _config(model=config_lib.ModelConfig(ncode=10))
  path = str(tmp_path / "config.json")
  config.save(path)
  assert config_lib.ExperimentConfig.load(path) == config


@pytest.mark.parametrize("sections,message", [
    (dict(model=config_lib.ModelConfig(ncode=0)), "model.ncode"),
    (dict(model=config_lib.ModelConfig(keep_prob=0.0)), "model.keep_prob"),
    (dict(model=config_lib.ModelConfig(keep_prob=1.5)), "model.keep_prob"),
    (dict(train=config_lib.TrainConfig(batch_size=0)), "train.batch_size"),
    (dict(train=config_lib.TrainConfig(batch_size=-3)), "train.batch_size"),
    (dict(train=config_lib.TrainConfig(
        optimizers=config_lib.adam_optimizers(0.0))), "learning rate"),
    (dict(train=config_lib.TrainConfig(optimizers={
        "reconstruction": config_lib.OptimizerConfig()})), "No optimiser"),
    (dict(train=config_lib.TrainConfig(optimizers={
        **config_lib.adam_optimizers(), "decoder": config_lib.OptimizerConfig()
    })), "Unknown phases or roles"),
    (dict(train=config_lib.TrainConfig(optimizers=config_lib.adam_optimizers(
        beta1=1.0))), "momentum"),
    (dict(train=config_lib.TrainConfig(optimizers={
        **config_lib.adam_optimizers(),
        "generator": config_lib.OptimizerConfig(kind="rmsprop")})),
     "optimiser of generator"),
    (dict(model=config_lib.ModelConfig(pixel_range="byte")), "pixel range"),
    (dict(train=config_lib.TrainConfig(max_epoch=0)), "train.max_epoch"),
    (dict(train=config_lib.TrainConfig(genw=-1.0)), "train.genw"),
    (dict(train=config_lib.TrainConfig(optimizers=config_lib.adam_optimizers(
        decay_epochs=(300, 100)))), "decay epochs"),
    (dict(prior=config_lib.PriorConfig(dist_type="cauchy")), "Unknown prior"),
    (dict(prior=config_lib.PriorConfig(dist_type="gmm"),
          model=config_lib.ModelConfig(ncode=3)), "even"),
    (dict(train=config_lib.TrainConfig(classify_every=0)), "train.classify_every"),
    (dict(train=config_lib.TrainConfig(labeled_seed=-1)), "train.labeled_seed"),
    (dict(train=config_lib.TrainConfig(seed=-2)), "labeled draw"),
    (dict(mode="reinforcement"), "Unknown mode"),
    (dict(data=config_lib.DataConfig(source="web")), "data source"),
])
def test_bad_values(sections, message):
  with pytest.raises(ConfigError, match=message):
    _config(**sections).validate()


def test_unknown_field_in_json():
  values = _config().to_dict()
  values["train"]["learning_rate"] = 1.0
  with pytest.raises(ConfigError, match="Unknown TrainConfig"):
    config_lib.ExperimentConfig.from_dict(values)


def test_config_json_of_older_runs_with_derived_fields_still_loads():
  # Runs written before ModelConfig.image_size became a property stored it.
  values = _config().to_dict()
  values["model"]["image_size"] = 784
  assert config_lib.ExperimentConfig.from_dict(values) == _config()
