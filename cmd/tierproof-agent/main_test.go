package main

import (
	"bytes"
	"io"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tierproof/tierproof/framework/agent"
)

// probe writes its results, then agent.EndOfResults, and ends when its stdin
// does: at once for a client that closed it with the batch, or only once a
// client holding it open closes it.
func TestProbeEndsWhenItsStdinDoes(t *testing.T) {
	batch := `{"timeout":"100ms","deadline":"2s","requests":[{"id":"0","ip":"127.0.0.1","protocol":"TCP","port":1}]}`
	closed := newCommand()
	closed.SetArgs([]string{"probe"})
	closed.SetIn(strings.NewReader(batch))
	closed.SetOut(io.Discard)
	start := time.Now()
	if err := closed.Execute(); err != nil || time.Since(start) > agent.HoldForEOF/2 {
		t.Fatalf("closed stdin: %v after %v", err, time.Since(start))
	}

	r, w := io.Pipe()
	var out syncBuffer
	cmd := newCommand()
	cmd.SetArgs([]string{"probe"})
	cmd.SetIn(r)
	cmd.SetOut(&out)
	done := make(chan error, 1)
	go func() { done <- cmd.Execute() }()
	if _, err := io.WriteString(w, batch); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(5 * time.Second); !strings.Contains(out.String(), agent.EndOfResults); time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("no end of results: %q", out.String())
		}
	}
	if !strings.Contains(out.String(), `"id":"0"`) {
		t.Errorf("the result came after the end: %q", out.String())
	}
	select {
	case err := <-done:
		t.Fatalf("ended (%v) with its stdin still open", err)
	case <-time.After(200 * time.Millisecond):
	}
	w.Close()
	select {
	case err := <-done:
		if err != nil {
			t.Error(err)
		}
	case <-time.After(2 * time.Second):
		t.Fatal("still running after its stdin closed")
	}
}

// syncBuffer is a buffer the command writes while the test reads.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}
