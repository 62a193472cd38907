# The bgrender sidecar for the Argo CD repo-server (see argocd-cm-patch/).
#   docker build -t registry.example.com/platform/bgrender:0.1.0 .
# The entrypoint binary is not in the image: the repo-server's copyutil initContainer
# puts Argo CD's own argocd-cmp-server into the shared var-files volume.
#
# Both stages use one base, pinned by the digest of its multi-arch index: the tag alone
# could move under a rebuild. The digest is python:3.11-slim-bookworm's index of the
# 2026-08-25 builds, as docker-library/repo-info records it
# (repos/python/remote/3.11-slim-bookworm.md). Let Renovate or Dependabot refresh it: both
# read `tag@digest` in FROM.

# Build: a venv with bgrender and its dependencies, compiled to bytecode.
# python:3.11-slim-bookworm
FROM python:3.11-slim-bookworm@sha256:0bee7276f83efd4a1ee05bbbf4281d95ed28e079220a9457f25a93e3f1e3c31b AS build

WORKDIR /src
# No pip in the venv: the base image's pip installs into it from outside (--python), so the
# image never carries an installer (nor its setuptools) next to the plugin.
RUN python -m venv --without-pip /opt/bgrender
COPY pyproject.toml README.md LICENSE ./
COPY plugin ./plugin
# Plain bgrender, without the `cluster` extra: the sidecar only renders and never imports the
# Kubernetes client. Not editable: the final image holds no source tree. unchecked-hash
# bytecode is used without comparing it to the source, which never changes in an image.
RUN python -m pip --python /opt/bgrender/bin/python install --no-cache-dir --disable-pip-version-check . \
    && /opt/bgrender/bin/python -m compileall -q -f --invalidation-mode unchecked-hash /opt/bgrender/lib
# pip's console script imports `re` only to rename argv[0] on Windows: about a tenth of a render.
COPY image/bgrender /opt/bgrender/bin/bgrender

# Run: the same base (the venv points at its interpreter), the venv, plugin.yaml.
# python:3.11-slim-bookworm
FROM python:3.11-slim-bookworm@sha256:0bee7276f83efd4a1ee05bbbf4281d95ed28e079220a9457f25a93e3f1e3c31b

ARG VERSION=0.1.0
ARG SOURCE=https://github.com/bgrender/bgrender
LABEL org.opencontainers.image.title="bgrender" \
      org.opencontainers.image.description="Argo CD Config Management Plugin sidecar: blue/green releases for Argo CD and Istio from one bluegreen.yaml" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.source="${SOURCE}" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.base.name="docker.io/library/python:3.11-slim-bookworm"

# The base's own pip, setuptools and wheel go too (bgrender's venv never uses them; scanners
# would report them). The root filesystem is read-only and UID 999 has no home: compile the
# standard library now, never write bytecode at run time, and let HOME be the sidecar's /tmp.
RUN rm -rf /usr/local/bin/pip* /usr/local/bin/wheel /usr/local/lib/python3.11/ensurepip/_bundled \
           /usr/local/lib/python3.11/site-packages/pip* /usr/local/lib/python3.11/site-packages/setuptools* \
           /usr/local/lib/python3.11/site-packages/_distutils_hack \
           /usr/local/lib/python3.11/site-packages/distutils-precedence.pth \
           /usr/local/lib/python3.11/site-packages/pkg_resources /usr/local/lib/python3.11/site-packages/wheel* \
    && python -m compileall -q -j 0 /usr/local/lib/python3.11
ENV PATH=/opt/bgrender/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp

COPY --from=build /opt/bgrender /opt/bgrender
COPY plugin.yaml /home/argocd/cmp-server/config/plugin.yaml

# The repo-server's UID: it must be able to connect to the plugin's socket.
USER 999
ENTRYPOINT ["/var/run/argocd/argocd-cmp-server"]
