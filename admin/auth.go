package admin

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/dvcwatch/dvcwatch/config"
)

// Role is what an admin token may do; each role may do everything the one
// below it may.
type Role int

// Roles, from least to most allowed.
const (
	RoleViewer Role = iota + 1
	RoleOperator
	RoleAdmin
)

func roleOf(r config.AdminRole) Role {
	switch r {
	case config.AdminViewer:
		return RoleViewer
	case config.AdminOperator:
		return RoleOperator
	case config.AdminAdmin:
		return RoleAdmin
	}
	return 0
}

// String returns the configuration's name of the role.
func (r Role) String() string {
	switch r {
	case RoleViewer:
		return string(config.AdminViewer)
	case RoleOperator:
		return string(config.AdminOperator)
	case RoleAdmin:
		return string(config.AdminAdmin)
	}
	return "none"
}

// Principal is who made a request: a configured token's name and role.
type Principal struct {
	Name string
	Role Role
}

// credential is a configured token, kept as its SHA-256 so that every
// comparison takes the same time whatever the candidate's length.
type credential struct {
	Principal
	digest [sha256.Size]byte
}

// authenticator checks bearer tokens and session cookies.
type authenticator struct {
	creds   []credential
	session time.Duration
	now     func() time.Time
	// revoked says whether a session id was ended by a logout, on any
	// replica; nil: none is checked.
	revoked func(ctx context.Context, id string) (bool, error)
}

func newAuthenticator(tokens []config.Token, session time.Duration, now func() time.Time) (*authenticator, error) {
	a := &authenticator{session: session, now: now}
	seen := map[[sha256.Size]byte]bool{}
	names := map[string]bool{}
	for _, t := range tokens {
		// A session names its token: two tokens of one name would let one's
		// session carry the other's role.
		if names[t.Name] {
			return nil, fmt.Errorf("admin token %q: the name of another token", t.Name)
		}
		names[t.Name] = true
		role := roleOf(t.Role)
		if role == 0 {
			return nil, fmt.Errorf("admin token %q: unknown role %q", t.Name, t.Role)
		}
		secret := t.Token.Reveal()
		if len(secret) < config.MinTokenLength {
			return nil, fmt.Errorf("admin token %q: shorter than %d characters", t.Name, config.MinTokenLength)
		}
		d := sha256.Sum256([]byte(secret))
		if seen[d] {
			return nil, fmt.Errorf("admin token %q: the same secret as another token", t.Name)
		}
		seen[d] = true
		a.creds = append(a.creds, credential{Principal: Principal{Name: t.Name, Role: role}, digest: d})
	}
	if len(a.creds) == 0 {
		return nil, errors.New("admin: no tokens configured; the API would refuse every request")
	}
	return a, nil
}

// token returns the principal whose secret is token. Every configured token
// is compared, in constant time, so that timing tells nothing of which
// (or whether a prefix) matched.
func (a *authenticator) token(token string) (Principal, bool) {
	d := sha256.Sum256([]byte(token))
	var found Principal
	ok := 0
	for _, c := range a.creds {
		if subtle.ConstantTimeCompare(d[:], c.digest[:]) == 1 {
			found, ok = c.Principal, 1
		}
	}
	return found, ok == 1
}

// sessionCookie is the UI's cookie: it names the token, an expiry and a
// random session id, and is signed with a key derived from that token's
// secret, so that every replica with the same configuration accepts it and
// changing the token ends its sessions. It never holds the token itself.
// The only state is the ids of sessions ended by a logout, in the database
// until they would have expired, which every replica refuses.
const sessionCookie = "dvcwatch_session"

