package agent

import (
	"context"
	"errors"
	"os"
	"syscall"
)

// classify maps a socket error to an outcome. Antrea's Reject answers TCP with
// a reset (ECONNREFUSED) and everything else with ICMP "host administratively
// prohibited", which Linux reports as EHOSTUNREACH; port and network
// unreachables count as rejections too.
func classify(err error) (Outcome, string) {
	if err == nil {
		return Connected, ""
	}
	switch {
	case errors.Is(err, syscall.ECONNREFUSED):
		return Rejected, "connection refused (TCP reset or ICMP port unreachable)"
	case errors.Is(err, syscall.EHOSTUNREACH):
		return Rejected, "host unreachable (ICMP administratively prohibited or host unreachable)"
	case errors.Is(err, syscall.ENETUNREACH):
		return Rejected, "network unreachable (ICMP)"
	case errors.Is(err, syscall.EACCES), errors.Is(err, syscall.EPERM):
		return Rejected, "permission denied (ICMP administratively prohibited)"
	case errors.Is(err, os.ErrDeadlineExceeded), errors.Is(err, context.DeadlineExceeded):
		return Dropped, "timed out"
	}
	var ne interface{ Timeout() bool }
	if errors.As(err, &ne) && ne.Timeout() {
		return Dropped, "timed out"
	}
	return Error, err.Error()
}
