package main

import (
	"strings"
	"testing"
)

// Every command shows examples in --help, and each one is real: its flags
// exist and, for the offline commands, it runs on this checkout as written
// (lint may report findings: that is its answer, not a usage error).
func TestEveryHelpExampleRuns(t *testing.T) {
	t.Chdir("../..") // examples are written for the repository root
	offline := map[string]bool{"simulate": true, "explain": true, "lint": true}
	for _, cmd := range newRootCommand().Commands() {
		if cmd.Hidden || cmd.Name() == "help" || cmd.Name() == "completion" {
			continue
		}
		t.Run(cmd.Name(), func(t *testing.T) {
			examples := exampleCommands(cmd.Example)
			if len(examples) == 0 {
				t.Fatalf("tierproof %s --help shows no example", cmd.Name())
			}
			for _, args := range examples {
				if args[0] != cmd.Name() {
					t.Errorf("an example of %s runs %q", cmd.Name(), args[0])
					continue
				}
				if !offline[cmd.Name()] {
					fresh, rest, err := newRootCommand().Find(args)
					if err == nil {
						err = fresh.ParseFlags(rest)
					}
					if err != nil {
						t.Errorf("example %q: %v", strings.Join(args, " "), err)
					}
					continue
				}
				out, err := run(t, args...)
				if err != nil && !(cmd.Name() == "lint" && strings.Contains(err.Error(), "findings at or above")) {
					t.Errorf("example %q: %v\n%s", strings.Join(args, " "), err, out)
				}
			}
		})
	}
}

// exampleCommands are the tierproof invocations of an Example text, without
// the program name (and a sudo, bin/ prefix or make step before it).
func exampleCommands(example string) [][]string {
	var out [][]string
	for _, line := range strings.Split(example, "\n") {
		line = strings.TrimSpace(line)
		if _, after, ok := strings.Cut(line, "&& "); ok {
			line = after
		}
		line = strings.TrimPrefix(line, "sudo ")
		fields := strings.Fields(line)
		if len(fields) < 2 || (fields[0] != "tierproof" && fields[0] != "bin/tierproof") {
			continue
		}
		out = append(out, fields[1:])
	}
	return out
}
