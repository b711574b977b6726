package detect

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"time"

	"github.com/dvcwatch/dvcwatch/config"
	"github.com/dvcwatch/dvcwatch/directory"
)

// silenceEnded reports whether a silence active at the last pass's time
// (lastNow) has ended by now, at its end or expired early: the breaches it
// muted were left out of planning, and their dossiers' next checks do not
// know it. A silence that began and ended between two passes muted nothing.
func (d *Detector) silenceEnded(ctx context.Context, lastNow, now time.Time) (bool, error) {
	if lastNow.IsZero() {
		return true, nil
	}
	then, err := d.store.ActiveSilences(ctx, lastNow)
	if err != nil {
		return false, err
	}
	for _, s := range then {
		if !s.EndsAt.After(now) {
			return true, nil
		}
	}
	return false, nil
}

// fingerprint digests what the rules and the notifier's planning are
// computed by, so that a change of it sweeps every dossier again: their
// stored next checks were computed by the old one. It reads the
// configuration (no secrets: none of these sections holds one) and the
// calendar's announced years, which come from a file that can change
// without the configuration.
func fingerprint(cfg *config.Config, dir *directory.Directory) (string, error) {
	type connector struct{ Name, MirrorOf string }
	var connectors []connector
	for _, c := range cfg.Connectors {
		connectors = append(connectors, connector{c.Name, c.MirrorOf})
	}
	det := cfg.Detect
	det.FullSweepEvery = 0 // how often to sweep changes no next check
	h := sha256.New()
	enc := json.NewEncoder(h)
	parts := []any{cfg.Calendar, cfg.Agencies, cfg.Procedures, det, connectors, cfg.Notify.RepeatAfter, cfg.Notify.Escalation}
	for _, p := range parts {
		if err := enc.Encode(p); err != nil {
			return "", fmt.Errorf("fingerprint the configuration: %w", err)
		}
	}
	cal := dir.Schedule("").Calendar()
	for y := 1990; y <= 2100; y++ {
		if !cal.Announced(y) {
			continue
		}
		days, err := cal.Exceptions(y)
		if err != nil {
			return "", fmt.Errorf("fingerprint the calendar: %w", err)
		}
		if err := enc.Encode(days); err != nil {
			return "", fmt.Errorf("fingerprint the calendar: %w", err)
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}
