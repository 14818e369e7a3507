# The ferry host as a container image: built from this checkout, run as the non-root user ferry.
#
#   docker build -t ferry .
#   docker run -d -p 8080:8080 -v ferry-state:/var/lib/ferry -e FERRY_MASTER_KEY="$(ferry keygen)" ferry
#
# The configuration is /etc/ferry/ferry.toml (packaging/ferry.toml: SQLite in /var/lib/ferry, no tenants);
# mount your own over it, or set FERRY_* variables (FERRY_DATABASE_URL=postgres://… for several hosts).
# The master key comes from FERRY_MASTER_KEY, or a key file mounted at /etc/ferry/master.key.

# --- build -------------------------------------------------------------------------------------------------
FROM rust:1.95-slim-bookworm AS builder
WORKDIR /src
COPY . .
# Cache mounts keep the registry and the target directory between builds (BuildKit).
RUN --mount=type=cache,target=/usr/local/cargo/registry \
    --mount=type=cache,target=/src/target \
    cargo build --release --locked -p ferry \
    && install -m 0755 target/release/ferry /usr/local/bin/ferry

# --- run ---------------------------------------------------------------------------------------------------
FROM debian:bookworm-slim
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && useradd --system --user-group --home-dir /var/lib/ferry --shell /usr/sbin/nologin ferry \
    && install -d -o ferry -g ferry -m 0750 /var/lib/ferry
COPY --from=builder /usr/local/bin/ferry /usr/bin/ferry
COPY packaging/ferry.toml /etc/ferry/ferry.toml
USER ferry
WORKDIR /var/lib/ferry
# In a container the host listens on every interface; the store and plugin cache live in the volume.
ENV FERRY_LISTEN=0.0.0.0:8080 \
    FERRY_DATABASE=/var/lib/ferry/ferry.db
VOLUME /var/lib/ferry
EXPOSE 8080
# /readyz: 200 while the store answers and its schema is current (bash's /dev/tcp: no curl in the image).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/8080 && printf 'GET /readyz HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && head -n1 <&3 | grep -q ' 200 '"]
STOPSIGNAL SIGTERM
ENTRYPOINT ["/usr/bin/ferry"]
CMD ["serve", "-c", "/etc/ferry/ferry.toml"]
