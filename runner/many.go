package runner

import (
	"context"
	"errors"
	"sync"
	"time"

	corev1 "k8s.io/api/core/v1"

	"github.com/podunit/podunit/units"
)

// parallelPods bounds how many pods start or stop at once: systemd and podman do
// the work, and beyond a few concurrent jobs they only queue.
const parallelPods = 8

// UpAll starts the pods of one manifest concurrently: all of them, or none. When
// one fails, those that started are stopped again (briskly: for the user they
// never were up) and the first failures are returned.
func (r *Runner) UpAll(ctx context.Context, pods []*corev1.Pod, plans []*units.Plan, o UpOptions) error {
	errs := make([]error, len(pods))
	forEach(len(pods), func(i int) { errs[i] = r.Up(ctx, pods[i], plans[i], o) })
	if err := errors.Join(errs...); err != nil {
		forEach(len(pods), func(i int) {
			if errs[i] == nil {
				// at most 2 s, never more than the pod's own (no warning
				// about a grace period the user did not give)
				brisk := 2 * time.Second
				if g := pods[i].Spec.TerminationGracePeriodSeconds; g != nil && time.Duration(*g)*time.Second < brisk {
					brisk = time.Duration(*g) * time.Second
				}
				_ = r.Down(context.WithoutCancel(ctx), pods[i].Name, DownOptions{Grace: &brisk})
			}
		})
		return err
	}
	return nil
}

// DownAll stops pods concurrently; it returns every failure.
func (r *Runner) DownAll(ctx context.Context, names []string, o DownOptions) []error {
	errs := make([]error, len(names))
	forEach(len(names), func(i int) { errs[i] = r.Down(ctx, names[i], o) })
	return errs
}

func forEach(n int, f func(i int)) {
	sem := make(chan struct{}, parallelPods)
	var wg sync.WaitGroup
	for i := 0; i < n; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer func() { <-sem; wg.Done() }()
			f(i)
		}(i)
	}
	wg.Wait()
}
