package config

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
)

// TestComposeSmoke brings docker-compose.yml up where a Docker engine with the
// compose plugin answers, and checks /readyz on both replicas. It has never
// run on the project's machines, which have no engine: there it skips and says
// so. It binds the file's host ports (8025, 8081, 8082, 8700 on 127.0.0.1).
func TestComposeSmoke(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: the compose smoke test builds the image and starts six services")
	}
	if err := exec.Command("docker", "info").Run(); err != nil {
		t.Skipf("no Docker engine (docker info: %v): docker-compose.yml is only checked by compose-go here", err)
	}
	if err := exec.Command("docker", "compose", "version").Run(); err != nil {
		t.Skipf("no docker compose plugin (%v): docker-compose.yml is only checked by compose-go here", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	compose := func(args ...string) *exec.Cmd {
		cmd := exec.CommandContext(ctx, "docker", append([]string{"compose", "-p", "dvcwatch-smoke", "-f", "../docker-compose.yml"}, args...)...)
		cmd.Env = os.Environ()
		for k, v := range composeEnv {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
		return cmd
	}
	defer func() {
		if out, err := compose("down", "-v", "--remove-orphans").CombinedOutput(); err != nil {
			t.Errorf("compose down: %v\n%s", err, out)
		}
	}()
	if out, err := compose("up", "-d", "--build", "--wait", "--wait-timeout", "600").CombinedOutput(); err != nil {
		logs, _ := compose("logs", "--no-color", "--tail", "50").CombinedOutput()
		t.Fatalf("compose up: %v\n%s\n%s", err, out, logs)
	}
	for _, port := range []int{8081, 8082} {
		url := fmt.Sprintf("http://127.0.0.1:%d/readyz", port)
		resp, err := http.Get(url)
		if err != nil {
			t.Errorf("%s: %v", url, err)
			continue
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Errorf("%s: %s, want 200", url, resp.Status)
		}
	}
	if out, err := compose("ps", "--format", "{{.Service}} {{.State}}").CombinedOutput(); err == nil {
		t.Logf("services:\n%s", strings.TrimSpace(string(out)))
	}
}
