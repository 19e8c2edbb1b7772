//go:build tools

// Package tools pins kwok in this module's go.mod and go.sum.
package tools

import _ "sigs.k8s.io/kwok/cmd/kwok"
