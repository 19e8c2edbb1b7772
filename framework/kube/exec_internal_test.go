package kube

import (
	"io"
	"strings"
	"testing"
	"time"

	"github.com/tierproof/tierproof/framework/agent"
)

// The agent's stdin ends only once its last line has come back, however
// the output is cut into writes; a command that never writes it is released
// when its exec ends (end) or is cancelled.
func TestStdinIsHeldUntilTheAgentsLastLine(t *testing.T) {
	out := `{"id":"0","outcome":"connected"}` + "\n" + agent.EndOfResults + "\n"
	for _, size := range []int{1, 3, 7, len(out)} {
		w := &endWatcher{release: make(chan struct{})}
		in := io.MultiReader(strings.NewReader("batch"), heldOpen{w.release, nil})
		got := make(chan string)
		go func() { b, _ := io.ReadAll(in); got <- string(b) }()
		for i := 0; i < len(out); i += size {
			select {
			case <-got:
				t.Fatalf("writes of %d: stdin ended after %q, before the last line", size, out[:i])
			case <-time.After(time.Millisecond):
			}
			// As client-go copies the stream: io.Copy, which prefers a ReadFrom.
			if _, err := io.Copy(w, strings.NewReader(out[i:min(i+size, len(out))])); err != nil {
				t.Fatal(err)
			}
		}
		select {
		case b := <-got:
			if b != "batch" {
				t.Errorf("stdin %q", b)
			}
		case <-time.After(time.Second):
			t.Fatalf("writes of %d: stdin still open after the last line", size)
		}
	}
	// A line that only contains the marker does not release it.
	w := &endWatcher{release: make(chan struct{})}
	w.Write([]byte(`{"detail":"x` + agent.EndOfResults + "\"}\n"))
	select {
	case <-w.release:
		t.Error("released by a line that is not the marker")
	default:
	}
	w.end()
	w.end() // the exec's end releases it, once
	if _, err := (heldOpen{w.release, nil}).Read(nil); err != io.EOF {
		t.Errorf("after end: %v", err)
	}
}
