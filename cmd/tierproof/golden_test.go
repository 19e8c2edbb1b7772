package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tierproof/tierproof/framework/golden"
)

// The offline commands' outputs are pinned byte for byte: simulate (text and
// JSON), explain, lint (text and JSON) and the messages of refused input.
// Each case's file holds the output and, last, the error the command returned.
func TestOfflineOutputsAreGolden(t *testing.T) {
	const shop = "../../examples/shop"
	const catalog = "../../scenarios/conformance"
	const cnpExamples = "../../examples/cluster-network-policy"
	cases := []struct {
		name string
		args []string
	}{
		{"simulate-blog.txt", []string{"simulate", "--scenario", blogStages}},
		{"simulate-blog-isolate.json", []string{"simulate", "--topology", blogTopology, "--policies", blogStages + "/01-isolate-environments", "--probe", "tcp/80", "--probe", "icmp", "--output", "json"}},
		{"simulate-catalog.txt", []string{"simulate", "--catalog", catalog}},
		{"explain-blog-block-all.txt", []string{"explain", "--scenario", blogStages, "--stage", "block-all", "--from", "test-app/ubuntu-16-04", "--to", "prod-app/ubuntu-16-04", "--probe", "tcp/22"}},
		{"explain-blog-yelb.txt", []string{"explain", "--scenario", blogStages, "--from", "yelb/yelb-ui", "--to", "yelb/yelb-appserver", "--probe", "tcp/4567"}},
		{"explain-catalog-drop.txt", []string{"explain", "--catalog", catalog, "--case", "drop-is-silent", "--from", "x/a", "--to", "y/b", "--probe", "udp/80"}},
		{"lint-blog.txt", []string{"lint", "--scenario", blogStages}},
		{"lint-blog.json", []string{"lint", "--scenario", blogStages, "--output", "json", "--fail-on", "none"}},
		{"lint-block-all.txt", []string{"lint", "--topology", blogTopology, "--policies", blogStages + "/03-block-all"}},
		{"error-unknown-endpoint.txt", []string{"explain", "--scenario", blogStages, "--from", "nowhere/x", "--to", "prod-app/ubuntu-16-04"}},
		{"error-bad-probe.txt", []string{"simulate", "--topology", xyzTopology, "--probe", "tcp/99999"}},
		{"simulate-shop.txt", []string{"simulate", "--scenario", shop}},
		{"diff-blog-block-all.txt", []string{"diff", "--scenario", blogStages, "--stage", "block-all"}},
		{"diff-blog-block-all.md", []string{"diff", "--scenario", blogStages, "--stage", "block-all", "--output", "markdown"}},
		{"diff-blog-yelb.txt", []string{"diff", "--scenario", blogStages, "--stage", "yelb-microsegmentation"}},
		{"diff-blog-ssh.json", []string{"diff", "--topology", blogTopology, "--before", blogStages + "/01-isolate-environments", "--before", blogStages + "/02-allow-core-dns",
			"--after", blogStages + "/01-isolate-environments", "--after", blogStages + "/02-allow-core-dns", "--after", blogStages + "/03-block-all", "--probe", "tcp/22", "-o", "json"}},
		{"lint-shop.txt", []string{"lint", "--scenario", shop}},
		{"simulate-cnp-admin-doc.txt", []string{"simulate", "--topology", cnpExamples + "/topology.yaml", "--policies", cnpExamples + "/admin-deny.yaml"}},
		{"simulate-cnp-baseline-pass-spec.json", []string{"simulate", "--topology", cnpExamples + "/topology.yaml", "--policies", cnpExamples + "/baseline-pass.yaml", "--semantics", "spec", "-o", "json"}},
		{"error-cnp-baseline-pass-antrea.txt", []string{"simulate", "--topology", cnpExamples + "/topology.yaml", "--policies", cnpExamples + "/baseline-pass.yaml"}},
		{"explain-catalog-admin-pass.txt", []string{"explain", "--catalog", catalog, "--case", "admin-pass-skips-application-tier", "--from", "x/a", "--to", "y/a"}},
		{"explain-shop-fraud-check.txt", []string{"explain", "--scenario", shop, "--from", "shop/checkout-0", "--to", "payments/fraud-check-0", "--probe", "tcp/8000"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := run(t, c.args...)
			out = strings.ReplaceAll(out, filepath.Clean(blogStages), "BLOG")
			out = strings.ReplaceAll(out, filepath.Clean(shop), "SHOP")
			golden.Check(t, filepath.Join("testdata", c.name), fmt.Appendf(nil, "%s\n--- error: %v\n", out, err))
		})
	}
}
