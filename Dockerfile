# The provider's container image. The runtime stage is completed by the Packaging issue:
# a static binary and CA certificates, non-root, read-only root filesystem.
FROM rust:1-bookworm AS builder
WORKDIR /src
COPY . .
RUN cargo build --release --locked -p provider-docker

FROM debian:bookworm-slim AS runtime
COPY --from=builder /src/target/release/provider-docker /usr/local/bin/provider-docker
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/provider-docker"]