func (a *authenticator) sign(name string, expires int64, id string, digest [sha256.Size]byte) string {
	m := hmac.New(sha256.New, digest[:])
	fmt.Fprintf(m, "dvcwatch session\x00%s\x00%d\x00%s", name, expires, id)
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// newSession returns the cookie value of a session for p.
func (a *authenticator) newSession(p Principal) (value string, expires time.Time) {
	expires = a.now().Add(a.session)
	for _, c := range a.creds {
		if c.Name == p.Name {
			exp := expires.Unix()
			id := rand.Text()
			return base64.RawURLEncoding.EncodeToString([]byte(p.Name)) + "." + strconv.FormatInt(exp, 10) + "." + id + "." +
				a.sign(p.Name, exp, id, c.digest), expires
		}
	}
	return "", time.Time{}
}

// session is a session cookie's content, once its signature is checked.
type session struct {
	Principal
	id      string
	expires time.Time
}

// cookie returns the session of a cookie value, signed and not expired; it
// does not ask whether the session was revoked. A value that names a
// configured token but is not signed with its key returns that name
// alone (and false): a guess, which the throttle counts.
func (a *authenticator) cookie(value string) (session, bool) {
	parts := strings.Split(value, ".")
	if len(parts) != 4 || parts[2] == "" {
		return session{}, false
	}
	nameBytes, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil {
		return session{}, false
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || a.now().Unix() >= exp {
		return session{}, false
	}
	name := string(nameBytes)
	for _, c := range a.creds {
		if c.Name == name {
			want := a.sign(name, exp, parts[2], c.digest)
			if subtle.ConstantTimeCompare([]byte(want), []byte(parts[3])) == 1 {
				return session{Principal: c.Principal, id: parts[2], expires: time.Unix(exp, 0)}, true
			}
			return session{Principal: Principal{Name: name}}, false
		}
	}
	return session{}, false
}

// forgedSession is a session cookie that names a configured token but is
// not signed with its key; answered like any bad credentials.
type forgedSession struct{ name string }

func (forgedSession) Error() string        { return errBadCredentials.Error() }
func (forgedSession) Is(target error) bool { return target == errBadCredentials }

// errNoCredentials and errBadCredentials are answered 401.
var (
	errNoCredentials  = errors.New("no credentials: send Authorization: Bearer <token>, or log in")
	errBadCredentials = errors.New("invalid token or expired session")
)

// authenticate returns who sent r: a bearer token, else the session cookie.
// A request made with the cookie that changes something must carry the
// header X-Dvcwatch-Request, which a page of another site cannot send
// without asking first (CORS), on top of the cookie's SameSite=Strict.
func (a *authenticator) authenticate(r *http.Request) (Principal, error) {
	if h := r.Header.Get("Authorization"); h != "" {
		scheme, token, ok := strings.Cut(h, " ")
		if !ok || !strings.EqualFold(scheme, "Bearer") || strings.TrimSpace(token) == "" {
			return Principal{}, errors.New("malformed Authorization header: want Bearer <token>")
		}
		p, ok := a.token(strings.TrimSpace(token))
		if !ok {
			return Principal{}, errBadCredentials
		}
		return p, nil
	}
	c, err := r.Cookie(sessionCookie)
	if err != nil {
		return Principal{}, errNoCredentials
	}
	sess, ok := a.cookie(c.Value)
	if !ok && sess.Name != "" {
		return Principal{}, forgedSession{sess.Name}
	}
	if !ok {
		return Principal{}, errBadCredentials
	}
	if a.revoked != nil {
		gone, err := a.revoked(r.Context(), sess.id)
		if err != nil {
			return Principal{}, fmt.Errorf("%w: %w", errSessionUnchecked, err)
		}
		if gone {
			return Principal{}, errBadCredentials
		}
	}
	p := sess.Principal
	if !safeMethod(r.Method) && r.Header.Get(csrfHeader) == "" {
		return p, errNoRequestHeader
	}
	return p, nil
}

// errSessionUnchecked is answered 503: whether the session was ended by a
// logout cannot be read, so it is not trusted.
var errSessionUnchecked = errors.New("the session cannot be checked now; try again")

// errNoRequestHeader is answered 403: the session is good, the request may
// come from another site's page.
var errNoRequestHeader = errors.New("a change made with the session cookie needs the " + csrfHeader + " header")

// csrfHeader marks requests the UI's own script makes.
const csrfHeader = "X-Dvcwatch-Request"

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}
