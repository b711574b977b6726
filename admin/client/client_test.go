package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/dvcwatch/dvcwatch/admin"
	"github.com/dvcwatch/dvcwatch/admin/client"
)

const token = "s3cret-token-0123456789"

// seen is one request the fake server received.
type seen struct {
	method, rawPath, path, query, auth, body string
}

// fake answers every request with status and body, and records it.
func fake(t *testing.T, status int, body string) (*client.Client, *[]seen) {
	t.Helper()
	var got []seen
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		got = append(got, seen{r.Method, r.URL.EscapedPath(), r.URL.Path, r.URL.RawQuery, r.Header.Get("Authorization"), string(b)})
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(srv.Close)
	c, err := client.New(srv.URL+"/", token)
	if err != nil {
		t.Fatal(err)
	}
	return c, &got
}

// TestRequests checks the method, escaped path, query and body of every call.
func TestRequests(t *testing.T) {
	ctx := context.Background()
	id := "sync@manual:2026-12-01T03:15:00.123Z/x y?%"
	escaped := "sync@manual:2026-12-01T03:15:00.123Z%2Fx%20y%3F%25"
	cases := []struct {
		name   string
		answer string
		call   func(c *client.Client) error
		want   seen
	}{
		{"whoami", `{"name":"ops","role":"admin"}`, func(c *client.Client) error {
			w, err := c.Whoami(ctx)
			if err == nil && (w.Name != "ops" || w.Role != "admin") {
				t.Errorf("Whoami = %+v", w)
			}
			return err
		}, seen{method: "GET", rawPath: "/api/v1/whoami"}},
		{"jobs", `[{"id":"a","state":"pending"}]`, func(c *client.Client) error {
			ts, err := c.Jobs(ctx, "pending", 5)
			if err == nil && (len(ts) != 1 || ts[0].ID != "a") {
				t.Errorf("Jobs = %+v", ts)
			}
			return err
		}, seen{method: "GET", rawPath: "/api/v1/jobs", query: "limit=5&state=pending"}},
		{"jobs default", `[]`, func(c *client.Client) error { _, err := c.Jobs(ctx, "", 0); return err },
			seen{method: "GET", rawPath: "/api/v1/jobs"}},
		{"failed", `[]`, func(c *client.Client) error { _, err := c.FailedJobs(ctx, true, 10); return err },
			seen{method: "GET", rawPath: "/api/v1/jobs/failed", query: "all=1&limit=10"}},
		{"runs", `{"items":[{"id":9,"job":"sync"}],"total":40,"next_cursor":"abc"}`, func(c *client.Client) error {
			p, err := c.Runs(ctx, client.RunFilter{Job: "sync", Status: "failed", Cursor: "xyz"})
			if err == nil && (len(p.Items) != 1 || p.Items[0].ID != 9 || p.Total != 40 || p.NextCursor != "abc") {
				t.Errorf("Runs = %+v", p)
			}
			return err
		}, seen{method: "GET", rawPath: "/api/v1/jobs/runs", query: "cursor=xyz&job=sync&status=failed"}},
		{"notifications", `{"items":[],"total":0,"next_cursor":""}`, func(c *client.Client) error {
			_, err := c.Notifications(ctx, client.NotificationFilter{State: "sent", Recipient: "binh", Limit: 3})
			return err
		}, seen{method: "GET", rawPath: "/api/v1/notifications", query: "limit=3&recipient=binh&state=sent"}},
		{"retry", `{"task_id":"x","retried":1}`, func(c *client.Client) error { _, err := c.RetryJob(ctx, id); return err },
			seen{method: "POST", rawPath: "/api/v1/jobs/" + escaped + "/retry", path: "/api/v1/jobs/" + id + "/retry"}},
		{"retry all", `{"retried":3}`, func(c *client.Client) error {
			r, err := c.RetryAllArchived(ctx)
			if err == nil && r.Retried != 3 {
				t.Errorf("RetryAllArchived = %+v", r)
			}
			return err
		}, seen{method: "POST", rawPath: "/api/v1/jobs/retry-archived"}},
		{"delete", ``, func(c *client.Client) error { return c.DeleteJob(ctx, id) },
			seen{method: "DELETE", rawPath: "/api/v1/jobs/" + escaped, path: "/api/v1/jobs/" + id}},
		{"schedules", `[]`, func(c *client.Client) error { _, err := c.Schedules(ctx); return err },
			seen{method: "GET", rawPath: "/api/v1/schedules"}},
		{"run", `{"task_id":"t"}`, func(c *client.Client) error { _, err := c.RunSchedule(ctx, "sync"); return err },
			seen{method: "POST", rawPath: "/api/v1/schedules/sync/run"}},
		{"pause", `{"name":"sync"}`, func(c *client.Client) error { _, err := c.PauseSchedule(ctx, "sync"); return err },
			seen{method: "POST", rawPath: "/api/v1/schedules/sync/pause"}},
		{"resume", `{"name":"sync"}`, func(c *client.Client) error { _, err := c.ResumeSchedule(ctx, "sync"); return err },
			seen{method: "POST", rawPath: "/api/v1/schedules/sync/resume"}},
		{"set", `{"name":"sync"}`, func(c *client.Client) error { _, err := c.SetSchedule(ctx, "sync", "*/10 * * * *"); return err },
			seen{method: "PUT", rawPath: "/api/v1/schedules/sync", body: `{"cron":"*/10 * * * *"}`}},
		{"breaches", `{"items":[{"id":5}],"total":4643,"next_cursor":"n"}`, func(c *client.Client) error {
			p, err := c.Breaches(ctx, client.BreachFilter{All: true, Kind: "overdue", Agency: "X", Official: "binh", Limit: 7,
				Sort: "due", Search: "BN-1"})
			if err == nil && (len(p.Items) != 1 || p.Total != 4643 || p.NextCursor != "n") {
				t.Errorf("Breaches = %+v", p)
			}
			return err
		}, seen{method: "GET", rawPath: "/api/v1/breaches", query: "agency=X&kind=overdue&limit=7&official=binh&q=BN-1&sort=due&state=all"}},
		{"ack", `{"id":42}`, func(c *client.Client) error { _, err := c.AckBreach(ctx, 42, "binh", "chờ"); return err },
			seen{method: "POST", rawPath: "/api/v1/breaches/42/ack", body: `{"official":"binh","reason":"chờ"}`}},
		{"silences", `[{"id":3,"matchers":{"kind":"portal_mismatch"}}]`, func(c *client.Client) error {
			ss, err := c.Silences(ctx, true, 0)
			if err == nil && (len(ss) != 1 || ss[0].ID != 3 || ss[0].Matchers["kind"] != "portal_mismatch") {
				t.Errorf("Silences = %+v", ss)
			}
			return err
		}, seen{method: "GET", rawPath: "/api/v1/silences", query: "all=1"}},
		{"active silences", `[]`, func(c *client.Client) error { _, err := c.Silences(ctx, false, 5); return err },
			seen{method: "GET", rawPath: "/api/v1/silences", query: "limit=5"}},
		{"add silence", `{"id":4}`, func(c *client.Client) error {
			_, err := c.AddSilence(ctx, admin.SilenceRequest{Matchers: map[string]string{"kind": "portal_mismatch", "agency": "H99"},
				Duration: "72h", Reason: "Cổng DVCQG bảo trì"})
			return err
		}, seen{method: "POST", rawPath: "/api/v1/silences",
			body: `{"matchers":{"agency":"H99","kind":"portal_mismatch"},"duration":"72h","reason":"Cổng DVCQG bảo trì"}`}},
		{"expire silence", `{"id":4}`, func(c *client.Client) error { _, err := c.ExpireSilence(ctx, 4); return err },
			seen{method: "POST", rawPath: "/api/v1/silences/4/expire"}},
		{"dashboard", `{"failed_open":2}`, func(c *client.Client) error {
			d, err := c.Dashboard(ctx)
			if err == nil && d.FailedOpen != 2 {
				t.Errorf("Dashboard = %+v", d)
			}
			return err
		}, seen{method: "GET", rawPath: "/api/v1/dashboard"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c, got := fake(t, http.StatusOK, tc.answer)
			if err := tc.call(c); err != nil {
				t.Fatal(err)
			}
			if len(*got) != 1 {
				t.Fatalf("%d requests, want 1", len(*got))
			}
			g := (*got)[0]
			want := tc.want
			if want.path == "" {
				want.path = want.rawPath
			}
			want.auth = "Bearer " + token
			if g != want {
				t.Errorf("request\n got %+v\nwant %+v", g, want)
			}
		})
	}
}

