//go:build tools

// Package tools pins gotestsum in this module's go.mod and go.sum.
package tools

import _ "gotest.tools/gotestsum"
