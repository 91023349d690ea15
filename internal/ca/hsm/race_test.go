package hsm_test

import (
	"bytes"
	"crypto"
	"crypto/sha256"
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/madoguchi/madoguchi/internal/ca/hsm"
	"github.com/madoguchi/madoguchi/internal/ca/hsmtest"
)

// The child mode of this test binary: set, TestOpenRaceChild opens the token
// named by the environment once, as a CA worker or a repository does at
// start, and reports on stdout.
const (
	envRaceChild = "MADOGUCHI_HSM_RACE_CHILD"
	envRaceAt    = "MADOGUCHI_HSM_RACE_AT" // Unix nanoseconds at which to open
	raceKey      = "race-key"
)

var ckrRE = regexp.MustCompile(`ckr="([^"]+)"`)

// TestOpenRace opens one SoftHSM token from 3 processes at once, 30 rounds,
// through hsm.Open: SoftHSM's file object store can be read half-written by
// processes that open it at the same moment (issue 14), and every open must
// still succeed. The children are this test binary re-executed; they wait
// for a common instant so that their opens overlap.
func TestOpenRace(t *testing.T) {
	const (
		procs  = 3
		rounds = 30
	)
	cfg := hsmtest.NewToken(t)
	h, err := hsm.Open(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := h.GenerateRSAKey(raceKey, 2048); err != nil {
		t.Fatal(err)
	}
	// Closed so that the children are the only users of the token.
	if err := h.Close(); err != nil {
		t.Fatal(err)
	}
	env := append(os.Environ(),
		envRaceChild+"=1",
		hsm.EnvModule+"="+cfg.Module,
		hsm.EnvToken+"="+cfg.TokenLabel,
		hsm.EnvPIN+"="+cfg.PIN,
		hsm.EnvSoftHSMConf+"="+cfg.SoftHSMConf,
	)
	var failures, retries int
	codes := map[string]int{} // PKCS#11 return values of the retried failures
	for round := 0; round < rounds; round++ {
		// Far enough ahead that every child has started and waits.
		at := time.Now().Add(300 * time.Millisecond).UnixNano()
		outs := make([]bytes.Buffer, procs)
		errs := make([]error, procs)
		var wg sync.WaitGroup
		for p := 0; p < procs; p++ {
			cmd := exec.Command(os.Args[0], "-test.run=^TestOpenRaceChild$", "-test.count=1")
			cmd.Env = append(env, envRaceAt+"="+strconv.FormatInt(at, 10))
			cmd.Stdout, cmd.Stderr = &outs[p], &outs[p]
			wg.Add(1)
			go func(p int) {
				defer wg.Done()
				errs[p] = cmd.Run()
			}(p)
		}
		wg.Wait()
		for p := 0; p < procs; p++ {
			out := outs[p].String()
			retries += strings.Count(out, "hsm: open failed, retrying")
			for _, m := range ckrRE.FindAllStringSubmatch(out, -1) {
				codes[m[1]]++
			}
			if errs[p] != nil || !strings.Contains(out, "child: opened and signed") {
				failures++
				t.Errorf("round %d, process %d: %v\n%s", round, p, errs[p], out)
			}
		}
	}
	t.Logf("%d opens from %d processes at once: %d failed, %d transient failures retried %v", procs*rounds, procs, failures, retries, codes)
}

// TestOpenRaceChild is the child of TestOpenRace; it does nothing unless run as one.
func TestOpenRaceChild(t *testing.T) {
	if os.Getenv(envRaceChild) == "" {
		// Only TestOpenRace's child processes run it; a plain return, not a
		// skip, since CI fails on skips.
		return
	}
	at, err := strconv.ParseInt(os.Getenv(envRaceAt), 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(time.Until(time.Unix(0, at)))
	cfg, err := hsm.ConfigFromEnv()
	if err != nil {
		t.Fatal(err)
	}
	h, err := hsm.Open(cfg)
	if err != nil {
		t.Fatalf("child: open: %v", err)
	}
	defer h.Close()
	s, err := h.FindRSAKey(raceKey, 2048)
	if err != nil {
		t.Fatalf("child: find key: %v", err)
	}
	d := sha256.Sum256([]byte("race"))
	if _, err := s.Sign(nil, d[:], crypto.SHA256); err != nil {
		t.Fatalf("child: sign: %v", err)
	}
	fmt.Println("child: opened and signed")
}
