# perfgate for CI systems other than GitHub Actions, and for targets reachable
# over the network. It carries no toolchain for the API under test: A/B runs
# of a local build belong to the composite action (action.yml), which runs on
# the runner host next to the API. See docs/github.md.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

# git: the gate reads commits and pushes the baseline branch.
RUN apt-get update \
    && apt-get install -y --no-install-recommends git \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /opt/perfgate
COPY pyproject.toml README.md ./
COPY src ./src
# The package only: no test extras in the image.
RUN pip install . && rm -rf /opt/perfgate/src

RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin perfgate
USER perfgate
WORKDIR /work

ENTRYPOINT ["perfgate"]
CMD ["--help"]
