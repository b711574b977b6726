// Package jobs defines dvcwatch's asynq task types, their payloads and handlers
// (sync, detect, notify, digest, reconcile). It declares the small interfaces it
// needs from a connector and from the store and never imports either concretely,
// so handlers are tested with real components wired by the caller.
package jobs
