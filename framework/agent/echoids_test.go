package agent

import (
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// Batches one after another, or at once, get echo IDs no other batch of the
// container got: conntrack would take a reused ID for an echo it has seen.
func TestEachBatchReservesEchoIDsOfItsOwn(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ids")
	if err := os.WriteFile(path, []byte("65530\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	first, err := reserveInFile(path, 10)
	if err != nil || first != 65530 {
		t.Fatalf("first batch: %d, %v; want 65530", first, err)
	}
	second, err := reserveInFile(path, 5)
	if err != nil || second != 4 {
		t.Fatalf("second batch: %d, %v; want 4 (the first took 65530 to 65535 and 0 to 3)", second, err)
	}

	used := map[uint32]bool{}
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range 20 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			first, err := reserveInFile(path, 150)
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			for id := range uint32(150) {
				if used[(first+id)&0xffff] {
					t.Errorf("echo ID %d handed out twice", (first+id)&0xffff)
				}
				used[(first+id)&0xffff] = true
			}
		}()
	}
	wg.Wait()
}

func TestAnUnusableFileLeavesARandomStartAndSaysWhy(t *testing.T) {
	old := echoIDFile
	t.Cleanup(func() { echoIDFile = old })
	notADir := filepath.Join(t.TempDir(), "file")
	if err := os.WriteFile(notADir, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	echoIDFile = filepath.Join(notADir, "ids")
	if _, note := reserveEchoIDs(3); note == "" {
		t.Error("no note for IDs that were not reserved")
	}
}
