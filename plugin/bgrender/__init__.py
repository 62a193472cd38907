"""bgrender: blue/green releases for Argo CD and Istio from one bluegreen.yaml."""

__version__ = "0.1.0"

# typing.TYPE_CHECKING without importing typing (~3 ms at startup): modules write
# `from bgrender import TYPE_CHECKING`, and type checkers, which know the name, read it as True.
TYPE_CHECKING = False

# bgrender's modules load from their bytecode without the path search (bytecode.py).
import sys as _sys  # noqa: E402  (built in, and already imported)

if _sys.implementation.name == "cpython":
    from bgrender import bytecode as _bytecode

    _bytecode.install()
