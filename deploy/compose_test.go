package deploy

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestComposeNamesRealFiles: every local file or folder docker-compose.yml
// names exists, except the operator's secrets, which are ignored by git
// and documented in deploy/README.md; the Dockerfile is multi-stage and
// copies only what exists; every service command is a binary of cmd/.
// (The format itself is validated by docker-compose config in the test
// command.)
func TestComposeNamesRealFiles(t *testing.T) {
	compose, err := os.ReadFile("../docker-compose.yml")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	gitignore, err := os.ReadFile("../.gitignore")
	if err != nil {
		t.Fatal(err)
	}
	paths := regexp.MustCompile(`\./(deploy/[A-Za-z0-9_.\-/]+)`).FindAllStringSubmatch(string(compose), -1)
	if len(paths) < 3 {
		t.Fatalf("names only %v", paths)
	}
	for _, m := range paths {
		p := m[1]
		if strings.HasPrefix(p, "deploy/secrets/") {
			if !strings.Contains(string(readme), filepath.Base(p)) {
				t.Errorf("secret %s is not documented in deploy/README.md", p)
			}
			continue
		}
		if _, err := os.Stat(filepath.Join("..", p)); err != nil {
			t.Errorf("docker-compose.yml names %s: %v", p, err)
		}
	}
	if !strings.Contains(string(gitignore), "/deploy/secrets/") {
		t.Error("deploy/secrets/ is not ignored by git")
	}
	if !strings.Contains(string(compose), "build: .") {
		t.Error("the services are not built from the Dockerfile")
	}
	for _, m := range regexp.MustCompile(`command: \["([a-z]+)"`).FindAllStringSubmatch(string(compose), -1) {
		if _, err := os.Stat(filepath.Join("..", "cmd", m[1], "main.go")); err != nil {
			t.Errorf("service command %s is not a binary of cmd/", m[1])
		}
	}

	docker, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	if n := regexp.MustCompile(`(?m)^FROM `).FindAllIndex(docker, -1); len(n) < 2 {
		t.Errorf("the Dockerfile has %d stages, want a multi-stage build", len(n))
	}
	for _, m := range regexp.MustCompile(`(?m)^COPY (deploy/\S+)`).FindAllStringSubmatch(string(docker), -1) {
		if _, err := os.Stat(filepath.Join("..", m[1])); err != nil {
			t.Errorf("the Dockerfile copies %s: %v", m[1], err)
		}
	}
}
