package config

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
	"go.yaml.in/yaml/v3"

	"github.com/dvcwatch/dvcwatch/internal/portalsim"
)

// composeEnv is what the README tells a user of docker-compose.yml to set
// (environment or .env): the admin tokens, which have no default. Every other
// variable the file reads is left unset, so its default is what is checked.
var composeEnv = map[string]string{
	"DVCWATCH_ADMIN_TOKEN_IT":       "it-admin-token-0123456789",
	"DVCWATCH_ADMIN_TOKEN_VANPHONG": "vanphong-token-0123456789",
}

// loadCompose loads docker-compose.yml (or content in its place) as
// `docker compose config` does, with compose-go, the Compose specification's
// own library: interpolation of ${VAR} from env only, validation against the
// specification's JSON schema, then the consistency checks (every depends_on,
// volume and network names something that exists).
func loadCompose(t *testing.T, content []byte, env map[string]string) (*types.Project, error) {
	t.Helper()
	dir, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(dir, "docker-compose.yml")
	if content == nil {
		if content, err = os.ReadFile(file); err != nil {
			t.Fatal(err)
		}
	}
	// A copy: the loader adds to it (COMPOSE_PROJECT_NAME).
	return loader.LoadWithContext(context.Background(), types.ConfigDetails{
		WorkingDir:  dir,
		ConfigFiles: []types.ConfigFile{{Filename: file, Content: content}},
		Environment: types.Mapping(maps.Clone(env)),
	})
}

// readCompose is docker-compose.yml as compose runs it with the README's
// variables set and no other.
func readCompose(t *testing.T) *types.Project {
	t.Helper()
	p, err := loadCompose(t, nil, composeEnv)
	if err != nil {
		t.Fatalf("docker-compose.yml is not a valid Compose file:\n%v", err)
	}
	return p
}

// dvcwatchImage is the image docker-compose.yml builds from the Dockerfile.
func dvcwatchImage(t *testing.T, p *types.Project) (builder string, image string) {
	t.Helper()
	for name, s := range p.Services {
		if s.Build != nil {
			if builder != "" {
				t.Errorf("services %s and %s both build an image; want one build, run by the others", builder, name)
			}
			builder, image = name, s.Image
		}
	}
	if builder == "" {
		t.Fatal("no service builds the dvcwatch image")
	}
	return builder, image
}

