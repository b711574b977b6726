// Package chaos is the fault matrix of issue 14 as a test suite (its files
// build with the tag chaos; run it with `make chaos`). It starts a PostgreSQL
// cluster and a Redis of its own on loopback ports, the portal simulator, a
// mail server that records Message-IDs and two `dvcwatch serve` processes,
// then breaks one part at a time: portal faults, SIGKILLs mid-sync,
// mid-detection and mid-delivery, Redis flushed and killed, PostgreSQL
// restarted and away for 20 s, the mail server down, slow and refusing. After
// each case the store must equal the simulator's ground truth and every
// email must have arrived; duplicates are counted by Message-ID, and the run
// prints one table. See DEVELOPERS.md.
package chaos
