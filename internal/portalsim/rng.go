package portalsim

// Every random choice is drawn from a splitmix64 stream keyed by the seed, a
// stream name and an index (a dossier or a request), so any dossier's lifecycle
// can be regenerated on its own, in any order, on any goroutine.

// Streams keep independent choices independent: changing how the applicant is
// drawn must not move any dossier's timeline.
const (
	streamArrival uint64 = iota + 1
	streamLife
	streamApplicant
	streamDVCQG
	streamTransport
	streamDuplicate
	streamShuffle
	streamBadRecord
	streamVariant
	streamText
	streamBOM
)

const golden = 0x9e3779b97f4a7c15

func mix64(z uint64) uint64 {
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// hash64 returns a well-mixed value for (seed, stream, i).
func hash64(seed int64, stream, i uint64) uint64 {
	return mix64(mix64(uint64(seed)^stream*0xd1b54a32d192ed03) + i*golden)
}

// unit returns a value in [0, 1) for (seed, stream, i).
func unit(seed int64, stream, i uint64) float64 {
	return float64(hash64(seed, stream, i)>>11) / (1 << 53)
}

// rng is a splitmix64 generator.
type rng struct{ s uint64 }

func newRNG(seed int64, stream, i uint64) rng { return rng{hash64(seed, stream, i)} }

func (r *rng) next() uint64 {
	r.s += golden
	return mix64(r.s)
}

// float returns a value in [0, 1).
func (r *rng) float() float64 { return float64(r.next()>>11) / (1 << 53) }

// between returns a value in [a, b).
func (r *rng) between(a, b float64) float64 { return a + (b-a)*r.float() }

// chance reports true with probability p.
func (r *rng) chance(p float64) bool { return r.float() < p }

// intn returns a value in [0, n); the modulo bias is far below what matters here.
func (r *rng) intn(n int) int { return int(r.next() % uint64(n)) }

// digits returns n random decimal digits.
func (r *rng) digits(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte('0' + r.intn(10))
	}
	return string(b)
}
