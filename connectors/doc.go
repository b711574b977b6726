// Package connectors holds one subpackage per portal dossiers are pulled from:
// the national public-service portal (DVCQG) and the provincial one-stop system,
// plus the portal simulator the tests and the demo run against. Each subpackage
// owns its protocol (login, sessions, date windows or pages, retries, rate
// limits) and maps records to the root package's Dossier; none of them knows
// the store or the job queue.
package connectors