func TestAPIError(t *testing.T) {
	msg := `schedule sync: invalid cron expression "*/5 * *": expected exactly 5 fields, found 3`
	b, _ := json.Marshal(admin.ErrorBody{Error: msg})
	c, _ := fake(t, http.StatusBadRequest, string(b))
	_, err := c.SetSchedule(context.Background(), "sync", "*/5 * *")
	want := "PUT /api/v1/schedules/sync: 400 Bad Request: " + msg
	if err == nil || err.Error() != want {
		t.Fatalf("error = %v\nwant %s", err, want)
	}
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.StatusCode != http.StatusBadRequest || ae.Message != msg || client.StatusCode(err) != 400 {
		t.Errorf("APIError = %+v", ae)
	}

	// A body that is not the API's (a proxy's page) gives its first line.
	c, _ = fake(t, http.StatusBadGateway, "<html>bad gateway\n<body>…</body></html>")
	err = c.DeleteJob(context.Background(), "x")
	if want := "DELETE /api/v1/jobs/x: 502 Bad Gateway: <html>bad gateway …"; err == nil || err.Error() != want {
		t.Errorf("error = %v\nwant %s", err, want)
	}
}

func TestNetworkErrorAndToken(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c, err := client.New(url, token)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Schedules(context.Background())
	if err == nil || client.StatusCode(err) != 0 || !strings.HasPrefix(err.Error(), "GET "+url+"/api/v1/schedules: ") {
		t.Errorf("error = %v, want a network error naming the request", err)
	}
	if strings.Contains(err.Error(), token) {
		t.Errorf("error %q shows the token", err)
	}
}

