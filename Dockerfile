# syntax=docker/dockerfile:1
# The Go services of madoguchi in one image (docker-compose.yml picks each service's command).
# Validated in the test command (docker-compose config), not built here: this project's machines have
# no Docker engine.

# Build: every command under cmd/, as production runs them (no test build tags).
FROM golang:1.26-bookworm AS build
WORKDIR /src
RUN apt-get update && apt-get install -y --no-install-recommends libpcsclite-dev && rm -rf /var/lib/apt/lists/*
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=1 go build -trimpath -o /out/ ./cmd/...

# Run: the binaries, SoftHSM2's PKCS#11 module for the Organization's two (a network HSM's module
# replaces it in production) with its token tool, PC/SC's client library for the card agent, and an unprivileged user.
FROM debian:bookworm-slim
RUN apt-get update && apt-get install -y --no-install-recommends ca-certificates softhsm2 libpcsclite1 \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --home /var/lib/madoguchi --create-home madoguchi
COPY --from=build /out/ /opt/madoguchi/bin/
COPY deploy/container/entrypoint.sh /opt/madoguchi/entrypoint.sh
# SoftHSM2's configuration: the tokens live in the caworker's volume (written here, not kept in git
# beside key material).
RUN mkdir -p /etc/madoguchi && printf '%s\n' 'directories.tokendir = /var/lib/madoguchi/tokens' \
    'objectstore.backend = file' 'log.level = ERROR' > /etc/madoguchi/softhsm2.conf
ENV PATH=/opt/madoguchi/bin:$PATH MADOGUCHI_STATE=/var/lib/madoguchi SOFTHSM2_CONF=/etc/madoguchi/softhsm2.conf \
    MADOGUCHI_PKCS11_MODULE=/usr/lib/softhsm/libsofthsm2.so MADOGUCHI_PKCS11_TOKEN=jlis
ENTRYPOINT ["/opt/madoguchi/entrypoint.sh"]
USER madoguchi
WORKDIR /var/lib/madoguchi
