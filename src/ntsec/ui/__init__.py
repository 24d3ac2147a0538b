"""What the two front ends share, below both of them: the command line (:mod:`ntsec.cli`) and
the web app (:mod:`ntsec.web`) import from here, never from each other (``tests/test_layers.py``).

* :mod:`ntsec.ui.describe`: a descriptor as a JSON-ready structure and as text for people;
* :mod:`ntsec.ui.names`: the ``NAME=SID`` map a reader gives for icacls account names;
* :mod:`ntsec.ui.machine`: where the simulated machine lives (``--machine PATH``,
  ``NTSEC_MACHINE``, else the per-user default) and opening it, creating the default on first
  use.

Error text for people is :func:`ntsec.errors.error_text`, lower still, so the library's own
messages and both front ends agree.
"""
