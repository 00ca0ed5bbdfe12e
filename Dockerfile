# toolwire serve: REST + MCP on 8000, gRPC on 50051, as a non-root user.
# Build: docker build -t toolwire .   Run: see deploy/compose.yaml and deploy/k8s/.
FROM python:3.11.7-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
# the checked-out source itself (its dependencies are bounded in pyproject.toml)
# hadolint ignore=DL3013
RUN pip install --no-cache-dir ".[serve,grpc,mcp,redis,http]" \
    && useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin toolwire

COPY deploy/toolwire.toml /etc/toolwire/toolwire.toml

USER 10001
EXPOSE 8000 50051

# liveness: the process answers HTTP (readiness, /readyz, is the orchestrator's probe: it
# turns 503 when Redis is unreachable and while the server drains on SIGTERM)
HEALTHCHECK --interval=10s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]

# SIGTERM drains: /readyz 503, then up to shutdown_grace seconds for calls in flight
STOPSIGNAL SIGTERM
ENTRYPOINT ["toolwire", "serve"]
CMD ["--config", "/etc/toolwire/toolwire.toml", "--host", "0.0.0.0", "--port", "8000", "--grpc-port", "50051"]
