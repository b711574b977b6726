# Builds the single dvcwatch binary; pure Go (the SQLite driver needs no cgo).
FROM golang:1.26 AS build
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -trimpath -o /out/dvcwatch ./cmd/dvcwatch

FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=build /out/dvcwatch /usr/local/bin/dvcwatch
ENTRYPOINT ["/usr/local/bin/dvcwatch"]
