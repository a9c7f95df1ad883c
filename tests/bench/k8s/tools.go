//go:build tools

// Package k8s pins the control-plane commands the bench builds, so that
// `go mod tidy` keeps their dependencies in go.sum.
package k8s

import (
	_ "go.etcd.io/etcd/server/v3"
	_ "k8s.io/kubernetes/cmd/kube-apiserver"
	_ "k8s.io/kubernetes/cmd/kube-controller-manager"
	_ "k8s.io/kubernetes/cmd/kubectl"
)
