package kube

import (
	"context"
	"errors"
	"fmt"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
)

// FieldManager owns the fields tierproof applies.
const FieldManager = "tierproof"

// ObjectRef names an object the harness applied.
type ObjectRef struct {
	GVK       schema.GroupVersionKind
	Namespace string
	Name      string
}

func (r ObjectRef) String() string {
	if r.Namespace == "" {
		return r.GVK.Kind + " " + r.Name
	}
	return r.GVK.Kind + " " + r.Namespace + "/" + r.Name
}

// Applier applies stages with server-side apply, labelled as the run's, and
// removes what it created. A stage applies completely or not at all: when the
// API server (or Antrea's admission webhook) refuses an object, the objects the
// stage created are deleted and the ones it changed are put back.
type Applier struct {
	client  client.Client
	run     string
	created []ObjectRef // every run object created so far, in apply order
}

// NewApplier applies through c (klient's controller-runtime client) for run.
func NewApplier(c client.Client, run string) *Applier { return &Applier{client: c, run: run} }

// Created lists the objects the run created, in apply order.
func (a *Applier) Created() []ObjectRef { return append([]ObjectRef(nil), a.created...) }

// ApplyStage applies objects in dependency order.
func (a *Applier) ApplyStage(ctx context.Context, stage string, objects []runtime.Object) error {
	ordered := ApplyOrder(objects)
	if err := Own(ordered, a.run); err != nil {
		return err
	}
	var created []ObjectRef
	previous := map[ObjectRef]*unstructured.Unstructured{}
	for _, o := range ordered {
		u, err := toUnstructured(o)
		if err != nil {
			return err
		}
		ref := ObjectRef{GVK: u.GroupVersionKind(), Namespace: u.GetNamespace(), Name: u.GetName()}
		existing := &unstructured.Unstructured{}
		existing.SetGroupVersionKind(ref.GVK)
		switch err := a.client.Get(ctx, client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}, existing); {
		case apierrors.IsNotFound(err):
		case err != nil:
			return a.rollback(ctx, stage, ref, err, created, previous)
		default:
			previous[ref] = existing
		}
		if err := a.client.Apply(ctx, client.ApplyConfigurationFromUnstructured(u), client.FieldOwner(FieldManager), client.ForceOwnership); err != nil {
			return a.rollback(ctx, stage, ref, err, created, previous)
		}
		if _, changed := previous[ref]; !changed {
			created = append(created, ref)
		}
	}
	a.created = append(a.created, created...)
	return nil
}

// rollback undoes a stage's partial work and reports why the stage stopped.
func (a *Applier) rollback(ctx context.Context, stage string, refused ObjectRef, cause error, created []ObjectRef, previous map[ObjectRef]*unstructured.Unstructured) error {
	var undo []error
	for i := len(created) - 1; i >= 0; i-- {
		if err := a.delete(ctx, created[i]); err != nil {
			undo = append(undo, err)
		}
	}
	for ref, old := range previous {
		current := &unstructured.Unstructured{}
		current.SetGroupVersionKind(ref.GVK)
		if err := a.client.Get(ctx, client.ObjectKey{Namespace: ref.Namespace, Name: ref.Name}, current); err != nil {
			undo = append(undo, fmt.Errorf("restoring %s: %w", ref, err))
			continue
		}
		old.SetResourceVersion(current.GetResourceVersion())
		old.SetManagedFields(nil)
		if err := a.client.Update(ctx, old); err != nil {
			undo = append(undo, fmt.Errorf("restoring %s: %w", ref, err))
		}
	}
	msg := fmt.Sprintf("stage %s not applied: %s was refused: %v; rolled back %d created and %d changed objects", stage, refused, cause, len(created), len(previous))
	if len(undo) > 0 {
		return fmt.Errorf("%s, but the rollback failed: %w", msg, errors.Join(undo...))
	}
	return errors.New(msg)
}

// Cleanup deletes every object the run created, newest first.
func (a *Applier) Cleanup(ctx context.Context) error {
	var errs []error
	for i := len(a.created) - 1; i >= 0; i-- {
		if err := a.delete(ctx, a.created[i]); err != nil {
			errs = append(errs, err)
		}
	}
	a.created = nil
	return errors.Join(errs...)
}

func (a *Applier) delete(ctx context.Context, ref ObjectRef) error {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(ref.GVK)
	u.SetNamespace(ref.Namespace)
	u.SetName(ref.Name)
	if err := a.client.Delete(ctx, u, client.PropagationPolicy("Background")); err != nil && !apierrors.IsNotFound(err) {
		return fmt.Errorf("deleting %s: %w", ref, err)
	}
	return nil
}

func toUnstructured(o runtime.Object) (*unstructured.Unstructured, error) {
	gvk := o.GetObjectKind().GroupVersionKind()
	if gvk.Kind == "" {
		return nil, fmt.Errorf("%T has no kind set", o)
	}
	content, err := runtime.DefaultUnstructuredConverter.ToUnstructured(o)
	if err != nil {
		return nil, err
	}
	u := &unstructured.Unstructured{Object: content}
	u.SetGroupVersionKind(gvk)
	// Status and server-set metadata are not the harness's to apply.
	delete(u.Object, "status")
	unstructured.RemoveNestedField(u.Object, "metadata", "creationTimestamp")
	return u, nil
}
