# The bgrender sidecar for the Argo CD repo-server (see argocd-cm-patch/).
#   docker build -t registry.example.com/platform/bgrender:0.1.0 .
# The entrypoint binary is not in the image: the repo-server's copyutil initContainer
# puts Argo CD's own argocd-cmp-server into the shared var-files volume.

# Build: a venv with bgrender and its dependencies, compiled to bytecode.
FROM python:3.11-slim-bookworm AS build

WORKDIR /src
RUN python -m venv /opt/bgrender
COPY pyproject.toml README.md ./
COPY plugin ./plugin
# Not editable: the final image holds no source tree. unchecked-hash bytecode is used
# without comparing it to the source, which never changes in an image.
RUN /opt/bgrender/bin/pip install --no-cache-dir --disable-pip-version-check . \
    && /opt/bgrender/bin/python -m compileall -q -f --invalidation-mode unchecked-hash /opt/bgrender/lib

# Run: the same base (the venv points at its interpreter), the venv, plugin.yaml.
FROM python:3.11-slim-bookworm

# The root filesystem is read-only and UID 999 has no home: compile the standard
# library now, never write bytecode at run time, and let HOME be the sidecar's /tmp.
RUN python -m compileall -q -j 0 /usr/local/lib/python3.11
ENV PATH=/opt/bgrender/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp

COPY --from=build /opt/bgrender /opt/bgrender
COPY plugin.yaml /home/argocd/cmp-server/config/plugin.yaml

# The repo-server's UID: it must be able to connect to the plugin's socket.
USER 999
ENTRYPOINT ["/var/run/argocd/argocd-cmp-server"]
