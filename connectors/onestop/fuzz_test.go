package onestop_test

import (
	"encoding/json"
	"testing"

	"github.com/dvcwatch/dvcwatch/connectors/onestop"
)

// FuzzDecode: whatever bytes the one-stop system answers for an item,
// decoding it returns a dossier or an error, never panics; a dossier it
// returns has a key and a valid status.
func FuzzDecode(f *testing.F) {
	full, err := json.Marshal(fullItem())
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{string(full), `{}`, `{"MaHoSo":"X","TrangThaiHoSo":"99"}`, `{"MaHoSo":"X","NgayTiepNhan":"31/02/2026"}`,
		`{"MaHoSo":"X","QuaTrinhXuLy":[{}]}`, `[]`, `null`, "\xef\xbb\xbf{}"} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, _, err := onestop.Decode("onestop", data)
		if err != nil {
			return
		}
		if d.Key.Code == "" || !d.Status.Valid() {
			t.Errorf("decoded %q into a dossier without a code or a valid status: %+v", data, d.Key)
		}
	})
}
