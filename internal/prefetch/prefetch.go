// Package prefetch overlaps producing the next item of a sequence with
// consuming the current one: a sync fetches the portal's next batch while it
// stores the last, a detection pass reads the next page of dossiers while it
// records the last.
package prefetch

import "context"

// Run calls produce, which calls yield with each item in order, in a
// goroutine of its own, and consume with each item in the caller's
// goroutine, one at a time and in order; produce runs at most one item ahead
// of consume. An error from consume cancels produce's context and is
// returned once produce has stopped; otherwise produce's error is returned.
// An item produced ahead and not consumed when Run stops is dropped: the
// callers' items are re-read on the next pass.
func Run[T any](ctx context.Context, produce func(ctx context.Context, yield func(T) error) error, consume func(ctx context.Context, item T) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	items := make(chan T, 1)
	produced := make(chan error, 1)
	go func() {
		defer close(items)
		produced <- produce(ctx, func(item T) error {
			select {
			case items <- item:
				return nil
			case <-ctx.Done():
				return ctx.Err()
			}
		})
	}()
	for item := range items {
		if err := consume(ctx, item); err != nil {
			cancel()
			for range items { // let the producer stop
			}
			<-produced
			return err
		}
	}
	return <-produced
}
