//go:build tools

// Package composev2 pins docker compose's main package, so that `go mod tidy` keeps its
// dependencies in go.sum.
package composev2

import (
	_ "github.com/docker/compose/v5/cmd"
)
