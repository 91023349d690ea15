//go:build !madoguchi_faults

package ca

import "context"

// holdAt does nothing in a production build: no environment variable can
// stop the CA inside Issue.
func (c *CA) holdAt(context.Context, faultPoint, *certRow) {}
