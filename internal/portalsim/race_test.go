//go:build race

package portalsim

const raceEnabled = true
