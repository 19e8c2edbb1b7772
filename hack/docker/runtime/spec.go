package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
)

// dropMissing rewrites an OCI config.json (or an exec's process.json) so
// that no capability set names a capability outside held. Everything else
// in the file is kept as it was: only the capability lists are touched.
func dropMissing(path string, held map[string]bool) error {
	data, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	out, changed, err := dropFromSpec(data, held)
	if err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	if !changed {
		return nil
	}
	return os.WriteFile(path, out, 0o600)
}

func dropFromSpec(data []byte, held map[string]bool) ([]byte, bool, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		return nil, false, err
	}
	// config.json holds the process under "process"; process.json is one.
	process := doc
	if p, ok := doc["process"].(map[string]any); ok {
		process = p
	}
	sets, ok := process["capabilities"].(map[string]any)
	if !ok {
		return data, false, nil
	}
	changed := false
	for name, v := range sets {
		list, ok := v.([]any)
		if !ok {
			continue
		}
		kept := []any{}
		for _, c := range list {
			if s, ok := c.(string); ok && !held[s] {
				changed = true
				continue
			}
			kept = append(kept, c)
		}
		sets[name] = kept
	}
	if !changed {
		return data, false, nil
	}
	out, err := json.Marshal(doc)
	return out, true, err
}
