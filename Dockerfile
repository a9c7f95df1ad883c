# The provider's image: a static binary and CA certificates on an empty filesystem, run as
# a non-root user (give it a read-only root filesystem; it writes nothing).
#
#   docker build -t provider-docker .            builds the binary in the builder stage
#   make image                                   uses a binary built on the host instead
#                                                (BINARY=prebuilt; the builder stage is skipped)

ARG BINARY=builder

FROM rust:1-bookworm AS builder
WORKDIR /src
COPY . .
RUN RUSTFLAGS="-C target-feature=+crt-static" \
      cargo build --release --locked --target x86_64-unknown-linux-gnu -p provider-docker \
 && mkdir -p /out \
 && cp target/x86_64-unknown-linux-gnu/release/provider-docker /etc/ssl/certs/ca-certificates.crt /out/

FROM scratch AS prebuilt
COPY out/ /out/

FROM ${BINARY} AS binary

FROM scratch AS runtime
COPY --from=binary /out/provider-docker /provider-docker
COPY --from=binary /out/ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
USER 65532:65532
ENTRYPOINT ["/provider-docker"]
CMD ["run"]
