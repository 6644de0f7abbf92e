"""Drift reports: what ``make report`` writes (one module per job).

* :mod:`~harness.reporting.collect`  - run the sweep and the cases into tables
* :mod:`~harness.reporting.patterns` - name the shape of an error curve
* :mod:`~harness.reporting.plots`    - matplotlib figures (no display needed)
* :mod:`~harness.reporting.render`   - index.html and summary.md
* :mod:`~harness.reporting.runs`     - run directories, ``latest``, provenance
* :mod:`~harness.reporting.diff`  - what changed between two runs
"""
