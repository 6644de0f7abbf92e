"""ConvLSTM cell and layer: one step of ``keras.layers.ConvLSTM{1,2,3}D``.

Equations (keras/src/layers/rnn/conv_lstm.py l.268-298, ``ConvLSTMCell.call``)::

    x_g = conv(x_t, K_g, strides, padding, dilation) + b_g   # "input_conv",  g in i, f, c, o
    h_g = conv(h_{t-1}, R_g, 1, "same", 1)                   # "recurrent_conv": no bias, no dilation
    i   = ract(x_i + h_i)
    f   = ract(x_f + h_f)
    c_t = f * c_{t-1} + i * act(x_c + h_c)
    o   = ract(x_o + h_o)
    h_t = o * act(c_t)

``conv`` is cross-correlation (``ops.conv`` -> ``tf.nn.convolution``); the
kernel is *not* flipped. For one spatial axis of length ``n``, kernel ``k``,
stride ``s``, dilation ``d`` and ``k_eff = (k - 1) * d + 1``::

    out[p] = sum_{o < k, ch} x_pad[p * s + o * d, ch] * w[o, ch, :]
    "valid": x_pad = x,                      n_out = floor((n - k_eff) / s) + 1
    "same":  n_out = ceil(n / s), pad_total = max((n_out - 1) * s + k_eff - n, 0),
             pad_before = pad_total // 2, pad_after = pad_total - pad_before

(TF's SAME: the odd pad goes at the end, which matters for even kernels;
keras/src/backend/tensorflow/nn.py ``_pad_same_spatial_channels_last``.)

Shapes, rank ``r`` (1, 2 or 3), ``S_in``/``S`` the input/state spatial shapes:

* ``channels_last``:  ``x_t (B, *S_in, C_in)``, ``h, c (B, *S, F)``;
* ``channels_first``: ``x_t (B, C_in, *S_in)``, ``h, c (B, F, *S)``;
* ``K (*k, C_in, 4F)``, ``R (*k, F, 4F)``, ``b (4F,)``: gate blocks
  :data:`~reference_cells.conventions.LSTM_GATE_ORDER` (``"ifco"``) on the
  last axis; ``S`` = :func:`conv_output_shape` of ``S_in`` (the recurrent
  conv keeps ``S``). The output is ``h_t``; the states ``[h_t, c_t]``.

The gates are computed channels_last and moved back to the layer's data
format *before* the activations, so an axis-dependent activation (softmax)
sees the same axis as in Keras. The layer's time loop (masking, go_backwards,
``initial_state``, stateful) is :mod:`reference_cells.sequence`'s ``_drive``.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from typing import Any, Mapping, Sequence

import numpy as np

from reference_cells import activations
from reference_cells.conventions import KERAS, LSTM_GATE_ORDER, Conventions
from reference_cells.gates import bias_scale, split_gates
from reference_cells.layer_config import LayerOptions
from reference_cells.sequence import SequenceTrace, StatefulSequence, StepFunction, _drive

GATE_ORDER = LSTM_GATE_ORDER
STATE_NAMES = ("h", "c")
PADDINGS = ("valid", "same")
DATA_FORMATS = ("channels_last", "channels_first")


# ------------------------------------------------------------ convolution
def _tuple(value: int | Sequence[int], rank: int, name: str) -> tuple[int, ...]:
    """An int or a length-``rank`` sequence as a ``rank``-tuple (Keras ``standardize_tuple``)."""
    out = (int(value),) * rank if np.ndim(value) == 0 else tuple(int(v) for v in value)
    if len(out) != rank or min(out) < 1:
        raise ValueError(f"{name} must be a positive int or {rank} positive ints, got {value!r}")
    return out


def _same_padding(n: int, k: int, s: int, d: int) -> tuple[int, int]:
    """TF SAME padding of one axis: ``(pad_before, pad_after)``, the odd pad at the end."""
    n_out = -(-n // s)  # ceil(n / s)
    pad_total = max((n_out - 1) * s + (k - 1) * d + 1 - n, 0)
    return pad_total // 2, pad_total - pad_total // 2


def conv_output_shape(
    spatial: Sequence[int],
    kernel_size: Sequence[int],
    strides: Sequence[int],
    padding: str,
    dilation_rate: Sequence[int],
) -> tuple[int, ...]:
    """Spatial output shape of the input conv, i.e. the state's spatial shape ``S``.

    ``valid``: ``floor((n - k_eff) / s) + 1``; ``same``: ``ceil(n / s)``
    (keras/src/ops/operation_utils.py ``compute_conv_output_shape``).
    """
    if padding not in PADDINGS:
        raise ValueError(f"padding must be one of {', '.join(PADDINGS)}, got {padding!r}")
    out = []
    for n, k, s, d in zip(spatial, kernel_size, strides, dilation_rate, strict=True):
        n_out = (n - (k - 1) * d - 1) // s + 1 if padding == "valid" else -(-n // s)
        if n_out < 1:
            raise ValueError(
                f"conv output would be empty: spatial={tuple(spatial)}, kernel_size={tuple(kernel_size)}, "
                f"strides={tuple(strides)}, dilation_rate={tuple(dilation_rate)}, padding={padding!r}"
            )
        out.append(n_out)
    return tuple(out)


def conv_nd(
    x: np.ndarray,
    w: np.ndarray,
    *,
    strides: Sequence[int],
    padding: str,
    dilation_rate: Sequence[int],
) -> np.ndarray:
    """N-d cross-correlation, channels_last, as ``tf.nn.convolution``.

    Shapes: ``x (B, *S_in, C_in)``, ``w (*k, C_in, F)`` -> ``(B, *S_out, F)``::

        out[b, p, f] = sum_{o, ch} x_pad[b, p * s + o * d, ch] * w[o, ch, f]

    One strided slice and one ``tensordot`` per kernel offset ``o`` (``prod(k)``
    of them); no loop over output positions.
    """
    rank = w.ndim - 2
    if x.ndim != rank + 2 or x.shape[-1] != w.shape[-2]:
        raise ValueError(f"conv input {x.shape} does not fit kernel {w.shape} (rank {rank}, channels_last)")
    kernel_size = w.shape[:rank]
    spatial = x.shape[1:-1]
    out_shape = conv_output_shape(spatial, kernel_size, strides, padding, dilation_rate)
    if padding == "same":
        pads = [_same_padding(n, k, s, d) for n, k, s, d in zip(spatial, kernel_size, strides, dilation_rate)]
        x = np.pad(x, [(0, 0), *pads, (0, 0)])
    out = np.zeros((x.shape[0], *out_shape, w.shape[-1]), dtype=np.result_type(x, w))
    for offset in itertools.product(*(range(k) for k in kernel_size)):
        # x_pad[p * s + o * d] for every output position p, along every spatial axis.
        window = tuple(
            slice(o * d, o * d + (n_out - 1) * s + 1, s)
            for o, d, s, n_out in zip(offset, dilation_rate, strides, out_shape)
        )
        out += np.tensordot(x[(slice(None), *window)], w[offset], axes=([-1], [0]))
    return out


# ------------------------------------------------------------ options
@dataclass(frozen=True)
class ConvOptions:
    """The convolution options of a ConvLSTM layer, standardised as Keras does."""

    rank: int
    kernel_size: tuple[int, ...]
    strides: tuple[int, ...]
    padding: str
    dilation_rate: tuple[int, ...]
    data_format: str

    @classmethod
    def from_config(cls, rank: int, config: Mapping[str, Any]) -> "ConvOptions":
        if "kernel_size" not in config:
            raise ValueError("ConvLSTM config has no 'kernel_size'")
        return cls.create(
            rank,
            kernel_size=config["kernel_size"],
            strides=config.get("strides", 1),
            padding=config.get("padding", "valid"),
            dilation_rate=config.get("dilation_rate", 1),
            data_format=config.get("data_format") or "channels_last",  # None: Keras's image_data_format default
        )

    @classmethod
    def create(
        cls,
        rank: int,
        *,
        kernel_size: int | Sequence[int],
        strides: int | Sequence[int] = 1,
        padding: str = "valid",
        dilation_rate: int | Sequence[int] = 1,
        data_format: str = "channels_last",
    ) -> "ConvOptions":
        if rank not in (1, 2, 3):
            raise ValueError(f"ConvLSTM rank must be 1, 2 or 3, got {rank!r}")
        padding = str(padding).lower()  # Keras accepts any case
        if padding not in PADDINGS:
            raise ValueError(f"padding must be one of {', '.join(PADDINGS)}, got {padding!r}")
        if data_format not in DATA_FORMATS:
            raise ValueError(f"data_format must be one of {', '.join(DATA_FORMATS)}, got {data_format!r}")
        strides_t = _tuple(strides, rank, "strides")
        dilation_t = _tuple(dilation_rate, rank, "dilation_rate")
        if max(strides_t) > 1 and max(dilation_t) > 1:
            # Keras rejects this combination in ConvLSTMCell.__init__.
            raise ValueError(f"strides > 1 is not compatible with dilation_rate > 1: {strides_t}, {dilation_t}")
        return cls(rank, _tuple(kernel_size, rank, "kernel_size"), strides_t, padding, dilation_t, data_format)


def options_from_config(config: Mapping[str, Any]) -> LayerOptions:
    """The RNN-loop options of a ConvLSTM layer (``units`` = ``filters``)."""
    return LayerOptions.from_config("ConvLSTM", config)


# ------------------------------------------------------------------ cell
class ConvLSTMCell:
    """One ConvLSTM step with weights fixed at construction (see the module docstring)."""

    kind = "ConvLSTM"
    state_names = STATE_NAMES

    def __init__(
        self,
        weights: Sequence[np.ndarray],
        options: LayerOptions,
        conventions: Conventions,
        dtype: np.dtype,
        *,
        rank: int,
        strides: int | Sequence[int] = 1,
        padding: str = "valid",
        dilation_rate: int | Sequence[int] = 1,
        data_format: str = "channels_last",
    ) -> None:
        expected = 3 if options.use_bias else 2
        if len(weights) != expected:
            raise ValueError(f"ConvLSTM expects {expected} weight arrays, got {len(weights)}")
        dtype = np.dtype(dtype)
        f = self.filters = options.units
        kernel_fused = np.asarray(weights[0], dtype=dtype)  # (*k, C_in, 4F)
        recurrent_fused = np.asarray(weights[1], dtype=dtype)  # (*k, F, 4F)
        if kernel_fused.ndim != rank + 2 or recurrent_fused.shape != (*kernel_fused.shape[:rank], f, 4 * f):
            raise ValueError(
                f"rank-{rank} ConvLSTM with {f} filters expects kernel (*k, C_in, {4 * f}) and "
                f"recurrent_kernel (*k, {f}, {4 * f}); got {kernel_fused.shape} and {recurrent_fused.shape}"
            )
        self.conv = ConvOptions.create(
            rank, kernel_size=kernel_fused.shape[:rank], strides=strides, padding=padding,
            dilation_rate=dilation_rate, data_format=data_format,
        )
        split = dict(units=f, keras_order=GATE_ORDER, conventions=conventions)
        kernel = split_gates(kernel_fused, **split)
        recurrent = split_gates(recurrent_fused, **split)
        if conventions.kernel_layout == "recurrent-transposed":
            # A port reading each R_g as (F_out, F_in): swap the channel axes, not the spatial ones.
            recurrent = {g: np.swapaxes(r, -1, -2) for g, r in recurrent.items()}
        bias_fused = np.asarray(weights[2], dtype=dtype) if options.use_bias else np.zeros(4 * f, dtype)
        bias = split_gates(bias_fused * dtype.type(bias_scale(conventions)), **split)
        bias["f"] = bias["f"] + dtype.type(conventions.forget_bias)
        # Re-fuse in Keras order: one conv over 4F output channels equals the four
        # per-gate convs, since each output channel depends only on its own kernel slice.
        self.kernel = np.concatenate([kernel[g] for g in GATE_ORDER], axis=-1)  # (*k, C_in, 4F)
        self.recurrent_kernel = np.concatenate([recurrent[g] for g in GATE_ORDER], axis=-1)  # (*k, F, 4F)
        self.bias = np.concatenate([bias[g] for g in GATE_ORDER])  # (4F,)
        self.act = activations.get(conventions.activation or options.activation)
        self.ract = activations.get(conventions.recurrent_activation or options.recurrent_activation)
        self.feedback = conventions.recurrent != "dropped"  # False: h_{t-1} never fed back (read as 0)

    @property
    def channel_axis(self) -> int:
        return 1 if self.conv.data_format == "channels_first" else -1

    def state_shape(self, step_shape: Sequence[int]) -> tuple[int, ...]:
        """Per-sample state shape for a per-sample input step shape, both in the data format."""
        conv = self.conv
        cf = conv.data_format == "channels_first"
        spatial = tuple(step_shape[1:] if cf else step_shape[:-1])
        s = conv_output_shape(spatial, conv.kernel_size, conv.strides, conv.padding, conv.dilation_rate)
        return (self.filters, *s) if cf else (*s, self.filters)

    def step(self, x_t: np.ndarray, states: Sequence[np.ndarray]) -> tuple[np.ndarray, list[np.ndarray]]:
        h_prev, c_prev = states
        conv, ax = self.conv, self.channel_axis
        # The convolutions run channels_last; z goes back to the data format before the activations.
        z_x = conv_nd(
            np.moveaxis(x_t, ax, -1), self.kernel,
            strides=conv.strides, padding=conv.padding, dilation_rate=conv.dilation_rate,
        ) + self.bias
        h_in = h_prev if self.feedback else np.zeros_like(h_prev)
        z_h = conv_nd(
            np.moveaxis(h_in, ax, -1), self.recurrent_kernel,
            strides=(1,) * conv.rank, padding="same", dilation_rate=(1,) * conv.rank,
        )
        z = np.moveaxis(z_x + z_h, -1, ax)  # (B, *S, 4F) or (B, 4F, *S)
        z_i, z_f, z_c, z_o = np.split(z, 4, axis=ax)
        i = self.ract(z_i)
        f = self.ract(z_f)
        c = f * c_prev + i * self.act(z_c)
        o = self.ract(z_o)
        h = o * self.act(c)
        return h, [h, c]


# ----------------------------------------------------------------- layer
def run_conv_lstm(
    rank: int,
    x: np.ndarray,
    weights: Sequence[np.ndarray],
    config: Mapping[str, Any],
    *,
    mask: np.ndarray | None = None,
    initial_state: Sequence[np.ndarray] | None = None,
    conventions: Conventions = KERAS,
    dtype: np.dtype | type = np.float64,
    carried_state: Sequence[np.ndarray] | None = None,
) -> SequenceTrace:
    """Run a ``ConvLSTM{rank}D`` layer over ``x`` the way Keras 3 does.

    Args:
        rank: 1, 2 or 3.
        x: ``(B, T, *S_in, C_in)`` (channels_last) or ``(B, T, C_in, *S_in)``.
        weights: ``[kernel, recurrent_kernel(, bias)]`` as ``layer.get_weights()``.
        config: the layer config (``layer.get_config()``: filters, kernel_size,
            strides, padding, data_format, dilation_rate, activation,
            recurrent_activation, use_bias, return_sequences, return_state,
            go_backwards, stateful, unroll, zero_output_for_mask); missing keys
            take Keras defaults.
        mask: optional ``(B, T)`` bool, True = use the step (Keras accepts it).
        initial_state: optional ``[h, c]``, each ``(B, *S, F)`` / ``(B, F, *S)``.
        conventions, dtype, carried_state: as :func:`reference_cells.run_sequence`.

    The trace's outputs and states are ``(B, T, *state_shape)``.
    """
    options = options_from_config(config)
    conv = ConvOptions.from_config(rank, config)
    dtype = np.dtype(dtype)
    x = np.asarray(x, dtype=dtype)
    if x.ndim != rank + 3:
        raise ValueError(f"ConvLSTM{rank}D input must have {rank + 3} dimensions (B, T, spatial..., C), got {x.shape}")
    cell = ConvLSTMCell(
        weights, options, conventions, dtype, rank=rank, strides=conv.strides, padding=conv.padding,
        dilation_rate=conv.dilation_rate, data_format=conv.data_format,
    )
    channels = x.shape[2] if conv.data_format == "channels_first" else x.shape[-1]
    if channels != cell.kernel.shape[-2]:
        raise ValueError(f"input has {channels} channels, the kernel expects {cell.kernel.shape[-2]}")
    return _drive(
        cell.step, cell.state_names, x, options,
        mask=mask, initial_state=initial_state, conventions=conventions, dtype=dtype,
        carried_state=carried_state, state_shape=cell.state_shape(x.shape[2:]),
    )


def run_conv_lstm_with_step(
    rank: int,
    step: StepFunction,
    x: np.ndarray,
    weights: Sequence[np.ndarray],
    config: Mapping[str, Any],
    *,
    mask: np.ndarray | None = None,
    initial_state: Sequence[np.ndarray] | None = None,
    carried_state: Sequence[np.ndarray] | None = None,
    dtype: np.dtype | type = np.float64,
) -> SequenceTrace:
    """Keras's ConvLSTM time loop around someone else's one-step function.

    ``step(x_t (B, *S_in, C), [h, c]) -> (output_t, [h, c])`` with states
    ``(B, *S, F)``; the loop (initial state, go_backwards, masking, return
    values) is exactly :func:`run_conv_lstm`'s, so only the step's maths are
    under test. ``weights`` only size the state (``S`` from the convolution).
    """
    options = options_from_config(config)
    conv = ConvOptions.from_config(rank, config)
    dtype = np.dtype(dtype)
    x = np.asarray(x, dtype=dtype)
    cell = ConvLSTMCell(
        weights, options, KERAS, dtype, rank=rank, strides=conv.strides, padding=conv.padding,
        dilation_rate=conv.dilation_rate, data_format=conv.data_format,
    )
    return _drive(
        step, cell.state_names, x, options,
        mask=mask, initial_state=initial_state, conventions=KERAS, dtype=dtype,
        carried_state=carried_state, state_shape=cell.state_shape(x.shape[2:]),
    )


class StatefulConvLSTM(StatefulSequence):
    """A stateful ConvLSTM layer: like :class:`reference_cells.StatefulSequence`,
    successive calls continue from the previous call's final states."""

    def __init__(
        self,
        rank: int,
        weights: Sequence[np.ndarray],
        config: Mapping[str, Any],
        *,
        conventions: Conventions = KERAS,
        dtype: np.dtype | type = np.float64,
    ) -> None:
        super().__init__(f"ConvLSTM{rank}D", weights, config, conventions=conventions, dtype=dtype)
        self.rank = rank

    def _run(self, x: np.ndarray, *, mask, initial_state, carried_state) -> SequenceTrace:
        return run_conv_lstm(
            self.rank, x, self.weights, self.config, mask=mask, initial_state=initial_state,
            conventions=self.conventions, dtype=self.dtype, carried_state=carried_state,
        )
