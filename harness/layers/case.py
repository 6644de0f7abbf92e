"""A test case: a layer spec (any kind) plus everything needed to regenerate its data.

A :class:`CaseSpec` is small and JSON-serialisable; :meth:`CaseSpec.build`
turns it into arrays (weights, inputs, mask, initial state) with a seeded
NumPy generator, so the same spec always gives the same numbers, and
:meth:`CaseSpec.token` is a compact string that ``rnn-parity replay`` accepts.
The layer is a :class:`~harness.layers.cell.CellSpec` (SimpleRNN/LSTM/GRU) or
a :class:`~harness.layers.composite.CompositeSpec`; :func:`layer_from_dict`
tells them apart by ``kind``.

Data are never symmetric: every gate gets its own random kernel, recurrent
kernel and non-zero bias, and inputs are random with a chosen scale (large
scales push pre-activations past the hard_sigmoid knees at |x| = 2.5 / 3).
"""

from __future__ import annotations

import base64
import dataclasses
import json
import zlib
from dataclasses import dataclass
from typing import Any, Mapping

import numpy as np

from harness.layers.cell import CellSpec
from harness.layers.composite import COMPOSITE_KINDS, CompositeSpec, composite_weights

LayerSpec = CellSpec | CompositeSpec

GATES = {"SimpleRNN": 1, "LSTM": 4, "GRU": 3}
#: Per-row mask patterns. "valid" uses every step; "all-masked" none.
MASK_ROW_PATTERNS = ("valid", "pad-start", "pad-end", "gap-middle", "random", "all-masked")
MASK_MODES = ("none", "mixed")
#: Tokens of composite cases written before the one layer protocol started with this letter.
_OLD_COMPOSITE_TOKEN = "F"


def layer_from_dict(data: Mapping[str, Any]) -> LayerSpec:
    """A layer spec of any kind from its :meth:`to_dict`."""
    if data.get("kind") in COMPOSITE_KINDS:
        return CompositeSpec.from_dict(data)
    return CellSpec.from_dict(data)


