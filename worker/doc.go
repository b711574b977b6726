// Package worker builds everything from a config.Config and runs it: the store,
// the connectors, the asynq server and scheduler, and the admin HTTP API. Only
// cmd imports it.
package worker
