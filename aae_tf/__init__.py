"""aae_tf: adversarial autoencoders (Makhzani et al., ICLR 2016) in TensorFlow 2 / Keras."""

__version__ = "0.2.0"
