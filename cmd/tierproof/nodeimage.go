package main

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/cobra"

	"github.com/tierproof/tierproof/framework/nodeimage"
)

func newNodeImageCommand() *cobra.Command {
	var o nodeimage.Options
	var binaries string
	cmd := &cobra.Command{
		Use:   "node-image --binaries DIR",
		Short: "Build the kind node image for machines that reach no registry (root, Docker, debootstrap)",
		Long: `Builds ` + nodeimage.Tag + ` in the local Docker engine: a Debian root file
system, the Kubernetes binaries and every image the cluster runs, so that kind and
kubeadm pull nothing. The image and its root file systems are cached, keyed by their
inputs. make node-image builds the binaries and runs this.

On a machine with a registry this is not needed: make e2e pulls kindest/node.`,
		Example: `  make node-image
  tierproof node-image --binaries ~/.cache/tierproof/tools/node-v1.36.3`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Binaries = nodeimage.Binaries{
				Kubernetes: filepath.Join(binaries, "kubernetes"),
				Etcd:       filepath.Join(binaries, "etcd"),
				CoreDNS:    filepath.Join(binaries, "coredns"),
				KubeRouter: filepath.Join(binaries, "kube-router"),
				Pause:      filepath.Join(binaries, "pause"),
				Runtime:    filepath.Join(binaries, "runtime"),
				CNIPlugins: filepath.Join(binaries, "cni"),
			}
			if err := os.MkdirAll(o.CacheDir, 0o755); err != nil {
				return err
			}
			o.Logf = func(format string, args ...any) { fmt.Fprintf(cmd.ErrOrStderr(), format+"\n", args...) }
			tag, err := nodeimage.Build(cmd.Context(), o)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), tag)
			return nil
		},
	}
	cmd.Flags().StringVar(&binaries, "binaries", "", "the directory make node-binaries filled: kubernetes/, cni/, etcd, coredns, kube-router, pause, runtime")
	cmd.Flags().StringVar(&o.CacheDir, "cache", imageCache(), "where root file systems and the built image are cached")
	cmd.Flags().StringVar(&o.Mirror, "mirror", "http://deb.debian.org/debian", "the Debian mirror debootstrap installs from")
	_ = cmd.MarkFlagRequired("binaries")
	return cmd
}
