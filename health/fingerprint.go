package health

import (
	"crypto/hmac"
	"crypto/pbkdf2"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"reflect"
	"strconv"
	"strings"

	"github.com/dvcwatch/dvcwatch/config"
)

// fingerprintIterations is PBKDF2-HMAC-SHA256's work factor (OWASP's 2023
// figure for that function): the fingerprint holds the portal password, and a
// database that leaks must not make guessing it cheap. About 0.1 s; a tracker
// computes it once per stop and remembers what it compared.
const fingerprintIterations = 600_000

// fingerprintScheme names the format: "pbkdf2-sha256$<iterations>$<salt>$<key>",
// salt and key in unpadded base64url.
const fingerprintScheme = "pbkdf2-sha256"

// Fingerprint identifies a connector's configuration section, its secrets
// included, without storing them: a salted PBKDF2 of every field (see
// canonical). Two calls give different strings; Matches compares.
func Fingerprint(k config.Connector) (string, error) {
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return "", fmt.Errorf("fingerprint of connector %s: %w", k.Name, err)
	}
	key, err := pbkdf2.Key(sha256.New, canonical(k), salt, fingerprintIterations, 32)
	if err != nil {
		return "", fmt.Errorf("fingerprint of connector %s: %w", k.Name, err)
	}
	enc := base64.RawURLEncoding
	return fmt.Sprintf("%s$%d$%s$%s", fingerprintScheme, fingerprintIterations, enc.EncodeToString(salt), enc.EncodeToString(key)), nil
}

// Matches reports whether fp is a fingerprint of k: the same fields, the
// same secrets. A fingerprint it cannot read does not match.
func Matches(fp string, k config.Connector) bool {
	parts := strings.Split(fp, "$")
	if len(parts) != 4 || parts[0] != fingerprintScheme {
		return false
	}
	n, err := strconv.Atoi(parts[1])
	if err != nil || n < 1 || n > 10*fingerprintIterations {
		return false
	}
	enc := base64.RawURLEncoding
	salt, err1 := enc.DecodeString(parts[2])
	want, err2 := enc.DecodeString(parts[3])
	if err1 != nil || err2 != nil || len(want) == 0 {
		return false
	}
	got, err := pbkdf2.Key(sha256.New, canonical(k), salt, n, len(want))
	return err == nil && hmac.Equal(got, want)
}

// canonical writes every field of k, by its YAML name, with secrets
// revealed: a field added to config.Connector later is part of the
// fingerprint without anyone remembering to add it.
func canonical(k config.Connector) string {
	var b strings.Builder
	v, typ := reflect.ValueOf(k), reflect.TypeOf(k)
	for i := range typ.NumField() {
		f := typ.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
		if name == "" || name == "-" {
			name = f.Name
		}
		value := v.Field(i).Interface()
		var s string
		switch x := value.(type) {
		case config.Secret:
			s = x.Reveal()
		default:
			s = fmt.Sprint(x)
		}
		b.WriteString(name)
		b.WriteByte('=')
		b.WriteString(strconv.Quote(s))
		b.WriteByte('\n')
	}
	return b.String()
}
