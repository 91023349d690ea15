package ca

import (
	"context"
	"fmt"
)

// PartitionCRLs publishes the first CRL of a CRL partition, so that the
// distribution point a certificate names answers from the moment the
// certificate exists. *crl.Publisher implements it (package internal/crl,
// which cannot be imported here: its tests build a CA).
type PartitionCRLs interface {
	// EnsurePartition makes sure a current CRL of the active CA of kind
	// covers partition as named under repositoryURL, issuing one (with the
	// business key runID) when none does. It returns quickly when one does.
	EnsurePartition(ctx context.Context, kind Kind, partition, repositoryURL, runID string) error
}

type partitionCRLs struct{ p PartitionCRLs }

// SetPartitionCRLs makes every issuance first ensure its partition's CRL
// (PartitionCRLs). The CA worker sets it at start; without it certificates
// are issued as before and a new partition's CRL appears with the next
// publication. It may be called at any time; nil turns it off.
func (c *CA) SetPartitionCRLs(p PartitionCRLs) {
	if p == nil {
		c.crls.Store(nil)
		return
	}
	c.crls.Store(&partitionCRLs{p: p})
}

// ensurePartitionCRL runs before a reservation is signed. A failure leaves
// the reservation for the retry, which completes it with the same serial.
func (c *CA) ensurePartitionCRL(ctx context.Context, row *certRow) error {
	h := c.crls.Load()
	if h == nil {
		return nil
	}
	if err := h.p.EnsurePartition(ctx, row.Kind, row.CRLPartition, row.RepositoryURL, "issuance/"+row.Serial); err != nil {
		return fmt.Errorf("ca: CRL of partition %s/%s before issuing %s: %w", row.Kind, row.CRLPartition, row.Serial, err)
	}
	return nil
}