@dataclass(frozen=True)
class CaseSpec:
    """Everything that determines one case.

    Attributes:
        layer: the layer under test.
        batch, timesteps: input shape ``(batch, timesteps, layer.features)``.
        mask: ``"none"`` or ``"mixed"`` (each row draws one of
            :data:`MASK_ROW_PATTERNS`; with batch >= 2 at least one row is padded).
        initial_state: pass a random non-zero ``initial_state``.
        recurrent_gain: recurrent kernel = per-gate orthogonal matrix (Keras's
            initialiser) times this gain; > 1 makes the dynamics expansive, and
            large gains chaotic.
        kernel_scale: multiplies a Glorot-uniform input kernel.
        bias_scale: std of the (never zero) biases.
        input_scale: std of the inputs.
        chunks: for stateful layers, the sequence is fed as this many
            consecutive calls.
        seed: seeds the NumPy generator for every array.
        weights_seed: None (the default: ``seed`` draws every array), or the seed of the
            weights alone: they are then the weights of the same case with ``seed=weights_seed``,
            and ``seed`` draws only the inputs, mask rows and initial state. Examples that share
            weights and shapes share one export (``check --export`` converts once per group).
    """

    layer: LayerSpec
    batch: int = 2
    timesteps: int = 8
    mask: str = "none"
    initial_state: bool = False
    recurrent_gain: float = 1.0
    kernel_scale: float = 1.0
    bias_scale: float = 0.5
    input_scale: float = 1.0
    chunks: int = 1
    seed: int = 0
    weights_seed: int | None = None

    def __post_init__(self) -> None:
        if self.batch < 1:
            raise ValueError(f"batch must be >= 1, got {self.batch}")
        if self.timesteps < 1:
            raise ValueError(f"timesteps must be >= 1, got {self.timesteps}")
        if self.mask not in MASK_MODES:
            raise ValueError(f"mask={self.mask!r} is not one of {', '.join(MASK_MODES)}")
        if self.chunks < 1 or self.chunks > self.timesteps:
            raise ValueError(f"chunks must be in [1, timesteps={self.timesteps}], got {self.chunks}")
        if self.chunks > 1 and not self.layer.stateful:
            raise ValueError("chunks > 1 needs a stateful layer (layer.stateful=True)")
        if self.weights_seed is not None and (isinstance(self.weights_seed, bool) or not isinstance(self.weights_seed, int)
                                              or self.weights_seed < 0):
            raise ValueError(f"weights_seed must be a non-negative integer or None, got {self.weights_seed!r}")
        if isinstance(self.layer, CompositeSpec) and self.recurrent_gain != 1.0:
            raise ValueError("recurrent_gain: composite layers draw every weight array alike; use kernel_scale")

    @property
    def kind(self) -> str:
        return self.layer.kind

    # ------------------------------------------------------------ identity
    def case_id(self) -> str:
        """Readable and unique: layer id, shape, data options, seed."""
        extras = [f"B{self.batch}", f"T{self.timesteps}"]
        if self.mask != "none":
            extras.append("mask")
        if self.initial_state:
            extras.append("h0")
        if self.chunks > 1:
            extras.append(f"x{self.chunks}")
        if isinstance(self.layer, CellSpec):  # composite weights have no recurrent gain
            extras.append(f"g{self.recurrent_gain:g}")
        defaults = {"kernel_scale": ("ks", 1.0), "bias_scale": ("bs", 0.5), "input_scale": ("in", 1.0)}
        extras += [f"{tag}{getattr(self, name):g}" for name, (tag, default) in defaults.items() if getattr(self, name) != default]
        if self.weights_seed is not None:
            extras.append(f"w{self.weights_seed}")
        extras.append(f"s{self.seed}")
        return f"{self.layer.short_id()}-{'-'.join(extras)}"

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["layer"] = self.layer.to_dict()
        if self.weights_seed is None:  # tokens and records of cases without it stay as they were
            del data["weights_seed"]
        return data

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> "CaseSpec":
        data = dict(data)
        if "layer" not in data:
            raise ValueError("case has no 'layer'")
        layer = layer_from_dict(data.pop("layer"))
        known = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise ValueError(f"unknown case field(s): {', '.join(unknown)}")
        return cls(layer=layer, **data)

    def token(self) -> str:
        """A compact, copy-pasteable encoding for ``rnn-parity replay``."""
        raw = json.dumps(self.to_dict(), sort_keys=True, separators=(",", ":")).encode()
        return base64.urlsafe_b64encode(zlib.compress(raw, 9)).decode().rstrip("=")

    @classmethod
    def from_token(cls, token: str) -> "CaseSpec":
        if token.startswith(_OLD_COMPOSITE_TOKEN):
            raise ValueError("this case token predates the one-layer-protocol format (a composite token from "
                             "rnn-parity <= 0.1); re-run the check or sweep to get a new one")
        try:
            padded = token + "=" * (-len(token) % 4)
            inflater = zlib.decompressobj()
            raw = inflater.decompress(base64.urlsafe_b64decode(padded.encode()))
            if inflater.unused_data or not inflater.eof:
                raise ValueError("trailing or missing data")
            return cls.from_dict(json.loads(raw))
        except Exception as exc:  # any decoding failure means the same thing to the user
            raise ValueError(f"not a valid case token ({type(exc).__name__}); copy it whole from the failure message") from None

    def replay_command(self) -> str:
        return f"rnn-parity replay {self.token()}"

    # --------------------------------------------------------------- arrays
    def build(self, variables: list[tuple[tuple[int, ...], str]] | None = None) -> "CaseData":
        """Generate the arrays, deterministically from ``seed``.

        A composite layer's weights follow its Keras variables: ``variables`` are
        the built layer's ``(shape, path)`` pairs (:meth:`KerasRunner.variables`)."""
        rng = np.random.default_rng(self.seed)
        # The weights come first from the case's generator, so a separate weights seed gives
        # exactly the weights of the case with seed=weights_seed.
        weights_rng = rng if self.weights_seed is None else np.random.default_rng(self.weights_seed)
        layer = self.layer
        if isinstance(layer, CompositeSpec):
            if variables is None:
                raise ValueError(f"{layer.kind} cases need the layer's variables to draw weights")
            weights = composite_weights(variables, weights_rng, kernel_scale=self.kernel_scale, bias_scale=self.bias_scale)
            x = rng.standard_normal((self.batch, self.timesteps, *layer.input_shape))
            x = (x if self.input_scale == 1.0 else x * self.input_scale).astype(np.float32)
            state_shapes = layer.state_shapes(self.batch)
        else:
            weights = make_weights(
                layer,
                weights_rng,
                recurrent_gain=self.recurrent_gain,
                kernel_scale=self.kernel_scale,
                bias_scale=self.bias_scale,
            )
            x = (rng.standard_normal((self.batch, self.timesteps, layer.features)) * self.input_scale).astype(np.float32)
            state_shapes = [(self.batch, layer.units)] * (2 if layer.kind == "LSTM" else 1)
        mask = make_mask(self.batch, self.timesteps, rng) if self.mask == "mixed" else None
        initial_state = (
            [rng.uniform(-0.9, 0.9, shape).astype(np.float32) for shape in state_shapes] if self.initial_state else None
        )
        return CaseData(spec=self, weights=weights, x=x, mask=mask, initial_state=initial_state)


