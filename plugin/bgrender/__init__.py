"""bgrender: blue/green releases for Argo CD and Istio from one bluegreen.yaml."""

__version__ = "0.1.0"
