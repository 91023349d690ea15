// Package deploy holds the production unit files and their examples; its
// test checks them.
package deploy

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// unit is a parsed systemd unit file: section → key → values (a key may
// repeat).
type unit map[string]map[string][]string

func parseUnit(t *testing.T, path string) unit {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	u := unit{}
	section := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = line[1 : len(line)-1]
			u[section] = map[string][]string{}
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok || section == "" {
				t.Fatalf("%s:%d: not a key=value in a section: %q", path, n, line)
			}
			u[section][strings.TrimSpace(k)] = append(u[section][strings.TrimSpace(k)], strings.TrimSpace(v))
		}
	}
	return u
}

func (u unit) get(section, key string) string {
	v := u[section][key]
	if len(v) == 0 {
		return ""
	}
	return v[len(v)-1]
}

// services are the long-running commands, by unit.
var services = map[string]string{
	"madoguchi-gateway.service": "gateway", "madoguchi-worker.service": "worker", "madoguchi-caworker.service": "caworker",
	"madoguchi-repository.service": "repository", "madoguchi-cardagent@.service": "cardagent",
}

// TestUnits: each service has its unit; each unit restarts on failure with
// a start limit, is hardened, runs as the madoguchi user, starts a binary
// of cmd/, and reads an environment file that has an example here.
func TestUnits(t *testing.T) {
	files, _ := filepath.Glob("systemd/*.service")
	var names []string
	for _, f := range files {
		names = append(names, filepath.Base(f))
	}
	for name := range services {
		if !slices.Contains(names, name) {
			t.Errorf("no unit %s", name)
		}
	}
	want := map[string]string{
		"Restart": "on-failure", "NoNewPrivileges": "yes", "PrivateTmp": "yes", "ProtectSystem": "strict",
		"ProtectHome": "yes", "User": "madoguchi", "UMask": "0077", "CapabilityBoundingSet": "",
	}
	for _, f := range files {
		u := parseUnit(t, f)
		name := filepath.Base(f)
		bin, ok := services[name]
		if !ok {
			t.Errorf("%s: not a known service", name)
			continue
		}
		for k, v := range want {
			if _, set := u["Service"][k]; !set || u.get("Service", k) != v {
				t.Errorf("%s: [Service] %s=%q, want %q", name, k, u.get("Service", k), v)
			}
		}
		if u.get("Service", "RestartSec") == "" || u.get("Unit", "StartLimitBurst") == "" || u.get("Unit", "StartLimitIntervalSec") == "" {
			t.Errorf("%s: no restart delay or start limit", name)
		}
		exec := strings.Fields(u.get("Service", "ExecStart"))
		if len(exec) == 0 || exec[0] != "/opt/madoguchi/bin/"+bin {
			t.Errorf("%s: ExecStart %v, want /opt/madoguchi/bin/%s", name, exec, bin)
		}
		if _, err := os.Stat(filepath.Join("..", "cmd", bin, "main.go")); err != nil {
			t.Errorf("%s: no command cmd/%s", name, bin)
		}
		env := u.get("Service", "EnvironmentFile")
		example := strings.TrimSuffix(strings.ReplaceAll(filepath.Base(env), "-%i", ""), ".env") + ".env.example"
		if !strings.HasPrefix(env, "/etc/madoguchi/") {
			t.Errorf("%s: EnvironmentFile %q is not under /etc/madoguchi", name, env)
		} else if _, err := os.Stat(filepath.Join("env", example)); err != nil {
			t.Errorf("%s: no example env/%s", name, example)
		}
		if u.get("Install", "WantedBy") != "multi-user.target" {
			t.Errorf("%s: not wanted by multi-user.target", name)
		}
	}
}

// TestEnvExamples: the examples set only variables a program reads (named
// in internal/config or cmd/), hold no real secret, and every secret-looking
// value is the CHANGE-ME placeholder.
func TestEnvExamples(t *testing.T) {
	read := map[string]bool{}
	nameRE := regexp.MustCompile(`"(MADOGUCHI_[A-Z0-9_]+)"`)
	for _, dir := range []string{"../internal/config", "../cmd/cardagent", "../internal/codec"} {
		files, _ := filepath.Glob(filepath.Join(dir, "*.go"))
		for _, f := range files {
			b, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			for _, m := range nameRE.FindAllStringSubmatch(string(b), -1) {
				read[m[1]] = true
			}
		}
	}
	// Read by the units' ExecStart, not by a program.
	read["MADOGUCHI_READER"], read["MADOGUCHI_PANEL_ADDR"] = true, true
	examples, _ := filepath.Glob("env/*.env.example")
	if len(examples) < 5 {
		t.Fatalf("examples: %v", examples)
	}
	for _, f := range examples {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for n, line := range strings.Split(string(b), "\n") {
			line = strings.TrimSpace(line)
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			k, v, ok := strings.Cut(line, "=")
			if !ok || !read[k] {
				t.Errorf("%s:%d: %q is not a variable a program reads", f, n+1, k)
			}
			if (strings.Contains(k, "PIN") || strings.Contains(v, "://")) && !strings.Contains(v, "CHANGE-ME") && strings.Contains(v, "@") {
				t.Errorf("%s:%d: a credential that is not the placeholder: %s", f, n+1, k)
			}
			if strings.Contains(k, "PIN") && v != "CHANGE-ME" {
				t.Errorf("%s:%d: %s is not the placeholder", f, n+1, k)
			}
		}
	}
}