@dataclass(frozen=True)
class CaseData:
    """The arrays of one case (float32, as a Keras model would hold them)."""

    spec: CaseSpec
    weights: list[np.ndarray]
    x: np.ndarray
    mask: np.ndarray | None
    initial_state: list[np.ndarray] | None

    def chunk_bounds(self) -> list[tuple[int, int]]:
        """``[(start, stop), ...]`` of the consecutive calls of a stateful case."""
        edges = np.linspace(0, self.spec.timesteps, self.spec.chunks + 1).round().astype(int)
        return [(int(a), int(b)) for a, b in zip(edges[:-1], edges[1:])]


def _orthogonal(n: int, rng: np.random.Generator) -> np.ndarray:
    q, r = np.linalg.qr(rng.standard_normal((n, n)))
    return q * np.sign(np.diag(r))  # Haar-distributed, as keras.initializers.Orthogonal


def make_weights(
    layer: CellSpec,
    rng: np.random.Generator,
    *,
    recurrent_gain: float,
    kernel_scale: float,
    bias_scale: float,
) -> list[np.ndarray]:
    """Random per-gate weights in ``layer.get_weights()`` layout, float32.

    kernel ``(F, G*U)`` Glorot-uniform per gate; recurrent kernel ``(U, G*U)``
    one independent orthogonal block per gate times ``recurrent_gain`` times a
    per-gate factor in [0.8, 1.25] (so even 1x1 blocks differ between gates); bias
    ``(G*U,)`` (GRU reset_after: ``(2, G*U)``) normal with std ``bias_scale``,
    LSTM forget block shifted by +1 as ``unit_forget_bias`` initialises it.
    """
    g, u, f = GATES[layer.kind], layer.units, layer.features
    limit = np.sqrt(6.0 / (f + u)) * kernel_scale
    kernel = rng.uniform(-limit, limit, (f, g * u))
    gains = recurrent_gain * rng.uniform(0.8, 1.25, g)
    recurrent = np.concatenate([_orthogonal(u, rng) * gains[k] for k in range(g)], axis=1)
    weights = [kernel, recurrent]
    if layer.use_bias:
        shape = (2, g * u) if layer.kind == "GRU" and layer.reset_after else (g * u,)
        bias = rng.standard_normal(shape) * bias_scale
        if layer.kind == "LSTM":
            bias[u : 2 * u] += 1.0
        weights.append(bias)
    return [w.astype(np.float32) for w in weights]


def make_mask(batch: int, timesteps: int, rng: np.random.Generator) -> np.ndarray:
    """``(B, T)`` bool mask, one :data:`MASK_ROW_PATTERNS` pattern per row.

    Padding at the start, in the middle and at the end, random holes and fully
    masked rows all occur; with ``batch >= 2`` at least one row is padded.
    """
    mask = np.ones((batch, timesteps), dtype=bool)
    patterns = rng.choice(len(MASK_ROW_PATTERNS), size=batch)
    if batch >= 2 and np.all(patterns == 0):
        patterns[rng.integers(batch)] = rng.integers(1, len(MASK_ROW_PATTERNS))
    for row, p in enumerate(patterns):
        name = MASK_ROW_PATTERNS[p]
        k = int(rng.integers(1, max(2, timesteps)))  # padding length, >= 1
        if name == "pad-start":
            mask[row, :k] = False
        elif name == "pad-end":
            mask[row, timesteps - k :] = False
        elif name == "gap-middle":
            a = int(rng.integers(0, timesteps))
            mask[row, a : a + max(1, k // 2)] = False
        elif name == "random":
            mask[row] = rng.random(timesteps) < 0.7
        elif name == "all-masked":
            mask[row] = False
    if batch >= 2 and mask.all():  # a "random" row can come out all valid; keep the promise
        mask[rng.integers(batch), rng.integers(timesteps)] = False
    return mask
