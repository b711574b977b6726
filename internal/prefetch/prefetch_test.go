package prefetch_test

import (
	"context"
	"errors"
	"slices"
	"testing"

	"github.com/dvcwatch/dvcwatch/internal/prefetch"
)

// count yields 1..n, or stops with the context's error.
func count(n int, stopped *error) func(context.Context, func(int) error) error {
	return func(ctx context.Context, yield func(int) error) error {
		for i := 1; i <= n; i++ {
			if err := yield(i); err != nil {
				*stopped = err
				return err
			}
		}
		return nil
	}
}

func TestRunConsumesInOrder(t *testing.T) {
	t.Parallel()
	var got []int
	var stopped error
	err := prefetch.Run(t.Context(), count(100, &stopped), func(_ context.Context, i int) error {
		got = append(got, i)
		return nil
	})
	if err != nil || stopped != nil || len(got) != 100 || !slices.IsSorted(got) {
		t.Fatalf("Run = %v (producer stopped by %v), consumed %d items in order %v", err, stopped, len(got), slices.IsSorted(got))
	}
}

func TestRunStopsTheProducerOnAConsumerError(t *testing.T) {
	t.Parallel()
	broken := errors.New("database gone")
	var stopped error
	consumed := 0
	err := prefetch.Run(t.Context(), count(1000, &stopped), func(_ context.Context, i int) error {
		consumed++
		if i == 3 {
			return broken
		}
		return nil
	})
	if !errors.Is(err, broken) || consumed != 3 || !errors.Is(stopped, context.Canceled) {
		t.Fatalf("Run = %v after %d items, producer stopped by %v; want the consumer's error after 3, producer cancelled", err, consumed, stopped)
	}
}

func TestRunReturnsTheProducersError(t *testing.T) {
	t.Parallel()
	portal := errors.New("portal down")
	err := prefetch.Run(t.Context(), func(_ context.Context, yield func(int) error) error {
		if err := yield(1); err != nil {
			return err
		}
		return portal
	}, func(context.Context, int) error { return nil })
	if !errors.Is(err, portal) {
		t.Fatalf("Run = %v, want the producer's error", err)
	}
}
