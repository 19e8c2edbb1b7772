package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// defaultMaxInputMiB caps each input file: a policy set of 100 000 ACNPs is
// about 30 MiB; a file far larger is more likely a mistake than a policy set.
const defaultMaxInputMiB = 64

// checkInputs refuses, before anything is read, an input that is not a
// regular file (a FIFO blocks, /dev/zero never ends) or is larger than
// maxMiB: each file given, and each file under a directory given.
func checkInputs(maxMiB int64, paths ...string) error {
	limit := maxMiB << 20
	for _, path := range paths {
		if path == "" {
			continue
		}
		err := filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
			if errors.Is(err, fs.ErrNotExist) && p == path {
				return nil // the loader says what is missing, as it always has
			}
			if err != nil {
				return err
			}
			if d.IsDir() {
				return nil
			}
			info, err := os.Stat(p) // through a link, to what is read
			if err != nil {
				return err
			}
			switch {
			case !info.Mode().IsRegular():
				return fmt.Errorf("%s is not a regular file (%v): tierproof reads its inputs from files", p, info.Mode().Type())
			case info.Size() > limit:
				return fmt.Errorf("%s is %.1f MiB, over the %d MiB cap on an input file: --max-input-mib raises it", p, float64(info.Size())/(1<<20), maxMiB)
			}
			return nil
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// interruptible writes to w until ctx is done, then fails every write: an
// interrupted command stops writing instead of finishing its output.
type interruptible struct {
	ctx context.Context
	w   io.Writer
}

func (i interruptible) Write(p []byte) (int, error) {
	if err := i.ctx.Err(); err != nil {
		return 0, fmt.Errorf("output stopped: %w", err)
	}
	return i.w.Write(p)
}
