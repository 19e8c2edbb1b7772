// Package imagebuild makes container images from files with
// go-containerregistry, without a Docker daemon or a registry: the agent's
// image and the images of the local kind node image are built this way.
// Layers are reproducible: fixed timestamps and owners, sorted entries.
package imagebuild

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"debug/elf"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
)

// Epoch is every entry's and image's timestamp, so that the same inputs give
// the same digests.
var Epoch = time.Unix(0, 0)

// File is one regular file of a layer, its content Data or else the file at
// Source; or, with Link set, a symbolic link to Link.
type File struct {
	Path   string // absolute path in the image
	Mode   int64
	Data   []byte
	Source string
	Link   string
}

// Layer makes a layer of files and their parent directories, held in memory.
func Layer(files []File) (v1.Layer, error) {
	sorted := append([]File(nil), files...)
	sort.Slice(sorted, func(i, j int) bool { return sorted[i].Path < sorted[j].Path })
	var archive bytes.Buffer
	tw := tar.NewWriter(&archive)
	written := map[string]bool{}
	for _, f := range sorted {
		if !path.IsAbs(f.Path) {
			return nil, fmt.Errorf("image file %q: the path must be absolute", f.Path)
		}
		// Directories first, or an unpacker creating them gives them its own modes.
		var dirs []string
		for d := path.Dir(f.Path); d != "/"; d = path.Dir(d) {
			dirs = append([]string{d}, dirs...)
		}
		for _, d := range dirs {
			if !written[d] {
				written[d] = true
				if err := tw.WriteHeader(&tar.Header{Name: d[1:] + "/", Mode: 0o755, ModTime: Epoch, Typeflag: tar.TypeDir}); err != nil {
					return nil, err
				}
			}
		}
		if err := writeFile(tw, f); err != nil {
			return nil, fmt.Errorf("image file %s: %w", f.Path, err)
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	data := archive.Bytes()
	return tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil },
		tarball.WithCompressionLevel(gzip.BestSpeed))
}

func writeFile(tw *tar.Writer, f File) error {
	if f.Link != "" {
		return tw.WriteHeader(&tar.Header{Name: f.Path[1:], Mode: 0o777, Linkname: f.Link, ModTime: Epoch, Typeflag: tar.TypeSymlink})
	}
	var content io.Reader = strings.NewReader(string(f.Data))
	size := int64(len(f.Data))
	if f.Source != "" {
		in, err := os.Open(f.Source)
		if err != nil {
			return err
		}
		defer in.Close()
		st, err := in.Stat()
		if err != nil {
			return err
		}
		content, size = in, st.Size()
	}
	if err := tw.WriteHeader(&tar.Header{Name: f.Path[1:], Mode: f.Mode, Size: size, ModTime: Epoch, Typeflag: tar.TypeReg}); err != nil {
		return err
	}
	_, err := io.Copy(tw, content)
	return err
}

// TarLayer opens an uncompressed layer archive (a root file system made by
// tar, say); it is compressed, quickly, as it is written out.
func TarLayer(archive string) (v1.Layer, error) {
	layer, err := tarball.LayerFromFile(archive, tarball.WithCompressionLevel(gzip.BestSpeed))
	if err != nil {
		return nil, fmt.Errorf("layer %s: %w", archive, err)
	}
	return layer, nil
}

// Image stacks layers into an image for linux/arch with config cfg.
func Image(arch string, cfg v1.Config, layers ...v1.Layer) (v1.Image, error) {
	img := empty.Image
	for _, l := range layers {
		var err error
		if img, err = mutate.Append(img, mutate.Addendum{Layer: l, History: v1.History{CreatedBy: "tierproof imagebuild", Created: v1.Time{Time: Epoch}}}); err != nil {
			return nil, err
		}
	}
	file, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	file = file.DeepCopy()
	file.Architecture, file.OS = arch, "linux"
	file.Created = v1.Time{Time: Epoch}
	file.Config = cfg
	return mutate.ConfigFile(img, file)
}

// WriteArchive writes img as a `docker save`-style archive tagged tag, the
// format `docker load`, `ctr images import` and kind's image loading take.
func WriteArchive(img v1.Image, tag, archive string) error {
	ref, err := name.NewTag(tag)
	if err != nil {
		return fmt.Errorf("image tag %q: %w", tag, err)
	}
	if err := tarball.WriteToFile(archive, ref, img); err != nil {
		return fmt.Errorf("writing %s: %w", archive, err)
	}
	return nil
}

// goarchOf maps ELF machines to the GOARCH names images use.
var goarchOf = map[elf.Machine]string{
	elf.EM_X86_64:  "amd64",
	elf.EM_AARCH64: "arm64",
	elf.EM_386:     "386",
	elf.EM_ARM:     "arm",
	elf.EM_PPC64:   "ppc64le",
	elf.EM_S390:    "s390x",
	elf.EM_RISCV:   "riscv64",
}

// Architecture is the architecture a Linux ELF binary was built for, as an
// image's config names it; anything else is refused, as no node could run it.
func Architecture(path string) (string, error) {
	f, err := elf.Open(path)
	if err != nil {
		return "", fmt.Errorf("%s is not a Linux executable (%w)", path, err)
	}
	defer f.Close()
	arch, ok := goarchOf[f.Machine]
	if f.Machine == elf.EM_PPC64 && f.ByteOrder == binary.BigEndian {
		arch = "ppc64"
	}
	if !ok {
		return "", fmt.Errorf("%s is built for %s, which tierproof cannot name as an image architecture", path, f.Machine)
	}
	return arch, nil
}
