// Package certlint runs zlint over the CA's certificates in tests.
//
// Only the RFC 5280, RFC 5480, RFC 5891, RFC 8813 and community lints are
// run. The CA/Browser Forum and ETSI lints are for the Web PKI and
// qualified-certificate regimes, which JPKI is not part of; on our
// certificates they fire by design (OU in a CA subject, no CN in a CA
// subject, validity over 398 days, an otherName in subjectAltName, a
// locality in a subscriber subject, ...). docs/CA.md lists them.
package certlint

import (
	"fmt"
	"sort"

	zx509 "github.com/zmap/zcrypto/x509"
	"github.com/zmap/zlint/v3"
	"github.com/zmap/zlint/v3/lint"
)

// Sources are the lint sources that apply to JPKI certificates.
var Sources = lint.SourceList{lint.RFC5280, lint.RFC5480, lint.RFC5891, lint.RFC8813, lint.Community}

// Finding is one warning or error.
type Finding struct {
	Lint    string
	Status  string
	Details string
}

func (f Finding) String() string { return fmt.Sprintf("%s %s %s", f.Status, f.Lint, f.Details) }

// Lint returns the warnings, errors and fatal results of the applicable lints
// for a DER certificate, sorted by lint name, and how many lints applied.
func Lint(der []byte) (findings []Finding, applied int, err error) {
	cert, err := zx509.ParseCertificate(der)
	if err != nil {
		return nil, 0, fmt.Errorf("certlint: parse: %w", err)
	}
	reg, err := lint.GlobalRegistry().Filter(lint.FilterOptions{IncludeSources: Sources})
	if err != nil {
		return nil, 0, fmt.Errorf("certlint: registry: %w", err)
	}
	res := zlint.LintCertificateEx(cert, reg)
	for name, r := range res.Results {
		switch r.Status {
		case lint.NA, lint.NE:
			continue
		case lint.Warn, lint.Error, lint.Fatal:
			findings = append(findings, Finding{Lint: name, Status: r.Status.String(), Details: r.Details})
		}
		applied++
	}
	sort.Slice(findings, func(i, j int) bool { return findings[i].Lint < findings[j].Lint })
	return findings, applied, nil
}
