"""Build the seed-shaped models as .keras files (random weights, deterministic).

    python cases/models/make_models.py OUT_DIR

* ``seed000_two_lstm.keras``   Input(24, 9) -> LSTM(8, seq, hard_sigmoid) -> LSTM(8, hard_sigmoid) -> Dense(6, softmax)
* ``seed001_masking_rnn.keras`` Input(10, 6) -> Masking(-99) -> SimpleRNN(8, return_state) -> Dense(8, tanh) on the state -> Dense(1)
* ``seed003_stateful_gru.keras`` batch_shape (1, 1, 4) -> 3 x GRU(8, stateful, seq) -> Dense(2, softmax), fed one step per call
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np


def _randomize(model, seed: int) -> None:
    # Random per-gate weights and non-zero biases: Keras's fresh biases are zeros (hides bias bugs).
    rng = np.random.default_rng(seed)
    model.set_weights([rng.normal(0, 0.4, w.shape).astype("float32") for w in model.get_weights()])


def build(out: Path) -> list[Path]:
    from harness.target.keras_env import import_keras

    keras = import_keras()
    out.mkdir(parents=True, exist_ok=True)
    L = keras.layers
    paths = []

    inp = keras.Input((24, 9))
    f1 = L.LSTM(8, return_sequences=True, recurrent_activation="hard_sigmoid", name="lstm1")(inp)
    f2 = L.LSTM(8, recurrent_activation="hard_sigmoid", name="lstm2")(f1)
    m = keras.Model(inp, L.Dense(6, activation="softmax", name="fc")(f2))
    _randomize(m, 0)
    paths.append(out / "seed000_two_lstm.keras")
    m.save(paths[-1])

    inp = keras.Input((10, 6))
    masked = L.Masking(mask_value=-99.0)(inp)
    _, state = L.SimpleRNN(8, return_state=True, name="rnn")(masked)
    d1 = L.Dense(8, activation="tanh", name="dense1")(state)
    m = keras.Model(inp, L.Dense(1, activation="tanh", name="denseoutput")(d1))
    _randomize(m, 1)
    paths.append(out / "seed001_masking_rnn.keras")
    m.save(paths[-1])

    inp = keras.Input(batch_shape=(1, 1, 4))
    h = L.GRU(8, stateful=True, return_sequences=True, name="input_gru")(inp)
    h = L.GRU(8, stateful=True, return_sequences=True, name="gru_layer_1")(h)
    h = L.GRU(8, stateful=True, return_sequences=True, name="gru_layer_2")(h)
    m = keras.Model(inp, L.Dense(2, activation="softmax", name="out")(h))
    _randomize(m, 3)
    paths.append(out / "seed003_stateful_gru.keras")
    m.save(paths[-1])
    return paths


if __name__ == "__main__":
    for path in build(Path(sys.argv[1] if len(sys.argv) > 1 else "cases/models/build")):
        print(path)
