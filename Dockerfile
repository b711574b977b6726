# Builds the single dvcwatch binary; pure Go (the SQLite driver needs no cgo).
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /out/dvcwatch ./cmd/dvcwatch

# The runtime image has no shell and no HTTP client, yet docker-compose.yml's
# healthchecks must GET /readyz: busybox's static (musl) binary, installed
# under the name wget, runs that applet and nothing else is added.
FROM busybox:1.37-musl AS wget

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=wget /bin/busybox /usr/local/bin/wget
COPY --from=build /out/dvcwatch /usr/local/bin/dvcwatch
# admin.listen in config/dvcwatch.compose.yaml; the simulator uses 8700.
EXPOSE 8080
ENTRYPOINT ["/usr/local/bin/dvcwatch"]
