package antrea_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tierproof/tierproof/fixtures"
	"github.com/tierproof/tierproof/framework/antrea"
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
	a := antrea.Manifests{BaseURL: srv.URL, CacheDir: t.TempDir(), Checksums: map[string]string{"v9.9.9": sha(manifest)}}
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
	a := antrea.Manifests{BaseURL: srv.URL, CacheDir: t.TempDir(), Checksums: map[string]string{"v9.9.9": sha(manifest)}}
	_, err := a.Fetch(context.Background(), "v9.9.9", "")
	if err == nil || !strings.Contains(err.Error(), "refusing to install it") || !strings.Contains(err.Error(), sha(manifest)) {
		t.Fatalf("error %v", err)
	}
}

// api serves GitHub's releases API for v9.9.9 on loopback, with digest as
// antrea.yml's, and counts lookups.
func api(t *testing.T, digest string) (*httptest.Server, *atomic.Int32) {
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/releases/tags/v9.9.9" {
			http.NotFound(w, r)
			return
		}
		hits.Add(1)
		fmt.Fprintf(w, `{"tag_name":"v9.9.9","assets":[{"name":"antrea-windows.yml","digest":"sha256:%s"},{"name":"antrea.yml","digest":%q}]}`, sha("other"), digest)
	}))
	t.Cleanup(srv.Close)
	return srv, &hits
}

// Without a recorded checksum, the digest GitHub computed at upload is the
// reference: logged with where it came from, cached, and still refused on a
// mismatch.
func TestFetchFallsBackToGitHubsAssetDigest(t *testing.T) {
	srv, downloads := release(t, manifest)
	apiSrv, lookups := api(t, "sha256:"+sha(manifest))
	var logged strings.Builder
	a := antrea.Manifests{BaseURL: srv.URL, API: apiSrv.URL + "/releases/tags", CacheDir: t.TempDir(), Checksums: map[string]string{},
		Logf: func(f string, args ...any) { fmt.Fprintf(&logged, f+"\n", args...) }}
	data, err := a.Fetch(context.Background(), "v9.9.9", "")
	if err != nil || string(data) != manifest {
		t.Fatalf("%q, %v", data, err)
	}
	if !strings.Contains(logged.String(), "Antrea v9.9.9 manifest: downloaded from "+srv.URL) || !strings.Contains(logged.String(), sha(manifest)) ||
		!strings.Contains(logged.String(), "GitHub's release asset digest from "+apiSrv.URL) {
		t.Errorf("the log does not say version, digest and source:\n%s", logged.String())
	}
	apiSrv.Close()
	srv.Close()
	logged.Reset()
	if _, err := a.Fetch(context.Background(), "v9.9.9", ""); err != nil || lookups.Load() != 1 || downloads.Load() != 1 {
		t.Fatalf("second fetch with both servers gone: %v (%d lookups, %d downloads): want the cached digest and manifest", err, lookups.Load(), downloads.Load())
	}
	if !strings.Contains(logged.String(), "cached in") {
		t.Errorf("the second fetch does not say it used the cache: %s", logged.String())
	}

	srv, _ = release(t, manifest+"# injected\n")
	apiSrv, _ = api(t, "sha256:"+sha(manifest))
	a = antrea.Manifests{BaseURL: srv.URL, API: apiSrv.URL + "/releases/tags", CacheDir: t.TempDir(), Checksums: map[string]string{}}
	if _, err := a.Fetch(context.Background(), "v9.9.9", ""); err == nil || !strings.Contains(err.Error(), "refusing to install it") ||
		!strings.Contains(err.Error(), "GitHub's release asset digest") {
		t.Errorf("a manifest that differs from GitHub's digest: %v", err)
	}
}

// A recorded checksum wins over GitHub's digest, and an explicit one over
// both: the API is not even asked.
func TestRecordedAndExplicitChecksumsWinOverTheAPI(t *testing.T) {
	srv, _ := release(t, manifest)
	apiSrv, lookups := api(t, "sha256:"+sha("something else"))
	a := antrea.Manifests{BaseURL: srv.URL, API: apiSrv.URL + "/releases/tags", CacheDir: t.TempDir(), Checksums: map[string]string{"v9.9.9": sha(manifest)}}
	if _, err := a.Fetch(context.Background(), "v9.9.9", ""); err != nil {
		t.Errorf("recorded checksum: %v", err)
	}
	a.Checksums = map[string]string{"v9.9.9": sha("recorded, but wrong")}
	if _, err := a.Fetch(context.Background(), "v9.9.9", strings.ToUpper(sha(manifest))); err != nil {
		t.Errorf("explicit checksum: %v", err)
	}
	if c, err := a.Checksum(context.Background(), "v9.9.9", ""); err != nil || c.SHA256 != sha("recorded, but wrong") || !strings.Contains(c.Source, "checksums.txt") {
		t.Errorf("recorded: %+v %v", c, err)
	}
	if lookups.Load() != 0 {
		t.Errorf("the API was asked %d times although a checksum was recorded or given", lookups.Load())
	}
	if _, err := a.Checksum(context.Background(), "v9.9.9", "abc"); err == nil || !strings.Contains(err.Error(), "not a sha256") {
		t.Errorf("a malformed explicit checksum: %v", err)
	}
}

func TestFetchRefusesWithoutAnyChecksumAndSaysWhatToType(t *testing.T) {
	srv, downloads := release(t, manifest)
	for _, c := range []struct{ name, digest, want string }{
		{"no API", "", "no releases API"},
		{"not sha256", "md5:abc", `digest "md5:abc", not a sha256`},
		{"API down", "down", "connection refused"},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := antrea.Manifests{BaseURL: srv.URL, CacheDir: t.TempDir(), Checksums: map[string]string{}, OverrideHint: "make e2e E2E_FLAGS=..."}
			switch c.digest {
			case "":
			case "down":
				a.API = "http://127.0.0.1:1"
			default:
				apiSrv, _ := api(t, c.digest)
				a.API = apiSrv.URL + "/releases/tags"
			}
			_, err := a.Fetch(context.Background(), "v9.9.9", "")
			if err == nil || !strings.Contains(err.Error(), "no sha256 for Antrea v9.9.9") || !strings.Contains(err.Error(), c.want) ||
				!strings.Contains(err.Error(), "make e2e E2E_FLAGS=...") {
				t.Errorf("error %v, want the cause %q and what to type", err, c.want)
			}
		})
	}
	if downloads.Load() != 0 {
		t.Errorf("%d downloads without a checksum to verify them against", downloads.Load())
	}
	a := antrea.Manifests{BaseURL: srv.URL, CacheDir: t.TempDir()}
	if _, err := a.Fetch(context.Background(), "v1.0.0", sha(manifest)); err == nil || !strings.Contains(err.Error(), "404") {
		t.Fatalf("missing release: %v", err)
	}
}

func TestRecordedChecksumsParse(t *testing.T) {
	if _, err := fixtures.AntreaChecksums(); err != nil {
		t.Fatal(err)
	}
}
