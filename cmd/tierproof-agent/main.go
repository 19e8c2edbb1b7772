// Command tierproof-agent runs inside every fixture pod (as a sidecar sharing
// the pod's network namespace) and on external hosts.
//
//	tierproof-agent serve --tcp 22,80 --udp 53 --sctp 80
//	tierproof-agent probe < batch.json    # one JSON result per line on stdout
//	tierproof-agent route 10.10.1.0/24 172.18.0.3
package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/tierproof/tierproof/framework/agent"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := newCommand().ExecuteContext(ctx); err != nil {
		fmt.Fprintln(os.Stderr, "tierproof-agent:", err)
		os.Exit(1)
	}
}

func newCommand() *cobra.Command {
	root := &cobra.Command{Use: "tierproof-agent", Short: "tierproof's in-pod probe agent", SilenceUsage: true, SilenceErrors: true}
	var tcp, udp, sctp string
	serve := &cobra.Command{
		Use:   "serve --tcp PORTS --udp PORTS --sctp PORTS",
		Short: "Listen on the probed ports until stopped",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			var ports agent.Ports
			var err error
			if ports.TCP, err = parsePorts("--tcp", tcp); err != nil {
				return err
			}
			if ports.UDP, err = parsePorts("--udp", udp); err != nil {
				return err
			}
			if ports.SCTP, err = parsePorts("--sctp", sctp); err != nil {
				return err
			}
			logger := log.New(cmd.ErrOrStderr(), "tierproof-agent: ", log.LstdFlags)
			return agent.Serve(cmd.Context(), ports, logger.Printf)
		},
	}
	serve.Flags().StringVar(&tcp, "tcp", "", "comma-separated TCP ports")
	serve.Flags().StringVar(&udp, "udp", "", "comma-separated UDP ports")
	serve.Flags().StringVar(&sctp, "sctp", "", "comma-separated SCTP ports")

	probe := &cobra.Command{
		Use:   "probe",
		Short: "Run a batch of probes read as JSON on stdin; write one JSON result per line",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			// One batch, then the rest of stdin is only waited for: the
			// client closes it once it has every result (agent.EndOfResults).
			var batch agent.Batch
			dec := json.NewDecoder(cmd.InOrStdin())
			dec.DisallowUnknownFields()
			if err := dec.Decode(&batch); err != nil {
				return fmt.Errorf("decoding the batch: %w", err)
			}
			out := json.NewEncoder(cmd.OutOrStdout())
			var writeErr error
			agent.Run(cmd.Context(), batch, func(r agent.Result) {
				if err := out.Encode(r); err != nil && writeErr == nil {
					writeErr = err
				}
			})
			if writeErr != nil {
				return writeErr
			}
			if _, err := fmt.Fprintln(cmd.OutOrStdout(), agent.EndOfResults); err != nil {
				return err
			}
			eof := make(chan struct{})
			go func() { io.Copy(io.Discard, dec.Buffered()); io.Copy(io.Discard, cmd.InOrStdin()); close(eof) }()
			select {
			case <-eof:
			case <-time.After(agent.HoldForEOF):
			case <-cmd.Context().Done():
			}
			return nil
		},
	}
	route := &cobra.Command{
		Use:   "route CIDR GATEWAY",
		Short: "Route CIDR via GATEWAY in this network namespace (external hosts reach pod CIDRs through their nodes)",
		Args:  cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error {
			return agent.AddRoute(args[0], args[1])
		},
	}
	ephemeral := &cobra.Command{
		Use:   "ephemeral-ports",
		Short: "Print the client port range of this network namespace (net.ipv4.ip_local_port_range): FROM TO",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			from, to, err := agent.EphemeralPorts()
			if err != nil {
				return err
			}
			_, err = fmt.Fprintf(cmd.OutOrStdout(), "%d %d\n", from, to)
			return err
		},
	}
	root.AddCommand(serve, probe, route, ephemeral)
	return root
}

func parsePorts(flag, list string) ([]int, error) {
	var ports []int
	for _, field := range strings.Split(list, ",") {
		if field = strings.TrimSpace(field); field == "" {
			continue
		}
		p, err := strconv.Atoi(field)
		if err != nil || p < 1 || p > 65535 {
			return nil, fmt.Errorf("%s: %q is not a port", flag, field)
		}
		ports = append(ports, p)
	}
	return ports, nil
}