func TestNewRefuses(t *testing.T) {
	for _, server := range []string{"127.0.0.1:8080", "ftp://x", "http://", "http://u:p@host", "http://h/?q=1"} {
		if _, err := client.New(server, token); err == nil {
			t.Errorf("New(%q) accepted", server)
		} else if strings.Contains(err.Error(), ":p@") {
			t.Errorf("New(%q): %v shows the URL's password", server, err)
		}
	}
	if _, err := client.New("http://127.0.0.1:8080", " "); err == nil {
		t.Error("New accepted an empty token")
	}
}

func TestAnswerBodyAndRedirect(t *testing.T) {
	var raw []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/old/api/v1/schedules" {
			http.Redirect(w, r, "http://elsewhere.example/api/v1/schedules", http.StatusFound)
			return
		}
		_, _ = io.WriteString(w, "[\n  {\"name\": \"sync\", \"extra\": 1}\n]\n")
	}))
	defer srv.Close()
	c, err := client.New(srv.URL, token, client.WithAnswerBody(func(b []byte) { raw = b }))
	if err != nil {
		t.Fatal(err)
	}
	ss, err := c.Schedules(context.Background())
	if err != nil || len(ss) != 1 || ss[0].Name != "sync" {
		t.Fatalf("Schedules = %+v, %v", ss, err)
	}
	if string(raw) != "[\n  {\"name\": \"sync\", \"extra\": 1}\n]\n" {
		t.Errorf("answer body = %q, want the server's bytes", raw)
	}

	// A redirect is not followed: the token would go with it.
	c, _ = client.New(srv.URL+"/old", token)
	_, err = c.Schedules(context.Background())
	if client.StatusCode(err) != http.StatusFound || !strings.Contains(err.Error(), "redirected to http://elsewhere.example/") {
		t.Errorf("error = %v, want the 302 and where it points", err)
	}
}