// TestComposeFileFollowsTheSpecification loads docker-compose.yml with the
// Compose specification's library and checks what no engine here can try:
// loopback-only ports, pinned images, one build, a service graph whose
// conditions can be met, mounts that exist, no default admin token.
func TestComposeFileFollowsTheSpecification(t *testing.T) {
	p := readCompose(t)

	// Ports: on the loopback interface only.
	for name, s := range p.Services {
		for _, port := range s.Ports {
			if port.HostIP != "127.0.0.1" {
				t.Errorf("%s: port %s:%d published on %q, want 127.0.0.1 only", name, port.Published, port.Target, port.HostIP)
			}
		}
	}
	for _, name := range []string{"mailpit", "portalsim", "dvcwatch-1", "dvcwatch-2"} {
		if len(p.Services[name].Ports) == 0 {
			t.Errorf("%s publishes no port; the README sends the user to it", name)
		}
	}

	// Images: every one named with a version, and dvcwatch's built once.
	builder, image := dvcwatchImage(t, p)
	if image == "" {
		t.Errorf("%s builds with no image name; the other dvcwatch services cannot run it", builder)
	}
	for name, s := range p.Services {
		if s.Build != nil {
			continue
		}
		ref, tag, ok := strings.Cut(s.Image, ":")
		if !ok || tag == "" || tag == "latest" || strings.Contains(tag, "/") {
			t.Errorf("%s: image %q, want one pinned by a version tag", name, s.Image)
		}
		if s.Image == image && s.PullPolicy != types.PullPolicyNever {
			t.Errorf("%s: runs %s (built by %s) with pull_policy %q, want %q: it is in no registry", name, image, builder, s.PullPolicy, types.PullPolicyNever)
		}
		if ref == "dvcwatch" && s.Image != image {
			t.Errorf("%s: image %q, want %s's %q", name, s.Image, builder, image)
		}
	}
	for _, name := range []string{"portalsim", "migrate", "dvcwatch-1", "dvcwatch-2"} {
		if got := p.Services[name].Image; got != image {
			t.Errorf("%s: image %q, want the one build %q", name, got, image)
		}
	}

	// The graph: every condition names a service that can meet it.
	for name, s := range p.Services {
		for dep, d := range s.DependsOn {
			target := p.Services[dep]
			switch d.Condition {
			case types.ServiceConditionHealthy:
				if target.HealthCheck == nil || target.HealthCheck.Disable || len(target.HealthCheck.Test) == 0 {
					t.Errorf("%s waits for %s to be healthy, which has no healthcheck", name, dep)
				}
			case types.ServiceConditionCompletedSuccessfully:
				if target.Restart != "" && target.Restart != "no" {
					t.Errorf("%s waits for %s to complete, which restarts %q", name, dep, target.Restart)
				}
			case types.ServiceConditionStarted:
			default:
				t.Errorf("%s: depends_on %s with condition %q", name, dep, d.Condition)
			}
		}
	}
	if d := p.Services["migrate"].DependsOn["postgres"]; d.Condition != types.ServiceConditionHealthy {
		t.Errorf("migrate: depends_on postgres %q, want %s", d.Condition, types.ServiceConditionHealthy)
	}
	for _, name := range []string{"dvcwatch-1", "dvcwatch-2"} {
		deps := p.Services[name].DependsOn
		if deps["migrate"].Condition != types.ServiceConditionCompletedSuccessfully {
			t.Errorf("%s: depends_on migrate %q, want %s", name, deps["migrate"].Condition, types.ServiceConditionCompletedSuccessfully)
		}
		for _, dep := range []string{"redis", "mailpit", "portalsim"} {
			if deps[dep].Condition != types.ServiceConditionHealthy {
				t.Errorf("%s: depends_on %s %q, want %s", name, dep, deps[dep].Condition, types.ServiceConditionHealthy)
			}
		}
	}

	// Mounts: every file or folder bound from the host exists.
	for name, s := range p.Services {
		for _, v := range s.Volumes {
			if v.Type != types.VolumeTypeBind {
				continue
			}
			if _, err := os.Stat(v.Source); err != nil {
				t.Errorf("%s: mounts %s, which does not exist: %v", name, v.Source, err)
			}
		}
	}

	// No admin token has a default: compose refuses to start without each.
	for name := range composeEnv {
		env := map[string]string{}
		for k, v := range composeEnv {
			if k != name {
				env[k] = v
			}
		}
		if _, err := loadCompose(t, nil, env); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("docker-compose.yml without %s: %v; want an error naming the variable", name, err)
		}
	}
}

// TestComposeLoaderValidatesTheSchema makes sure the loader above would catch
// what `docker compose config` catches: a misspelt key and a value of the
// wrong type in an otherwise valid file.
func TestComposeLoaderValidatesTheSchema(t *testing.T) {
	data, err := os.ReadFile("../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ name, old, new string }{
		{"misspelt key", "stop_grace_period: 40s", "stop_grace_perod: 40s"},
		{"wrong type", "restart: unless-stopped", "restart: [unless-stopped]"},
		{"unknown dependency", "redis: {condition: service_healthy}", "rediss: {condition: service_healthy}"},
	} {
		t.Run(c.name, func(t *testing.T) {
			if !strings.Contains(string(data), c.old) {
				t.Fatalf("docker-compose.yml has no %q to change", c.old)
			}
			bad := strings.Replace(string(data), c.old, c.new, 1)
			if _, err := loadCompose(t, []byte(bad), composeEnv); err == nil {
				t.Errorf("%q in place of %q loaded without an error", c.new, c.old)
			} else {
				t.Logf("rejected as expected: %v", err)
			}
		})
	}
}

