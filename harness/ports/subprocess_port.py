"""Ports in any language: a program that reads a directory of inputs and writes its outputs.

The harness runs ``COMMAND... IN_DIR OUT_DIR`` (split with :func:`shlex.split`
and run **without a shell**) once per example and call. ``IN_DIR`` holds:

==================  ==========================================================
``x.npy``           float32 ``(B, T, *input_shape)`` (SimpleRNN/LSTM/GRU: ``(B, T, F)``), C order, little-endian
``weight_K.npy``    float32, ``K = 0, 1, ...`` in ``layer.get_weights()`` order
``mask.npy``        bool ``(B, T)``, True = use the step (only if the port
                    declares ``mask``)
``initial_state_K.npy``  float32 ``(B, U)`` (ConvLSTM ``(B, *S, F)``) in Keras's flat state order (only if the
                    port declares ``initial_state`` and the example has one)
``config.json``     ``layer.get_config()``
``config.txt``      the same, flattened to ``key value`` lines for readers with
                    no JSON parser (booleans as 0/1; ``batch``, ``timesteps``,
                    ``features``, ``n_weights`` added)
==================  ==========================================================

The program writes into ``OUT_DIR`` what the Keras layer returns, flattened in
Keras order: ``output.npy`` (``(B, T, U)`` with return_sequences, else ``(B, U)``)
and, with return_state, ``state_0.npy``, ``state_1.npy``... (Bidirectional with
``merge_mode=None``: the backward output is ``state_0.npy``, the states follow). ``.npy`` is a short text header and the raw
array; ``cases/ports/c/`` has a 40-line C reader and writer. Any float dtype is
accepted on output.

A non-zero exit status, a crash (``crashed (signal 11, SIGSEGV)``), a time-out
(the process is killed) or a missing output file is an error for that example,
reported with the last lines of the program's stderr. What the program prints
on success is not shown: the answer notes how many lines it printed.
"""

from __future__ import annotations

import json
import shlex
import signal
import subprocess
import tempfile
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from harness.errors import PortCallError, PortError
from harness.layers.case import CaseData
from harness.layers.tensors import NamedTensor, concat_chunks
from harness.ports.guard import PortGuard
from harness.ports.port import Expected, Port, _as_layer_return


def write_inputs(directory: Path, data: CaseData, config: Mapping[str, Any], *, a: int, b: int,
                 mask: bool, initial_state: bool, first_chunk: bool) -> None:
    np.save(directory / "x.npy", np.ascontiguousarray(data.x[:, a:b], dtype="<f4"))
    for k, w in enumerate(data.weights):
        np.save(directory / f"weight_{k}.npy", np.ascontiguousarray(w, dtype="<f4"))
    if mask and data.mask is not None:
        np.save(directory / "mask.npy", np.ascontiguousarray(data.mask[:, a:b]))
    if initial_state and data.initial_state is not None and first_chunk:
        for k, s in enumerate(data.initial_state):
            np.save(directory / f"initial_state_{k}.npy", np.ascontiguousarray(s, dtype="<f4"))
    (directory / "config.json").write_text(json.dumps(dict(config), sort_keys=True, default=str))
    flat = {
        **{k: v for k, v in config.items() if isinstance(v, (str, int, float, bool)) or v is None},
        "batch": data.spec.batch,
        "timesteps": b - a,
        "features": data.spec.layer.input_shape[-1],
        "n_weights": len(data.weights),
    }
    lines = [f"{k} {int(v) if isinstance(v, bool) else ('none' if v is None else v)}" for k, v in sorted(flat.items())]
    (directory / "config.txt").write_text("\n".join(lines) + "\n")


def subprocess_port(command: str, *, timeout: float = 60.0, accepts: tuple[str, ...] = ()) -> Port:
    argv = shlex.split(command)
    if not argv:
        raise PortError("PORT: the subprocess command is empty")
    unknown = sorted(set(accepts) - {"mask", "initial_state"})
    if unknown:
        raise PortError(f"--port-accepts: unknown feature(s) {', '.join(unknown)}; expected mask, initial_state")
    takes_mask, takes_init = "mask" in accepts, "initial_state" in accepts
    guard = PortGuard(timeout=timeout)  # here only for its count of printed lines

    def call(data: CaseData, config: Mapping[str, Any], a: int, b: int, first: bool, n_returned: int) -> Any:
        with tempfile.TemporaryDirectory(prefix="rnn-parity-port-") as tmp:
            in_dir, out_dir = Path(tmp, "in"), Path(tmp, "out")
            in_dir.mkdir()
            out_dir.mkdir()
            write_inputs(in_dir, data, config, a=a, b=b, mask=takes_mask, initial_state=takes_init, first_chunk=first)
            try:
                done = subprocess.run([*argv, str(in_dir), str(out_dir)], capture_output=True, timeout=timeout, check=False)
            except FileNotFoundError:
                raise PortError(f"PORT command {argv[0]!r} was not found") from None
            except subprocess.TimeoutExpired:
                raise PortCallError(f"the port did not finish within {timeout:g} s (--timeout)") from None
            stderr = done.stderr.decode(errors="replace").strip().splitlines()[-3:]
            if done.returncode != 0:
                how = _crash(-done.returncode) if done.returncode < 0 else f"exited with status {done.returncode}"
                raise PortCallError(f"the port {how}" + (f": {' | '.join(stderr)}" if stderr else ""))
            guard.printed_lines += len(done.stdout.decode(errors="replace").splitlines()) + len(
                done.stderr.decode(errors="replace").splitlines())
            names = ["output"] + [f"state_{k}" for k in range(n_returned - 1)]
            missing = [n for n in names if not (out_dir / f"{n}.npy").is_file()]
            if missing:
                raise PortCallError(f"the port wrote no {', '.join(m + '.npy' for m in missing)} in OUT_DIR")
            arrays = [np.load(out_dir / f"{n}.npy", allow_pickle=False) for n in names]
            return arrays if n_returned > 1 else arrays[0]

    def run(data: CaseData, config: Mapping[str, Any], expected: Expected) -> dict[str, NamedTensor]:
        n_returned = len(expected[0].names)
        chunks = []
        for k, (a, b) in enumerate(data.chunk_bounds()):
            value = call(data, config, a, b, k == 0, n_returned)
            chunks.append(_as_layer_return(value, data.spec.layer, expected, start=a, stop=b, batch=data.spec.batch))
        return concat_chunks(chunks)

    return Port(command, "subprocess", takes_mask, takes_init, carries_state=False, _run=run, guard=guard,
                check_determinism=False, notes=["stateful carry (each call is a fresh process)"])


def _crash(signum: int) -> str:
    """``crashed (signal 11, SIGSEGV)``."""
    try:
        name = signal.Signals(signum).name
    except ValueError:
        return f"crashed (signal {signum})"
    return f"crashed (signal {signum}, {name})"
