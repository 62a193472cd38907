"""The one error of the harness."""


class CmpError(Exception):
    """A request failed; the message is what Argo CD shows after `error generating manifests: `."""