// TestComposeConfigIsValid keeps the file docker-compose.yml mounts in step with
// the configuration schema and with the compose file itself: valid (as
// `config check` judges it) with the environment the services get, on the
// compose services, with the simulator's account and commune, and shut down
// before Docker's SIGKILL.
func TestComposeConfigIsValid(t *testing.T) {
	p := readCompose(t)
	var replicas []string
	for name, s := range p.Services {
		if slices.Equal([]string(s.Command), []string{"serve"}) {
			replicas = append(replicas, name)
		}
	}
	slices.Sort(replicas)
	if len(replicas) < 2 {
		t.Fatalf("docker-compose.yml runs %d serve replicas, want two or more", len(replicas))
	}

	// The configuration each dvcwatch service reads: DVCWATCH_CONFIG, bound
	// from a file of this repository.
	var path string
	for _, name := range append([]string{"migrate"}, replicas...) {
		s := p.Services[name]
		env := map[string]string{}
		for k, v := range s.Environment {
			if v == nil {
				t.Fatalf("%s: %s has no value", name, k)
			}
			env[k] = *v
		}
		var source string
		for _, v := range s.Volumes {
			if v.Type == types.VolumeTypeBind && v.Target == env["DVCWATCH_CONFIG"] {
				source = v.Source
			}
		}
		if source == "" {
			t.Fatalf("%s: DVCWATCH_CONFIG=%q is mounted from no file", name, env["DVCWATCH_CONFIG"])
		}
		if path == "" {
			path = source
		} else if source != path {
			t.Errorf("%s: configuration %s, the others' is %s", name, source, path)
		}
		setenv(t, env)
	}
	if want, _ := filepath.Abs("dvcwatch.compose.yaml"); path != want {
		t.Errorf("the services read %s, want %s", path, want)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatalf("the compose configuration must be valid with the compose environment:\n%v", err)
	}
	if c.Database.Driver != DriverPostgres || c.Redis.Addr != "redis:6379" || c.SMTP.Host != "mailpit" {
		t.Errorf("compose configuration must use the compose services, got database %s, redis %s, smtp %s",
			c.Database.Driver, c.Redis.Addr, c.SMTP.Host)
	}
	for _, k := range c.Connectors {
		if k.BaseURL != "http://portalsim:8700" || k.Username != portalsim.DefaultUsername || k.Password.Reveal() != portalsim.DefaultPassword {
			t.Errorf("connector %s: %s as %s; want the simulator service with its default account", k.Name, k.BaseURL, k.Username)
		}
	}
	for _, tok := range c.Admin.Tokens {
		if got := tok.Token.Reveal(); !slices.Contains(mapValues(composeEnv), got) {
			t.Errorf("admin token %s = %q, want the value of a variable the user sets", tok.Name, got)
		}
	}
	var sim struct {
		Agencies   []Agency    `yaml:"agencies"`
		Procedures []Procedure `yaml:"procedures"`
	}
	ps := portalsim.New(portalsim.Options{Dossiers: 1})
	defer ps.Close()
	text, err := ps.Directory().ConfigYAML()
	if err == nil {
		err = yaml.Unmarshal([]byte(text), &sim)
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Agencies) != 1 || len(sim.Agencies) != 1 {
		t.Fatalf("%d agencies, the simulator has %d; want its one commune", len(c.Agencies), len(sim.Agencies))
	}
	got, want := c.Agencies[0], sim.Agencies[0]
	if got.Code != want.Code || got.Name != want.Name {
		t.Errorf("agency %s %q, the simulator has %s %q", got.Code, got.Name, want.Code, want.Name)
	}
	sameAs(t, "agencies[0].departments", got.Departments, want.Departments)
	sameAs(t, "agencies[0].officials", got.Officials, want.Officials)
	sameAs(t, "procedures", c.Procedures, sim.Procedures)

	// asynq's leases live in Redis (see the field notes).
	if r := strings.Join(p.Services["redis"].Command, " "); !strings.Contains(r, "--appendonly yes") || !strings.Contains(r, "--maxmemory-policy noeviction") {
		t.Errorf("redis: command %q, want --appendonly yes and --maxmemory-policy noeviction", r)
	}
	_, port, _ := strings.Cut(c.Admin.Listen, ":")
	hosts := map[string]bool{}
	for _, name := range replicas {
		s := p.Services[name]
		if s.StopGracePeriod == nil || time.Duration(*s.StopGracePeriod) <= c.ShutdownTimeout {
			t.Errorf("%s: stop_grace_period %v, want more than shutdown_timeout %s", name, s.StopGracePeriod, c.ShutdownTimeout)
		}
		if s.HealthCheck == nil || !slices.Contains([]string(s.HealthCheck.Test), "http://127.0.0.1:"+port+"/readyz") {
			t.Errorf("%s: healthcheck %v, want GET /readyz on admin.listen's port %s", name, s.HealthCheck, port)
		}
		if len(s.Ports) != 1 || s.Ports[0].Target == 0 || port != strconvU(s.Ports[0].Target) || hosts[s.Ports[0].Published] {
			t.Errorf("%s: ports %+v, want admin.listen's port %s published on a host port of its own", name, s.Ports, port)
		}
		for _, p := range s.Ports {
			hosts[p.Published] = true
		}
	}
}

func mapValues(m map[string]string) []string {
	var vs []string
	for _, v := range m {
		vs = append(vs, v)
	}
	return vs
}

func strconvU(n uint32) string { return fmt.Sprint(n) }
