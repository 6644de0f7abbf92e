"""Build the Keras 2 fixture: a tf_keras model with hard_sigmoid gates, saved as .h5.

    python cases/models/make_keras2_model.py [OUT.h5]   (needs the keras2 extra: pip install -e '.[keras2]')

``keras2_hard_sigmoid.h5``: Input(None, 3) -> LSTM(4, seq, recurrent_activation=hard_sigmoid)
-> GRU(3, seq, recurrent_activation=hard_sigmoid, reset_after=False) -> Dense(1). Random
per-array weights (seed 11), non-zero biases. tf_keras 2.21 writes ``time_major`` into
the LSTM/GRU configs and ``keras_version`` 2.21.0 into the file: loading it in Keras 3 is
a migration, and hard_sigmoid changes meaning on the way (0.2x+0.5 -> x/6+0.5).

The committed copy (tests/fixtures/keras2_hard_sigmoid.h5, ~30 kB) lets the default
test run check the migration drift without tf_keras installed.
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np

DEFAULT_OUT = Path(__file__).resolve().parents[2] / "tests" / "fixtures" / "keras2_hard_sigmoid.h5"


def build(out: Path) -> Path:
    from harness.target.keras_env import import_keras
    from harness.target.targets import use_target

    use_target("keras2")  # before the import: this process runs tf_keras
    keras = import_keras()
    L = keras.layers
    inp = keras.Input((None, 3))
    h = L.LSTM(4, return_sequences=True, recurrent_activation="hard_sigmoid", name="lstm")(inp)
    h = L.GRU(3, return_sequences=True, recurrent_activation="hard_sigmoid", reset_after=False, name="gru")(h)
    model = keras.Model(inp, L.Dense(1, name="out")(h))
    rng = np.random.default_rng(11)
    model.set_weights([rng.normal(0, 0.6, w.shape).astype("float32") for w in model.get_weights()])
    out.parent.mkdir(parents=True, exist_ok=True)
    model.save(out, save_format="h5")
    return out


if __name__ == "__main__":
    print(build(Path(sys.argv[1]) if len(sys.argv) > 1 else DEFAULT_OUT))
