# authgate container image.
#
#   docker build -t authgate:local .                  # the runtime image (last stage)
#   docker build --target tests -t authgate:tests .   # the integration suite
#
# Stages:
#   build    Debian 12 with the build dependencies; compiles build/authgate.
#   tests    build + the integration test binary; run by the compose service
#            `tests` against a running stack (docker-compose run --rm tests).
#   runtime  debian:bookworm-slim with the runtime libraries only, the daemon
#            as a non-root user, FastCGI on 0.0.0.0:9000 (TCP between
#            containers), a FastCGI health check.
#
# Configuration is by environment only: AUTHGATE_* for the daemon's options
# (see `docker run --rm authgate:local --help`) and libpq's PG* variables for
# the database. The password never goes into the environment or the command
# line: mount it as a secret and name the file in AUTHGATE_DB_PASSWORD_FILE
# (--db-password-file; see docker-compose.yml). A .pgpass-format secret in
# PGPASSFILE works too (deploy/docker/entrypoint.sh).
#
# scripts/deploy-check.sh checks this file (multi-stage, non-root USER,
# HEALTHCHECK, no secrets in ENV/ARG, apt lists removed, ...).

# ---------------------------------------------------------------- build
FROM debian:bookworm AS build

# The full build dependency list of CMakeLists.txt: it configures the tests
# too (Criterion, libcurl, psql are REQUIRED there), even when only the
# daemon is built. libc6-dev is only a Recommends of gcc: named here.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      cmake gcc libc6-dev make pkg-config \
      libfcgi-dev libpq-dev libargon2-dev libssl-dev libcrypt-dev \
      libcriterion-dev libcurl4-openssl-dev postgresql-client \
 && rm -rf /var/lib/apt/lists/*

WORKDIR /src
# .dockerignore keeps build directories, .run/, .git/ and local secrets out.
COPY . .
RUN cmake -S . -B build -DCMAKE_BUILD_TYPE=Release \
 && cmake --build build --target authgate -j"$(nproc)" \
 && build/authgate version

# ---------------------------------------------------------------- tests
# Never deployed: the integration suite and what it needs to wait for the
# stack (curl). It runs as root because ctest writes under build/.
FROM build AS tests

RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends curl \
 && rm -rf /var/lib/apt/lists/*
RUN cmake --build build --target integration_tests -j"$(nproc)"
COPY deploy/docker/run-tests.sh /usr/local/bin/authgate-run-tests
CMD ["/usr/local/bin/authgate-run-tests"]

# ---------------------------------------------------------------- runtime
FROM debian:bookworm-slim AS runtime

# libpq5, libargon2-1, libssl3 (libcrypto) and libcrypt1 are what the daemon
# links; libfcgi-bin provides cgi-fcgi for the health check.
RUN apt-get update \
 && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends \
      libpq5 libargon2-1 libssl3 libcrypt1 libfcgi-bin \
 && rm -rf /var/lib/apt/lists/*

# A fixed, unprivileged uid/gid so that volume and secret permissions can be
# prepared on the host (chown 10001) and Kubernetes' runAsNonRoot can check it.
RUN groupadd --system --gid 10001 authgate \
 && useradd --system --uid 10001 --gid authgate --no-create-home \
      --home-dir /nonexistent --shell /usr/sbin/nologin authgate

COPY --from=build /src/build/authgate /usr/local/bin/authgate
COPY --from=build /src/sql/install.sql /usr/local/share/authgate/sql/install.sql
COPY deploy/docker/entrypoint.sh /usr/local/bin/authgate-entrypoint
COPY deploy/docker/healthcheck.sh /usr/local/bin/authgate-healthcheck

# TCP between containers. Plain-http demos also need
# AUTHGATE_COOKIE_SECURE=off (set in docker-compose.yml, not here: the image
# default stays secure).
ENV AUTHGATE_LISTEN=0.0.0.0:9000
EXPOSE 9000

USER 10001:10001

# The daemon speaks FastCGI, not HTTP: the check sends one FastCGI request
# (AUTHGATE_ENDPOINT=healthz) to the daemon's own socket with cgi-fcgi. It
# tests this container alone (the FastCGI listener, a free thread, the
# database), not nginx: a check through nginx would mark the daemon
# unhealthy when nginx is down, and nginx cannot be healthy before the
# daemon is (it resolves `authgate` at startup).
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["/usr/local/bin/authgate-healthcheck"]

# SIGTERM (Docker's default stop signal): stop accepting, finish the
# requests in progress, exit 0. The entrypoint execs the daemon, so it is
# PID 1 and receives the signal itself.
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/local/bin/authgate-entrypoint"]
# No arguments: serve. `docker run IMAGE version`, `... check-config`,
# `... --help` pass theirs to the daemon.
CMD []
