// Command stages prints the kwok Stages the integration tests run kwok with:
// kwok's own defaults for nodes (ready, heartbeat) and pods (running with an
// IP, deleted when asked), as this kwok release ships them.
package main

import (
	"fmt"
	"strings"

	nodefast "sigs.k8s.io/kwok/kustomize/stage/node/fast"
	"sigs.k8s.io/kwok/kustomize/stage/node/heartbeat"
	podfast "sigs.k8s.io/kwok/kustomize/stage/pod/fast"
)

func main() {
	docs := []string{nodefast.DefaultNodeInit, heartbeat.DefaultNodeHeartbeat, podfast.DefaultPodReady, podfast.DefaultPodDelete}
	for i, doc := range docs {
		docs[i] = strings.TrimSpace(doc)
	}
	fmt.Println(strings.Join(docs, "\n---\n"))
}
