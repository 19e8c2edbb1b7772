package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/tierproof/tierproof/framework/agentimage"
	"github.com/tierproof/tierproof/framework/imagebuild"
)

func newAgentImageCommand() *cobra.Command {
	var binary, output, tag string
	cmd := &cobra.Command{
		Use:     "agent-image --binary bin/tierproof-agent --output agent.tar",
		Short:   "Build the probe agent's container image archive (no Docker daemon needed)",
		Example: `  make agent && tierproof agent-image --binary bin/tierproof-agent --output bin/tierproof-agent-image.tar`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			img, err := agentimage.Build(binary)
			if err != nil {
				return err
			}
			if err := imagebuild.WriteArchive(img, tag, output); err != nil {
				return err
			}
			digest, err := img.Digest()
			if err != nil {
				return err
			}
			fmt.Fprintf(cmd.OutOrStdout(), "wrote %s (%s, %s)\n", output, tag, digest)
			return nil
		},
	}
	cmd.Flags().StringVar(&binary, "binary", "bin/tierproof-agent", "the static agent binary (make agent)")
	cmd.Flags().StringVar(&output, "output", "bin/tierproof-agent-image.tar", "where to write the image archive")
	cmd.Flags().StringVar(&tag, "tag", agentimage.DefaultTag, "the image's tag")
	return cmd
}
