package cluster_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tierproof/tierproof/fixtures"
	"github.com/tierproof/tierproof/framework/cluster"
)

const manifest = "apiVersion: v1\nkind: Namespace\nmetadata: {name: kube-system}\n"

func sha(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// release serves manifest for v9.9.9 on loopback and counts downloads.
func release(t *testing.T, body string) (*httptest.Server, *atomic.Int32) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v9.9.9/antrea.yml" {
			http.NotFound(w, r)
			return
		}
		hits.Add(1)
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

func TestFetchVerifiesAndCaches(t *testing.T) {
	srv, hits := release(t, manifest)
	a := cluster.AntreaManifests{BaseURL: srv.URL, CacheDir: t.TempDir(), Checksums: map[string]string{"v9.9.9": sha(manifest)}}
	for i := 0; i < 2; i++ {
		data, err := a.Fetch(context.Background(), "v9.9.9", "")
		if err != nil || string(data) != manifest {
			t.Fatalf("fetch %d: %q, %v", i, data, err)
		}
	}
	if hits.Load() != 1 {
		t.Errorf("%d downloads, want 1 (the second fetch reads the cache)", hits.Load())
	}
	srv.Close()
	if _, err := a.Fetch(context.Background(), "v9.9.9", ""); err != nil {
		t.Errorf("cached manifest not used with the server gone: %v", err)
	}
}

func TestFetchRefusesATamperedManifest(t *testing.T) {
	srv, _ := release(t, manifest+"# injected\n")
	a := cluster.AntreaManifests{BaseURL: srv.URL, CacheDir: t.TempDir(), Checksums: map[string]string{"v9.9.9": sha(manifest)}}
	_, err := a.Fetch(context.Background(), "v9.9.9", "")
	if err == nil || !strings.Contains(err.Error(), "refusing to install it") || !strings.Contains(err.Error(), sha(manifest)) {
		t.Fatalf("error %v", err)
	}
}

func TestFetchNeedsARecordedOrGivenChecksum(t *testing.T) {
	srv, hits := release(t, manifest)
	a := cluster.AntreaManifests{BaseURL: srv.URL, CacheDir: t.TempDir(), Checksums: map[string]string{}}
	_, err := a.Fetch(context.Background(), "v9.9.9", "")
	if err == nil || !strings.Contains(err.Error(), "no sha256 recorded for Antrea v9.9.9") || !strings.Contains(err.Error(), "--antrea-manifest-sha256") || hits.Load() != 0 {
		t.Fatalf("error %v after %d downloads: want a refusal before downloading", err, hits.Load())
	}
	if _, err := a.Fetch(context.Background(), "v9.9.9", strings.ToUpper(sha(manifest))); err != nil {
		t.Fatalf("explicit checksum refused: %v", err)
	}
	if _, err := a.Fetch(context.Background(), "v1.0.0", sha(manifest)); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("missing release: %v", err)
	}
}

func TestRecordedChecksumsParse(t *testing.T) {
	if _, err := fixtures.AntreaChecksums(); err != nil {
		t.Fatal(err)
	}
}
