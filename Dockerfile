# syntax=docker/dockerfile:1
#
# The credit-batch lineage explorer as a small, static, non-root image.
#
#   docker build -t lineage-explorer .
#   docker run --rm -p 8080:8080 lineage-explorer                      # built-in demo registry
#   docker run --rm -p 8080:8080 -e ISOMETRIC_ACCESS_TOKEN -e ISOMETRIC_CLIENT_SECRET lineage-explorer
#
# The generated templ files (views/*_templ.go) are committed, so the build needs only Go.

FROM golang:1.26-bookworm AS build
WORKDIR /src
# Modules first, so that a source change does not download them again.
COPY go.mod go.sum ./
RUN go mod download
# Only what the binary is built from: no .git, no local files.
COPY main.go config.go ./
COPY handlers/ handlers/
COPY views/ views/
COPY registry/ registry/
COPY static/ static/
RUN CGO_ENABLED=0 GOOS=linux go build -trimpath -ldflags="-s -w" -o /out/explorer .

# distroless/static: CA certificates (the registry is HTTPS) and tzdata, no shell, no package
# manager; the nonroot variant runs as uid 65532.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/explorer /explorer
USER nonroot:nonroot
ENV PORT=8080
# The history journal (SQLite) lives here; mount a volume on it to keep history across restarts.
ENV DATA_DIR=/home/nonroot/data
EXPOSE 8080
# No curl in the image: the binary checks its own /healthz on PORT.
HEALTHCHECK --interval=30s --timeout=5s --start-period=15s --retries=3 CMD ["/explorer", "healthcheck"]
ENTRYPOINT ["/explorer"]
