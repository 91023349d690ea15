package sealing_test

import (
	"testing"
	"time"

	"github.com/madoguchi/madoguchi/internal/storage"
)

// TestKeyOverlapIsThirtyDays pins the overlap the README and
// docs/SEALING.md promise: a replaced key still opens notices for 30 days.
// The registry's own tests (internal/storage) check that rotation and
// pruning follow storage.SealingKeyOverlap; this pins its value, so that a
// shorter overlap, which strands notices in transit, fails a test.
func TestKeyOverlapIsThirtyDays(t *testing.T) {
	const documented = 30 * 24 * time.Hour
	if storage.SealingKeyOverlap != documented {
		t.Fatalf("storage.SealingKeyOverlap is %v, want %v (30 days, as documented)", storage.SealingKeyOverlap, documented)
	}
}
