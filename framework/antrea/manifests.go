package antrea

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
)

// DefaultVersion is the release installed unless told otherwise.
const DefaultVersion = "v2.7.0"

// Releases is where Antrea's release manifests are downloaded from.
const Releases = "https://github.com/antrea-io/antrea/releases/download"

// maxManifestBytes bounds the download; antrea.yml is well under 1 MiB.
const maxManifestBytes = 16 << 20

// ReleaseAPI is GitHub's releases API for Antrea; each release asset's
// entry carries the sha256 GitHub computed when it was uploaded ("digest").
const ReleaseAPI = "https://api.github.com/repos/antrea-io/antrea/releases/tags"

// Manifests fetches release manifests, verifies them and caches them.
// The checksum a manifest must have comes, in this order, from an explicit
// override, the repository's record (fixtures/antrea/checksums.txt), or the
// digest GitHub publishes for the release asset (cached beside the manifest).
type Manifests struct {
	BaseURL   string            // Releases, or a mirror
	API       string            // ReleaseAPI, or a mirror; empty: no lookup
	CacheDir  string            // e.g. the user cache dir + "/tierproof"
	Checksums map[string]string // version → sha256
	// OverrideHint is what a user types to give the checksum, for messages,
	// e.g. make e2e E2E_FLAGS="-tierproof.antrea-manifest-sha256=<sha256>".
	OverrideHint string
	Client       *http.Client
	Logf         func(format string, args ...any)
}

// Checksum is the sha256 a manifest must have and where that came from.
type Checksum struct {
	SHA256 string
	Source string
}

// Fetch returns the manifest of version. sha256Override, when set, replaces
// the recorded checksum. A cached copy is used when it still matches.
func (a Manifests) Fetch(ctx context.Context, version, sha256Override string) ([]byte, error) {
	want, err := a.Checksum(ctx, version, sha256Override)
	if err != nil {
		return nil, err
	}
	cached := a.cachePath(version)
	if data, err := os.ReadFile(cached); err == nil && sum(data) == want.SHA256 {
		a.logf("Antrea %s manifest: %s, sha256 %s (%s)", version, cached, want.SHA256, want.Source)
		return data, nil
	}
	url := a.BaseURL + "/" + version + "/antrea.yml"
	data, err := a.get(ctx, url, maxManifestBytes)
	if err != nil {
		return nil, fmt.Errorf("downloading the Antrea %s manifest: %w (is %s a released version?)", version, err, version)
	}
	if got := sum(data); got != want.SHA256 {
		return nil, fmt.Errorf("the Antrea %s manifest from %s has sha256 %s, want %s (%s): refusing to install it", version, url, got, want.SHA256, want.Source)
	}
	if err := writeAtomically(cached, data); err != nil {
		return nil, fmt.Errorf("caching the Antrea manifest: %w", err)
	}
	a.logf("Antrea %s manifest: downloaded from %s, sha256 %s verified (%s), cached in %s", version, url, want.SHA256, want.Source, cached)
	return data, nil
}

// Checksum resolves the sha256 version's manifest must have.
func (a Manifests) Checksum(ctx context.Context, version, override string) (Checksum, error) {
	if override != "" {
		if !isSHA256(override) {
			return Checksum{}, fmt.Errorf("the Antrea manifest checksum %q is not a sha256 (64 hex digits)", override)
		}
		return Checksum{strings.ToLower(override), "given explicitly"}, nil
	}
	if s := a.Checksums[version]; s != "" {
		return Checksum{s, "recorded in fixtures/antrea/checksums.txt"}, nil
	}
	digestFile := a.cachePath(version) + ".sha256"
	if data, err := os.ReadFile(digestFile); err == nil && isSHA256(strings.TrimSpace(string(data))) {
		return Checksum{strings.TrimSpace(string(data)), "GitHub's release asset digest, cached in " + digestFile}, nil
	}
	if a.API == "" {
		return Checksum{}, a.noChecksum(version, errors.New("no releases API to ask"))
	}
	url := a.API + "/" + version
	body, err := a.get(ctx, url, 4<<20)
	if err != nil {
		return Checksum{}, a.noChecksum(version, err)
	}
	var release struct {
		Assets []struct {
			Name   string `json:"name"`
			Digest string `json:"digest"`
		} `json:"assets"`
	}
	if err := json.Unmarshal(body, &release); err != nil {
		return Checksum{}, a.noChecksum(version, fmt.Errorf("reading %s: %w", url, err))
	}
	for _, asset := range release.Assets {
		if asset.Name != "antrea.yml" {
			continue
		}
		hexDigest, ok := strings.CutPrefix(asset.Digest, "sha256:")
		if !ok || !isSHA256(hexDigest) {
			return Checksum{}, a.noChecksum(version, fmt.Errorf("%s gives antrea.yml the digest %q, not a sha256", url, asset.Digest))
		}
		hexDigest = strings.ToLower(hexDigest)
		if err := writeAtomically(digestFile, []byte(hexDigest+"\n")); err != nil {
			return Checksum{}, fmt.Errorf("caching the Antrea manifest's digest: %w", err)
		}
		return Checksum{hexDigest, "GitHub's release asset digest from " + url}, nil
	}
	return Checksum{}, a.noChecksum(version, fmt.Errorf("%s lists no antrea.yml asset", url))
}

func (a Manifests) noChecksum(version string, cause error) error {
	hint := a.OverrideHint
	if hint == "" {
		hint = "the checksum explicitly"
	}
	return fmt.Errorf("no sha256 for Antrea %s: fixtures/antrea/checksums.txt records none (it has: %s) and GitHub's releases API gave none (%v). "+
		"Download %s/%s/antrea.yml yourself, check it, and pass its sha256 with %s, or record it in fixtures/antrea/checksums.txt",
		version, listVersions(a.Checksums), cause, a.BaseURL, version, hint)
}

func (a Manifests) cachePath(version string) string {
	return filepath.Join(a.CacheDir, "antrea", version, "antrea.yml")
}

func (a Manifests) logf(format string, args ...any) {
	if a.Logf != nil {
		a.Logf(format, args...)
	}
}

// get downloads url, at most limit bytes. GitHub's API takes a token from
// GITHUB_TOKEN (CI runners have one) to lift its anonymous rate limit.
func (a Manifests) get(ctx context.Context, url string, limit int64) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return nil, err
	}
	if a.API != "" && strings.HasPrefix(url, a.API) {
		req.Header.Set("Accept", "application/vnd.github+json")
		if token := os.Getenv("GITHUB_TOKEN"); token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
	}
	client := a.Client
	if client == nil {
		client = http.DefaultClient
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("%s: %s", url, resp.Status)
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, limit))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", url, err)
	}
	return data, nil
}

func isSHA256(s string) bool {
	if len(s) != 64 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil
}

func sum(data []byte) string {
	s := sha256.Sum256(data)
	return hex.EncodeToString(s[:])
}

func listVersions(sums map[string]string) string {
	if len(sums) == 0 {
		return "none"
	}
	var versions []string
	for v := range sums {
		versions = append(versions, v)
	}
	sort.Strings(versions)
	return strings.Join(versions, ", ")
}

func writeAtomically(path string, data []byte) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".antrea-*.yml")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
