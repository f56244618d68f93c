"""Adversarial autoencoders on MNIST: train, sample and visualise.

  python experiment/aae_mnist.py --train --dist_type gmm --save_path runs/gmm
  python experiment/aae_mnist.py --generate --load latest --save_path runs/gmm
  python experiment/aae_mnist.py --viz --load latest --save_path runs/gmm
  python experiment/aae_mnist.py --train_semisupervised --num_labeled 1000 \
      --save_path runs/semi1000

The flags, the configuration they build and the actions are aae_tf/cli.py's.
"""

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

from absl import app  # pylint: disable=g-import-not-at-top
from absl import flags

from aae_tf import cli  # pylint: disable=g-import-not-at-top

cli.define_flags(cli.MNIST)
flags.adopt_module_key_flags(cli)  # --help lists them.

if __name__ == "__main__":
  app.run(cli.main(cli.MNIST))
