"""``python -m xai_tf.cli ...`` = ``xai-tf ...``."""
import sys

from xai_tf.cli.program import main

sys.exit(main())
