# perfgate for CI systems other than GitHub Actions, and for targets reachable
# over the network. It carries no toolchain for the API under test: A/B runs
# of a local build belong to the composite action (action.yml), which runs on
# the runner host next to the API. See docs/github.md ("The Docker image") for
# the command: your checkout mounted at /work, run as your own uid, host network.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HOME=/tmp

# git: the gate reads commits and pushes the baseline branch. The checkout is
# mounted at /work and belongs to the host user: trust it, or git refuses it
# ("dubious ownership") and the run has no commit, branch or baseline.
RUN apt-get update \
    && apt-get install -y --no-install-recommends git \
    && rm -rf /var/lib/apt/lists/* \
    && git config --system --add safe.directory /work

WORKDIR /opt/perfgate
COPY pyproject.toml README.md requirements.lock ./
COPY src ./src
# The package only (no test extras), at the exact versions of the lock file.
RUN pip install -c requirements.lock . && rm -rf /opt/perfgate/src

# Default user when no --user is given; run with --user "$(id -u):$(id -g)" so
# the reports and the database land in /work owned by you (HOME=/tmp above is
# writable for any uid).
RUN useradd --create-home --uid 10001 --shell /usr/sbin/nologin perfgate
USER perfgate
WORKDIR /work

ENTRYPOINT ["perfgate"]
CMD ["--help"]
