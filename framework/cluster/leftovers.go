package cluster

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/api/meta"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/util/wait"
	"k8s.io/client-go/kubernetes"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tierproof/tierproof/framework/kube"
	"github.com/tierproof/tierproof/framework/policy"
)

// RemoveLeftoverPolicies deletes every policy, group and Tier that carries
// OwnerLabel: what an earlier run on this cluster applied and kept (a failed
// run keeps its cluster). Objects without the label are not tierproof's and
// are left alone; a kind the cluster does not serve is skipped.
func RemoveLeftoverPolicies(ctx context.Context, c client.Client) ([]kube.ObjectRef, error) {
	var removed []kube.ObjectRef
	var errs []error
	kinds := slices.Clone(policy.Kinds)
	// Policies before the groups and Tiers they name: the reverse of applying.
	slices.SortStableFunc(kinds, func(a, b policy.Kind) int { return b.ApplyRank - a.ApplyRank })
	for _, k := range kinds {
		gvk := k.GVK
		list := &unstructured.UnstructuredList{}
		list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
		if err := c.List(ctx, list, client.HasLabels{kube.OwnerLabel}); err != nil {
			if meta.IsNoMatchError(err) || apierrors.IsNotFound(err) {
				continue
			}
			errs = append(errs, fmt.Errorf("listing %s: %w", gvk.Kind, err))
			continue
		}
		for i := range list.Items {
			item := &list.Items[i]
			ref := kube.ObjectRef{GVK: gvk, Namespace: item.GetNamespace(), Name: item.GetName()}
			if err := c.Delete(ctx, item); err != nil && !apierrors.IsNotFound(err) {
				errs = append(errs, fmt.Errorf("deleting %s: %w", ref, err))
				continue
			}
			removed = append(removed, ref)
		}
	}
	return removed, errors.Join(errs...)
}

// EstateAnnotation holds, on every estate pod, the fingerprint of what it
// was created from: its spec and the agent image. A reused cluster's pods
// whose fingerprint differs from this run's were made by another build of
// tierproof (another agent, a changed fixture whose pod spec the API server
// would refuse to update in place) and are recreated.
const EstateAnnotation = "tierproof.io/estate-fingerprint"

// Fingerprint marks each Pod among objects, and each workload's pod
// template, with the fingerprint of its spec and agentImageID, and returns
// the Pods' by "namespace/name". A template whose mark changes rolls its
// pods over to this build on a reused cluster, as the controllers do.
func Fingerprint(objects []runtime.Object, agentImageID string) (map[string]string, error) {
	prints := map[string]string{}
	for _, o := range objects {
		_, meta, spec := podOf(o)
		if spec == nil {
			continue
		}
		data, err := json.Marshal(spec)
		if err != nil {
			return nil, err
		}
		sum := sha256.Sum256(append(append(data, '\n'), agentImageID...))
		print := hex.EncodeToString(sum[:16])
		if meta.Annotations == nil {
			meta.Annotations = map[string]string{}
		}
		meta.Annotations[EstateAnnotation] = print
		if pod, ok := o.(*corev1.Pod); ok {
			prints[pod.Namespace+"/"+pod.Name] = print
		}
	}
	return prints, nil
}

// RecreateStalePods deletes, and waits out, the tierproof pods of the given
// namespaces whose fingerprint is not the one want gives them (or that want
// does not list); the estate's apply then creates them anew. Pods without
// OwnerLabel are not tierproof's and are left alone.
func RecreateStalePods(ctx context.Context, cs kubernetes.Interface, namespaces []string, want map[string]string, timeout time.Duration) ([]string, error) {
	var stale []corev1.Pod
	for _, ns := range namespaces {
		pods, err := cs.CoreV1().Pods(ns).List(ctx, metav1.ListOptions{LabelSelector: kube.OwnerLabel})
		if err != nil {
			return nil, fmt.Errorf("listing pods in %s: %w", ns, err)
		}
		for _, p := range pods.Items {
			if print, ok := want[p.Namespace+"/"+p.Name]; !ok || p.Annotations[EstateAnnotation] != print {
				stale = append(stale, p)
			}
		}
	}
	var names []string
	zero := int64(0)
	for _, p := range stale {
		names = append(names, p.Namespace+"/"+p.Name)
		err := cs.CoreV1().Pods(p.Namespace).Delete(ctx, p.Name, metav1.DeleteOptions{GracePeriodSeconds: &zero})
		if err != nil && !apierrors.IsNotFound(err) {
			return names, fmt.Errorf("deleting pod %s/%s: %w", p.Namespace, p.Name, err)
		}
	}
	for _, p := range stale {
		err := wait.PollUntilContextTimeout(ctx, 500*time.Millisecond, timeout, true, func(ctx context.Context) (bool, error) {
			current, err := cs.CoreV1().Pods(p.Namespace).Get(ctx, p.Name, metav1.GetOptions{})
			if apierrors.IsNotFound(err) {
				return true, nil
			}
			// A pod of the same name created since is not the stale one.
			return err == nil && current.UID != p.UID, err
		})
		if err != nil {
			return names, fmt.Errorf("waiting for pod %s/%s to go: %w", p.Namespace, p.Name, err)
		}
	}
	return names, nil
}
