package workflows

import (
	"path/filepath"
	"strings"
	"testing"

	"go.temporal.io/sdk/worker"
)

// TestReplayRecordedHistories replays the histories recorded from real runs
// of the procedures against the current code, with every procedure of the
// catalog registered: a change that would break a running case fails here
// and needs workflow.GetVersion (see the versioning policy in workflows/kit).
//
// It derives from the catalog: every entry needs at least one
// testdata/<entry.Name>-<ending>.history.json (decoded, demo data only;
// the integration run writes them when MADOGUCHI_RECORD_HISTORIES is set),
// and every history there must belong to an entry. Histories retired on
// purpose live in testdata/retired and are not replayed.
func TestReplayRecordedHistories(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.history.json"))
	if err != nil {
		t.Fatal(err)
	}
	byEntry := map[string][]string{}
	for _, f := range files {
		name := entryOf(filepath.Base(f))
		if name == "" {
			t.Errorf("%s is the history of no procedure of the catalog (retire it to testdata/retired)", f)
			continue
		}
		byEntry[name] = append(byEntry[name], f)
	}
	for _, p := range Catalog {
		t.Run(p.Name, func(t *testing.T) {
			if len(byEntry[p.Name]) == 0 {
				t.Fatalf("no recorded history for %s: add testdata/%s-<ending>.history.json from a real run", p.Name, p.Name)
			}
			for _, f := range byEntry[p.Name] {
				t.Run(filepath.Base(f), func(t *testing.T) {
					r := worker.NewWorkflowReplayer()
					RegisterAll(r)
					if err := r.ReplayWorkflowHistoryFromJSONFile(nil, f); err != nil {
						t.Fatalf("replay %s: %v", f, err)
					}
				})
			}
		})
	}
}

// entryOf names the catalog entry a history file belongs to: the longest
// name that, followed by "-", starts the file's name.
func entryOf(file string) string {
	best := ""
	for _, p := range Catalog {
		if strings.HasPrefix(file, p.Name+"-") && len(p.Name) > len(best) {
			best = p.Name
		}
	}
	return best
}

// TestReplayFilesBelongToTheirEntry checks entryOf, so a history is never
// replayed as another procedure's nor skipped.
func TestReplayFilesBelongToTheirEntry(t *testing.T) {
	for file, want := range map[string]string{
		"inperson-issuance-completed.history.json": ProcedureInPersonIssuance,
		"proxy-issuance-lapsed.history.json":       ProcedureProxyIssuance,
		"relay-forwarding-cancelled.history.json":  ProcedureRelayForwarding,
		"relay-issuance-failed.history.json":       ProcedureRelayIssuance,
		"relay-completed.history.json":             "",
		"inperson-issuance.history.json":           "",
	} {
		if got := entryOf(file); got != want {
			t.Errorf("entryOf(%q) = %q, want %q", file, got, want)
		}
	}
}
