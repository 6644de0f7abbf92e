"""A command's stderr holds what the user needs, not TensorFlow's start-up noise.

TensorFlow's C++ start-up writes absl/CUDA-stub/CPU-feature lines to stderr whatever
``TF_CPP_MIN_LOG_LEVEL`` says; ``harness.target.keras_env`` drops exactly those lines while
Keras imports and writes back anything else (``_NATIVE_NOISE``).
"""

from __future__ import annotations

import os
import subprocess
import sys

from harness.target import keras_env


def test_a_sweep_in_a_fresh_process_writes_nothing_to_stderr():
    env = {k: v for k, v in os.environ.items() if not k.startswith("TF_")}
    run = subprocess.run([sys.executable, "-m", "harness", "sweep", "--cells", "SimpleRNN", "--examples", "1",
                          "--no-progress"], capture_output=True, text=True, env=env, timeout=300)
    assert run.returncode == 0, run.stderr
    assert run.stderr == "", run.stderr


def test_only_the_known_start_up_lines_are_dropped():
    noise = ["WARNING: All log messages before absl::InitializeLog() is called are written to STDERR",
             "I0000 00:00:1796216737.752337    6889 cudart_stub.cc:31] Could not find cuda drivers on your machine.",
             "W0000 00:00:1796216737.752337    6889 cpu_feature_guard.cc:210] This TensorFlow binary is optimized",
             "To enable the following instructions: AVX2 FMA, in other operations, rebuild TensorFlow with the "
             "appropriate compiler flags."]
    kept = ["E0000 00:00:17 cuda_dnn.cc:8] Unable to register cuDNN factory", "Segmentation fault in libfoo.so",
            "UserWarning: something Keras says"]
    assert all(keras_env._NATIVE_NOISE.match(line) for line in noise)
    assert not any(keras_env._NATIVE_NOISE.match(line) for line in kept)
