package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/spf13/cobra"

	"github.com/tierproof/tierproof/framework/toolsimage"
)

func newToolsImagesCommand() *cobra.Command {
	var o toolsimage.Options
	cmd := &cobra.Command{
		Use:   "tools-images",
		Short: "Build the images of pods' own network tools (Debian with ping, curl and nc; BusyBox alone) for -tierproof.prober=tools (root, debootstrap)",
		Long: `Builds ` + toolsimage.Debian + ` (Debian with iputils-ping, curl and
netcat-openbsd) and ` + toolsimage.BusyBox + ` (BusyBox alone) as image
archives in the cache, from debootstrap's root file systems, without a registry.
make e2e and the cluster tests load them into kind's nodes when probing with the
pods' own tools (-tierproof.prober=tools). Prints each archive.`,
		Example: `  sudo make tools-images
  sudo tierproof tools-images --mirror http://deb.debian.org/debian`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			o.Logf = func(format string, args ...any) { fmt.Fprintf(cmd.ErrOrStderr(), format+"\n", args...) }
			archives, err := toolsimage.Build(cmd.Context(), o)
			if err != nil {
				return err
			}
			tags := make([]string, 0, len(archives))
			for tag := range archives {
				tags = append(tags, tag)
			}
			sort.Strings(tags)
			for _, tag := range tags {
				fmt.Fprintf(cmd.OutOrStdout(), "%s %s\n", tag, archives[tag])
			}
			return nil
		},
	}
	cmd.Flags().StringVar(&o.CacheDir, "cache", imageCache(), "where root file systems and the images' archives are cached")
	cmd.Flags().StringVar(&o.Mirror, "mirror", toolsimage.DefaultMirror, "the Debian mirror debootstrap installs from")
	return cmd
}

// imageCache is where the node image, the tools images and their root file
// systems are cached.
func imageCache() string {
	cache, _ := os.UserCacheDir()
	return filepath.Join(cache, "tierproof", "node-image")
}
