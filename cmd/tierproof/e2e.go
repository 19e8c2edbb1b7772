package main

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tierproof/tierproof/framework/cluster"
)

func newE2ECommand() *cobra.Command {
	var sysModule string
	cmd := &cobra.Command{
		Use:   "e2e",
		Short: "Boot kind + Antrea and play the walkthrough (today: the host checks only)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			fmt.Fprintln(cmd.ErrOrStderr(), "checking the host: Docker engine, openvswitch kernel module")
			if err := cluster.CheckDocker(cmd.Context()); err != nil {
				return err
			}
			if err := cluster.CheckOpenVSwitch(sysModule); err != nil {
				return err
			}
			return errors.New("the host is ready, but the kind/Antrea lifecycle is not implemented yet (see README): nothing was created")
		},
	}
	cmd.Flags().StringVar(&sysModule, "sys-module", "/sys/module", "where the kernel lists its loaded modules")
	_ = cmd.Flags().MarkHidden("sys-module")
	return cmd
}
