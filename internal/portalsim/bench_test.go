package portalsim

import "testing"

func BenchmarkRenderOneStop(b *testing.B) {
	s := New(Options{Seed: 1, Dossiers: 100000, Start: testStart})
	v := s.view()
	var l life
	buf := make([]byte, 0, 4096)
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		e := v.os[i%len(v.os)]
		s.g.plan(uint64(uint32(e)), v.dvr, &l)
		_ = s.g.appendOS(buf[:0], &l, v.now)
	}
}

func BenchmarkPlan(b *testing.B) {
	s := New(Options{Seed: 1, Dossiers: 100000, Start: testStart})
	v := s.view()
	var l life
	for i := 0; b.Loop(); i++ {
		s.g.plan(uint64(i%v.n), v.dvr, &l)
	}
}
