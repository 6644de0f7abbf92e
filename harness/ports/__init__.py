"""Ports: the protocol by which the harness calls a user's implementation.

:mod:`~harness.ports.port` wraps functions, classes, per-step functions and
per-step objects; :mod:`~harness.ports.subprocess_port` programs in any
language (a directory of ``.npy`` files); :mod:`~harness.ports.guard` calls
into the port safely (time limit, prints, exceptions, bad returns); and
:mod:`~harness.ports.loading` finds a port by name. Every kind of layer uses
the same protocol. Never imports Keras.
"""
