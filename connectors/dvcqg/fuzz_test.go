package dvcqg_test

import (
	"encoding/json"
	"testing"

	"github.com/dvcwatch/dvcwatch/connectors/dvcqg"
)

// FuzzDecode: whatever bytes the national portal answers for a record,
// decoding it returns a dossier or an error, never panics; a dossier it
// returns has a key and a valid status.
func FuzzDecode(f *testing.F) {
	full, err := json.Marshal(fullRecord())
	if err != nil {
		f.Fatal(err)
	}
	for _, seed := range []string{string(full), `{}`, `{"MaHoSo":"X","TrangThaiHoSo":"0"}`, `{"MaHoSo":"X","NgayTiepNhan":"20261301000000"}`,
		`{"MaHoSo":"X","DanhSachHoSoBoSung":[{}]}`, `[]`, `null`} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := dvcqg.Decode("dvcqg", data)
		if err != nil {
			return
		}
		if d.Key.Code == "" || !d.Status.Valid() {
			t.Errorf("decoded %q into a dossier without a code or a valid status: %+v", data, d.Key)
		}
	})
}
