package kube

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"regexp"
	"sort"
	"time"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/util/wait"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// InstallManifest server-side applies every document of a manifest (such as
// antrea.yml) in file order, as kubectl apply would.
func InstallManifest(ctx context.Context, c client.Client, name string, manifest []byte) error {
	reader := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(manifest)))
	for i := 0; ; i++ {
		doc, err := reader.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("%s: document %d: %w", name, i, err)
		}
		u := &unstructured.Unstructured{}
		if err := utilyaml.Unmarshal(doc, &u.Object); err != nil {
			return fmt.Errorf("%s: document %d: %w", name, i, err)
		}
		if len(u.Object) == 0 {
			continue
		}
		if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
			return fmt.Errorf("%s: applying %s %s: %w", name, u.GetKind(), u.GetName(), err)
		}
	}
}

var imageLine = regexp.MustCompile(`(?m)^\s*-?\s*image:\s*"?([^"\s]+)"?\s*$`)

// ManifestImages lists the container images a manifest refers to.
func ManifestImages(manifest []byte) []string {
	seen := map[string]bool{}
	var images []string
	for _, m := range imageLine.FindAllSubmatch(manifest, -1) {
		if img := string(m[1]); !seen[img] {
			seen[img] = true
			images = append(images, img)
		}
	}
	sort.Strings(images)
	return images
}

// LabelNamespace sets a label on a namespace tierproof does not own (such as
// kube-system) with its own field manager; UnlabelNamespace removes it again.
func LabelNamespace(ctx context.Context, c client.Client, namespace, key, value string) error {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("v1")
	u.SetKind("Namespace")
	u.SetName(namespace)
	u.SetLabels(map[string]string{key: value})
	if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldManager+"-labels"), client.ForceOwnership); err != nil {
		return fmt.Errorf("labelling namespace %s with %s=%s: %w", namespace, key, value, err)
	}
	return nil
}

// UnlabelNamespace gives up the labels LabelNamespace applied.
func UnlabelNamespace(ctx context.Context, c client.Client, namespace string) error {
	u := &unstructured.Unstructured{}
	u.SetAPIVersion("v1")
	u.SetKind("Namespace")
	u.SetName(namespace)
	if err := c.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldManager+"-labels"), client.ForceOwnership); err != nil {
		return fmt.Errorf("removing tierproof's labels from namespace %s: %w", namespace, err)
	}
	return nil
}

// WaitPodsReady waits until every pod of the namespaces is Running and Ready,
// or fails naming each pod that is not and why (image pull errors included).
func WaitPodsReady(ctx context.Context, cs kubernetes.Interface, namespaces []string, interval, timeout time.Duration) error {
	// Each namespace keeps the reasons its last successful read gave: a read
	// that fails at the deadline (the client's rate limiter refuses to wait
	// past it) must not hide why the pods are not ready.
	reasons := map[string][]string{}
	err := wait.PollUntilContextTimeout(ctx, interval, timeout, true, func(ctx context.Context) (bool, error) {
		ready := true
		for _, ns := range namespaces {
			pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{})
			if err != nil {
				if _, seen := reasons[ns]; !seen {
					reasons[ns] = []string{ns + ": " + err.Error()}
				}
				ready = false
				continue
			}
			var why []string
			if len(pods.Items) == 0 {
				why = append(why, ns+": no pods yet")
			}
			for _, p := range pods.Items {
				if w := podNotReady(p); w != "" {
					why = append(why, p.Namespace+"/"+p.Name+": "+w)
				}
			}
			reasons[ns] = why
			ready = ready && len(why) == 0
		}
		return ready, nil
	})
	if err != nil {
		var notReady []string
		for _, ns := range namespaces {
			notReady = append(notReady, reasons[ns]...)
		}
		return fmt.Errorf("after %v, pods not ready: %s", timeout, joinSemicolon(notReady))
	}
	return nil
}

func podNotReady(p corev1.Pod) string {
	for _, cs := range p.Status.ContainerStatuses {
		if w := cs.State.Waiting; w != nil && w.Reason != "" && w.Reason != "ContainerCreating" {
			return fmt.Sprintf("container %s: %s: %s", cs.Name, w.Reason, w.Message)
		}
	}
	if p.Status.Phase != corev1.PodRunning {
		return "phase " + string(p.Status.Phase)
	}
	for _, c := range p.Status.Conditions {
		if c.Type == corev1.PodReady && c.Status == corev1.ConditionTrue {
			return ""
		}
	}
	return "not Ready"
}

func joinSemicolon(s []string) string {
	var b bytes.Buffer
	for i, x := range s {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(x)
	}
	return b.String()
}
